"""The exception queue and the blind count in a real browser (Debian's Chromium driven
by Playwright, at a tablet's, a phone's and a till PC's size); every step saved under
test-output/screenshots/<test>/ for a person to look at. The stories of the shop
floor are driven by the keyboard alone, as a scanner (types a code fast, then Enter)
and a person without a mouse do."""

import re

import pytest
from playwright.sync_api import expect

from config.access import Actor
from inventory.models import MovementType
from reconciliation.models import ExceptionCase
from reconciliation.services import exception_comment
from reconciliation.services.counts import (
    count_line_set,
    count_task_start,
    count_task_submit,
)
from reconciliation.services.runs import (
    reconciliation_run_perform,
    reconciliation_run_start,
)
from tests.conftest import axe_clean, go_to, no_sideways_scroll, scan, sign_in
from tests.factories import ChannelFactory, StockEvents, balance_of, pickup_order, stock
from tests.reconciliation.snapshots import page as snapshot_page
from tests.reconciliation.snapshots import send

TEE_BARCODE = "5012345678900"


def tab_to(page, target, limit: int = 80) -> None:
    """Press Tab, as a keyboard does, until ``target`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def selected_whole(field) -> bool:
    """The field's text is all selected: the next scan replaces it."""
    return field.evaluate(
        "f => f === document.activeElement && f.value.length > 0"
        " && f.selectionStart === 0 && f.selectionEnd === f.value.length"
    )


def oversell_at_oxford(shop, sku="tee", reference="WEB-2001") -> None:
    """The last one at Oxford Street promised online, then sold at the till."""
    stock(shop[sku], shop["oxford"], 1)
    pickup_order(shop, reference=reference, lines=[(shop[sku], 1)])
    StockEvents.post(
        MovementType.SALE,
        sku=shop[sku],
        location=shop["oxford"],
        quantity=1,
        channel=ChannelFactory(code="oxf-till", kind="store_pos"),
    )


@pytest.mark.django_db(transaction=True)
def test_the_manager_works_an_oversell_from_the_queue(shop, tablet):
    oversell_at_oxford(shop)
    stock(shop["hoodie"], shop["camden"], 2)
    page = tablet

    sign_in(page, "maria")
    go_to(page, "Exceptions")
    expect(page.get_by_role("heading", name=re.compile("Exceptions"))).to_be_visible()
    row = page.get_by_role("link", name=re.compile("TEE-BLK-M at LON-OXF"))
    expect(row).to_be_visible()
    page.shot("the-queue")

    page.get_by_label("Kind").select_option("count_variance")
    expect(page.locator("#exception-list")).to_contain_text("Nothing here")
    page.shot("filtered-to-nothing")
    page.get_by_label("Kind").select_option("oversell_conflict")
    expect(row).to_be_visible()
    assert "kind=oversell_conflict" in page.url  # the filter is in the address

    row.click()
    expect(
        page.get_by_role("heading", name=re.compile("Oversell conflict"))
    ).to_be_visible()
    page.get_by_label("Assign to").select_option(label="Alice")
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("Assigned.")
    expect(page.locator("#case-timeline")).to_contain_text("To Alice.")
    page.get_by_label("Comment").fill("Alice: one was behind the till")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".timeline")).to_contain_text("one was behind the till")
    expect(page.locator(".timeline")).to_contain_text("Maria")  # a name, not user:maria

    adjustment = page.get_by_label("Change on-hand at Oxford Street by")
    expect(adjustment).to_be_hidden()  # only with "Stock adjusted"
    page.get_by_label("How was it resolved?").select_option("stock_adjusted")
    expect(adjustment).to_have_value("1")  # the shortfall, from the case's facts
    adjustment.fill("")
    page.get_by_role("button", name="Resolve").click()  # nothing to post: no question
    expect(page.get_by_role("alert")).to_contain_text("Enter the units to add")
    expect(adjustment).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("How was it resolved?")).to_have_value("stock_adjusted")
    page.shot("adjustment-missing")
    adjustment.fill("1")
    page.get_by_label("Note").fill("Found behind the till")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator("#confirm")).to_contain_text(
        "Post +1 of TEE-BLK-M at Oxford Street to the ledger?"
    )
    page.get_by_role("button", name="Post +1 to the ledger").click()
    expect(page.get_by_role("status")).to_contain_text("Resolved.")
    expect(page.locator(".facts")).to_contain_text("+1 unit posted to the ledger")
    page.shot("resolved-with-adjustment")

    assert ExceptionCase.objects.get().status == "resolved"
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 1


@pytest.mark.django_db(transaction=True)
def test_a_blind_count_by_scanning_then_a_recount(shop, tablet):
    stock(shop["tee"], shop["oxford"], 3)
    stock(shop["hoodie"], shop["oxford"], 1)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L"],
        note="Morning check",
        actor=Actor.of_user(shop["maria"]),
    )
    page = tablet

    sign_in(page, "alice")
    go_to(page, "Counts")
    page.get_by_role("link", name=re.compile(f"#{task.pk}")).click()
    expect(
        page.get_by_role("heading", name=re.compile(f"Count #{task.pk}"))
    ).to_be_visible()
    field = page.get_by_label("Scan or type a barcode")
    expect(field).to_be_focused()
    tee = page.locator("#line-" + str(task.lines.get(sku=shop["tee"]).pk))
    said = page.locator("#code-said")  # beside the field, read out
    for _ in range(2):
        scan(page, TEE_BARCODE)
    expect(tee).to_contain_text("2")
    scan(page, "0000000000")
    # Refused: said beside the field, the code kept there, marked and selected.
    expect(said).to_have_text("0000000000 is not on this count.")
    expect(said).to_have_attribute("role", "status")
    expect(field).to_have_value("0000000000")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert selected_whole(field)
    page.shot("unknown-code-kept")
    scan(page, TEE_BARCODE)  # replaces the refused code; lands, and clears the mark
    expect(said).to_have_text("TEE-BLK-M: 3 counted.")
    expect(tee).to_contain_text("3")
    expect(field).to_have_value("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    page.shot("scanned-three-tees")
    assert "records" not in page.content()  # blind: nothing says what the system holds

    page.get_by_role("button", name="Finish the count").click()
    expect(page.locator("#confirm")).to_contain_text(
        "1 of 2 items not scanned: it will be recorded as none found."
    )
    page.get_by_role("button", name="Finish: 1 none found").click()
    expect(page.get_by_role("status").first).to_contain_text("count them once more")
    page.shot("recount-asked")
    page.get_by_label("Units of HOOD-GRE-L").fill("1")
    page.get_by_role("button", name="Set HOOD-GRE-L").click()
    expect(page.locator("#count-lines")).to_contain_text("HOOD-GRE-L: 1 counted.")
    expect(field).to_be_focused()  # back in the scanner's field after a correction
    page.get_by_role(
        "button", name="Finish the count"
    ).click()  # all counted: no question
    expect(page.get_by_role("status").first).to_contain_text("Count done")
    page.shot("count-done")

    task.refresh_from_db()
    assert task.status == "done"
    assert balance_of(shop["hoodie"], shop["oxford"]).last_count_at is not None

    page.goto("/store/accuracy/")
    expect(page.locator(".ira-overall")).to_contain_text("100.0 %")
    page.shot("accuracy")


@pytest.mark.django_db(transaction=True)
def test_a_blind_count_on_a_phone_finished_early_asks_first(shop, phone):
    """Keyboard only: the menu, the count, scans at scanner speed, and Finish with
    two items not scanned: asked, gone back from once, then confirmed."""
    stock(shop["tee"], shop["oxford"], 2)  # no hoodies nor polos here: none is right
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L", "POLO-BLU-M"],
        note="Before opening",
        actor=Actor.of_user(shop["maria"]),
    )
    page = phone

    sign_in(page, "alice")
    tab_to(page, page.get_by_role("link", name="Menu"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="Counts", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Counts"))).to_be_visible()
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("counts")
    tab_to(page, page.get_by_role("link", name=re.compile(f"#{task.pk}")))
    page.keyboard.press("Enter")

    field = page.get_by_label("Scan or type a barcode")
    expect(field).to_be_focused()  # the screen put the focus where the scanner types
    page.keyboard.press("Enter")  # a scanner's stray Enter in the empty field
    expect(page.locator("#count-lines")).to_contain_text("0 of 3 counted")
    said = page.locator("#code-said")
    scan(page, "NOPE-123")
    expect(said).to_have_text("NOPE-123 is not on this count.")
    expect(field).to_have_value("NOPE-123")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert selected_whole(field)
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("unknown-code-kept")
    # At scanner speed, a refusal among them: every good scan lands, and no code is
    # ever added to the end of a refused one.
    scan(page, TEE_BARCODE)
    scan(page, "NOPE-123")
    scan(page, TEE_BARCODE)
    tee = page.locator("#line-" + str(task.lines.get(sku=shop["tee"]).pk))
    expect(tee).to_contain_text("2")
    expect(said).to_have_text("TEE-BLK-M: 2 counted.")
    expect(field).to_have_value("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#count-lines")).to_contain_text("1 of 3 counted")
    expect(field).to_be_focused()
    no_sideways_scroll(page)
    axe_clean(page)
    page.shot("two-tees-scanned")

    finish = page.get_by_role("button", name="Finish the count")
    tab_to(page, finish)
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        "2 of 3 items not scanned: they will be recorded as none found."
    )
    page.shot("asked-before-finishing")
    page.keyboard.press("Enter")  # the focus starts on "Go back"
    expect(dialog).to_be_hidden()
    task.refresh_from_db()
    assert task.status == "open"  # nothing was sent
    expect(finish).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")  # to "Finish: 2 none found"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Count done")
    no_sideways_scroll(page)
    page.shot("count-done")

    task.refresh_from_db()
    assert task.status == "done"
    assert sorted(task.lines.values_list("sku__code", "counted")) == [
        ("HOOD-GRE-L", 0),
        ("POLO-BLU-M", 0),
        ("TEE-BLK-M", 2),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_manager_adjusts_the_stock_from_the_exception_queue(shop, till, till_pc):
    """Keyboard only, at a till PC: the tills' end-of-day file counted 3 tees where
    the ledger holds 5; the manager filters the queue, opens the case, chooses
    "Stock adjusted", finds -2 already there, confirms, and the ledger says 3."""
    stock(shop["tee"], shop["oxford"], 5)
    answer = send(till, snapshot_page([("TEE-BLK-M", "LON-OXF", 3)]))
    assert answer.status_code == 201, answer.json()
    run = reconciliation_run_start(trigger="nightly", actor=Actor.system("test"))
    reconciliation_run_perform(run_id=run.pk)
    oversell_at_oxford(shop, "hoodie")  # another case in the queue, of another kind
    page = till_pc

    sign_in(page, "maria")
    tab_to(page, page.get_by_role("link", name="Exceptions", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Exceptions"))).to_be_visible()
    expect(page.locator("#exception-list")).to_contain_text("2 open cases")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("the-queue")

    tab_to(page, page.get_by_label("Kind"))
    page.keyboard.type("External")  # a closed select picks by its first letters
    expect(page.locator("#exception-list")).to_contain_text("1 open case")
    assert "kind=snapshot_disagreement" in page.url
    case = page.get_by_role("link", name=re.compile("TEE-BLK-M at LON-OXF"))
    tab_to(page, case)
    page.shot("filtered")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name=re.compile("snapshot"))).to_be_visible()
    axe_clean(page)
    no_sideways_scroll(page)
    resolution = page.get_by_label("How was it resolved?")
    tab_to(page, resolution)
    page.keyboard.type("Stock a")
    adjustment = page.get_by_label("Change on-hand at Oxford Street by")
    expect(adjustment).to_be_visible()
    expect(adjustment).to_have_value("-2")  # what the tills counted against the ledger
    axe_clean(page)
    page.shot("adjustment-pre-filled")
    tab_to(page, page.get_by_label("Note"))
    page.keyboard.type("Counted the shelf: 3, as the tills said")
    tab_to(page, page.get_by_role("button", name="Resolve"))
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm")
    expect(dialog).to_contain_text(
        "Post -2 of TEE-BLK-M at Oxford Street to the ledger?"
    )
    page.shot("asked-before-posting")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Resolved.")
    expect(page.get_by_role("status")).to_be_focused()
    expect(page.locator(".facts")).to_contain_text("-2 units posted to the ledger")
    page.shot("resolved")

    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 3
    resolved = ExceptionCase.objects.get(kind="snapshot_disagreement")
    assert (resolved.status, resolved.adjustment.quantity) == ("resolved", -2)


@pytest.mark.django_db(transaction=True)
def test_the_queue_and_a_case_follow_what_others_do(shop, tablet):
    """Another manager comments while one types; new cases arrive in a filtered
    list. Nothing typed or chosen is wiped."""
    oversell_at_oxford(shop)
    case = ExceptionCase.objects.get()
    page = tablet
    sign_in(page, "maria")
    page.goto(f"/store/exceptions/{case.pk}/")
    page.get_by_label("Comment").fill("Half typed")
    page.get_by_label("How was it resolved?").select_option("stock_found")
    exception_comment(
        case_id=case.pk,
        text="Bob: checked the stockroom",
        actor=Actor.of_user(shop["bob"]),
    )
    expect(page.locator("#case-timeline")).to_contain_text(
        "checked the stockroom", timeout=12_000
    )
    expect(page.get_by_label("Comment")).to_have_value("Half typed")
    expect(page.get_by_label("How was it resolved?")).to_have_value("stock_found")
    page.shot("a-comment-arrived")

    page.goto("/store/exceptions/?location=LON-OXF&kind=oversell_conflict")
    expect(page.locator("#exception-list")).to_contain_text("1 open case")
    oversell_at_oxford(shop, "hoodie", reference="WEB-2002")  # while she looks
    expect(page.locator("#exception-list")).to_contain_text(
        "2 open cases", timeout=12_000
    )
    expect(page.get_by_label("Kind")).to_have_value("oversell_conflict")
    page.shot("a-new-case-arrived")


@pytest.mark.django_db(transaction=True)
def test_the_manager_reviews_a_variance_on_a_phone(shop, phone):
    """Approve is the one green button; both ask first (approving posts to the
    ledger), reject is red."""
    stock(shop["tee"], shop["oxford"], 10)
    stock(shop["hoodie"], shop["oxford"], 4)
    task = count_task_start(
        location=shop["oxford"],
        sku_codes=["TEE-BLK-M", "HOOD-GRE-L"],
        actor=Actor.of_user(shop["maria"]),
    )
    alice = Actor.of_user(shop["alice"])
    for _ in range(2):
        for line, units in (
            (task.lines.get(sku=shop["tee"]), 6),
            (task.lines.get(sku=shop["hoodie"]), 1),
        ):
            count_line_set(
                task_id=task.pk, line_id=line.pk, quantity=units, actor=alice
            )
        count_task_submit(task_id=task.pk, actor=alice)
    page = phone
    sign_in(page, "maria")
    page.goto(f"/store/counts/{task.pk}/review/")
    expect(
        page.get_by_role("heading", name=re.compile(f"Count #{task.pk}"))
    ).to_be_visible()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("review")
    assert "awaiting_approval" not in page.inner_text("main")

    page.goto("/store/exceptions/")  # the variances are in the queue too
    expect(page.locator("#exception-list")).to_contain_text("2 open cases")
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("the-queue")
    page.get_by_role("link", name=re.compile("HOOD-GRE-L at LON-OXF")).click()
    expect(page.get_by_role("link", name="Review the count")).to_be_visible()
    axe_clean(page)
    no_sideways_scroll(page)
    page.shot("a-variance-case")
    page.get_by_role("link", name="Review the count").click()

    hoodie = task.lines.get(sku=shop["hoodie"])
    tab_to(page, page.locator(f"#note-{hoodie.pk}"))
    page.keyboard.type("Four came in this morning, not yet shelved")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_contain_text(
        "Reject the count of HOOD-GRE-L? The records stay at 4"
    )
    page.keyboard.press("Escape")
    expect(page.locator("#confirm")).to_be_hidden()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        "HOOD-GRE-L: Variance rejected"
    )

    tab_to(page, page.get_by_role("button", name="Approve: post the count"))
    page.keyboard.press("Enter")  # the main action, but it posts: asked first
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm")).to_contain_text(
        "Post the count of TEE-BLK-M at Oxford Street: -4 to the ledger"
    )
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 10  # not yet
    page.shot("approve-asks")
    page.keyboard.press("Tab")  # from "Go back" to the yes button
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text(
        "TEE-BLK-M: Variance approved"
    )
    no_sideways_scroll(page)
    page.shot("decided")
    assert balance_of(shop["tee"], shop["oxford"]).on_hand == 6
    assert balance_of(shop["hoodie"], shop["oxford"]).on_hand == 4
