"""The managers' imports screen: a file sent from the keyboard, its refusal read row by
row, the corrected file followed to done by its progress bar; and who may see it."""

import re

import pytest
from playwright.sync_api import expect

from catalog.models import Product
from imports.models import ImportJob
from imports.services import import_job_run
from tests.conftest import axe_clean, sign_in_by_keyboard

WRONG = "code,name,is_active\nTEE,Tee,true\nHOOD,,maybe\nCAP,Cap,false\n"
CODES = ["TEE", "HOOD", "CAP"]
RIGHT = "code,name,is_active\nTEE,Tee,true\nHOOD,Hoodie,true\nCAP,Cap,false\n"


def tab_to(page, locator, presses: int = 60) -> None:
    for _ in range(presses):
        if locator.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


def send_by_keyboard(page, path, kind_label: str) -> None:
    """Choose the kind, tab to the file input and give it the file, send with Enter
    on the button."""
    kind = page.get_by_label("What the file holds")
    tab_to(page, kind)
    kind.select_option(
        label=kind_label
    )  # the keyboard's choice, as Playwright types it
    chooser = page.get_by_label("File", exact=True)
    tab_to(page, chooser)
    # The system's file dialog is not the page's: the file is given to the focused
    # input as the dialog would give it.
    chooser.set_input_files(str(path))
    tab_to(page, page.get_by_role("button", name="Send the file"))
    page.keyboard.press("Enter")


@pytest.mark.django_db(transaction=True)
def test_a_manager_sends_a_file_reads_the_refusal_and_sends_it_right(
    shop, tablet, tmp_path, monkeypatch
):
    """Maria sends a products file with one wrong row: nothing is written and the
    job's page names line 3, the name and the flag, in words. She sends the corrected
    file; its progress bar follows the worker to done."""
    # The worker is this test: a job waits queued until the test runs it.
    monkeypatch.setattr("imports.tasks.job_kick", lambda job_id: False)
    page = tablet
    sign_in_by_keyboard(page, "maria")
    page.goto("/store/imports/")
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    axe_clean(page)
    page.shot("imports-empty")

    wrong = tmp_path / "products.csv"
    wrong.write_text(WRONG)
    send_by_keyboard(page, wrong, "Products")
    expect(page.get_by_role("heading", name=re.compile("Import #"))).to_be_visible()
    expect(page.locator("#import-status")).to_contain_text("Waiting")
    import_job_run(job_id=ImportJob.objects.get().pk)
    expect(page.locator("#import-status")).to_contain_text("Refused", timeout=5000)
    errors = page.locator("#row-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("name")
    expect(errors.nth(1)).to_contain_text("Must be true or false.")
    expect(page.get_by_role("alert")).to_contain_text("nothing was written")
    assert not Product.objects.filter(code__in=CODES).exists()
    axe_clean(page)
    page.shot("refused")

    tab_to(page, page.get_by_role("link", name="Send the corrected file"))
    page.keyboard.press("Enter")
    right = tmp_path / "products-corrected.csv"
    right.write_text(RIGHT)
    send_by_keyboard(page, right, "Products")
    expect(page.locator("#import-status")).to_contain_text("Waiting")
    page.shot("queued")
    import_job_run(job_id=ImportJob.objects.get(file_name="products-corrected.csv").pk)
    expect(page.locator("#import-status")).to_contain_text("Done", timeout=5000)
    expect(page.locator("#import-status")).to_contain_text("3 rows written")
    expect(page.locator("progress")).to_have_attribute("value", "100")
    assert Product.objects.filter(code__in=CODES).count() == 3
    page.shot("done")

    page.goto("/store/imports/")
    expect(page.locator("#import-jobs tbody tr")).to_have_count(2)
    expect(
        page.get_by_role("link", name=re.compile("Products \\(products.csv\\)"))
    ).to_be_visible()
    axe_clean(page)
    page.shot("jobs")


@pytest.mark.django_db
def test_the_imports_screen_is_a_managers(shop, client):
    client.force_login(shop["alice"])
    assert client.get("/store/imports/").status_code == 404
    client.force_login(shop["maria"])
    assert client.get("/store/imports/").status_code == 200


@pytest.mark.django_db
def test_a_file_of_the_wrong_shape_is_said_in_words(shop, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(shop["maria"])
    response = client.post(
        "/store/imports/",
        {"kind": "products", "file": SimpleUploadedFile("p.csv", b"sku,qty\n1,2\n")},
    )

    assert response.status_code == 400
    assert "Unknown columns sku, qty" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_said_in_words(shop, client, settings):
    """Maria sends a products file past the size limit: the screen says how big it
    is and to split it; no job is made."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.IMPORT_MAX_FILE_MB = 1
    big = b"code,name\n" + b"x" * (1024 * 1024)
    client.force_login(shop["maria"])
    response = client.post(
        "/store/imports/",
        {"kind": "products", "file": SimpleUploadedFile("p.csv", big)},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "The file is 1.0 MB: at most 1 MB per file." in page
    assert "Split it into several files" in page
    assert not ImportJob.objects.exists()
