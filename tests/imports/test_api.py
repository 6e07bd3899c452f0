"""The imports API's refusals: who may import what, files it cannot take, and the
jobs a channel's token sees."""

import pytest

from catalog.models import Product
from imports.models import ImportJob
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, ChannelFactory

from .conftest import upload

pytestmark = pytest.mark.django_db

PRODUCTS = "code,name\nTEE,Tee\n"


def test_a_channels_token_may_not_import_master_data(web_channel):
    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")

    response = upload(client_for(raw), "products", PRODUCTS)

    assert response.status_code == 403
    assert response.json()["code"] == "channel_not_permitted"
    assert not ImportJob.objects.exists()


def test_a_token_without_the_kinds_scope_is_refused():
    _, raw = ApiTokenFactory.issue(name="reader", scopes=["read_master_data"])

    response = upload(client_for(raw), "snapshots", "snapshot_id,taken_at\n")

    assert response.status_code == 403
    assert response.json()["code"] == "scope_missing"


def test_a_file_over_the_limit_is_a_413(api, settings):
    settings.IMPORT_MAX_FILE_MB = 1
    big = "code,name\n" + "".join(f"P{n},Product {n}\n" for n in range(80_000))

    response = upload(api, "products", big)

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert not ImportJob.objects.exists()


def test_a_file_just_over_the_limit_is_a_413_saying_how_to_split_it(api, settings):
    """A file over the limit by less than a form's overhead passes the early check of
    the body's length: the import itself refuses it, in the same words."""
    settings.IMPORT_MAX_FILE_MB = 1
    just_over = "code,name\n" + "x" * (1024 * 1024)

    response = upload(api, "products", just_over)

    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "file_too_large"
    assert body["detail"].startswith("The file is 1.0 MB: at most 1 MB per file.")
    assert not ImportJob.objects.exists()


def test_an_unknown_kind_is_a_400(api):
    response = upload(api, "prices", PRODUCTS)

    assert response.status_code == 400
    assert "kind" in response.json()


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("products.csv", "", "empty"),
        ("products.csv", "code,name\n", "no rows"),
        ("products.xlsx", PRODUCTS, "CSV"),
        ("products.csv", "code,title\nTEE,Tee\n", "Unknown column title"),
        ("products.csv", "name\nTee\n", "Missing column code"),
        ("products.csv", b"code,nam\xe9\nTEE,Tee\n", "Line 1 (byte 9) is not UTF-8"),
        ("products.jsonl", '["TEE", "Tee"]\n', "not a JSON object"),
    ],
)
def test_a_file_it_cannot_take_is_a_400_saying_why(api, name, text, says):
    response = upload(api, "products", text, name=name)

    assert response.status_code == 400
    assert says in str(response.json()["file"])
    assert not ImportJob.objects.exists()


def test_a_file_with_a_bom_and_windows_line_ends_is_read(api, send):
    job = send("products", "\ufeffcode,name\r\nTEE,Tee\r\nHOOD,Hoodie\r\n".encode())

    assert (job.status, job.rows_written) == ("done", 2)
    assert Product.objects.count() == 2


def test_json_only_elsewhere_multipart_here(api):
    response = api.post("/api/v1/imports/", {"kind": "products"}, format="json")

    assert response.status_code == 415


def test_a_channels_token_sees_its_own_channels_jobs_only(api, web_channel, send):
    send("products", PRODUCTS)
    ChannelFactory(code="pos")
    _, raw = ApiTokenFactory.issue(name="shopify", channel_code="web")

    listed = client_for(raw).get("/api/v1/imports/")
    everything = api.get("/api/v1/imports/")

    assert listed.status_code == 200
    assert listed.json()["count"] == 0
    assert everything.json()["count"] == 1


def test_a_jobs_progress_reads_in_rows_and_percent_done(api, send, settings):
    settings.IMPORT_PAGE_ROWS = 2
    job = send("products", "code,name\nA,a\nB,b\nC,c\n")

    body = api.get(f"/api/v1/imports/{job.pk}/").json()
    assert body["rows_total"] == body["rows_checked"] == body["rows_written"] == 3
    assert (body["pages_total"], body["pages_written"]) == (2, 2)
    assert body["progress"] == 100


def test_a_stores_staff_member_imports_nothing(shop):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(shop["alice"])

    response = upload(client, "counts", "sku,location,counted\nTEE-BLK-M,LON-OXF,3\n")

    assert response.status_code == 403
    assert response.json()["code"] == "imports_not_for_store_staff"


def test_the_format_may_come_from_the_content_type(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/v1/imports/",
        {
            "kind": "products",
            "file": SimpleUploadedFile(
                "export", b'{"code": "TEE", "name": "Tee"}\n', "application/x-ndjson"
            ),
        },
        format="multipart",
    )

    assert response.status_code == 202
    assert response.json()["file_format"] == "jsonl"


def test_a_content_length_that_is_no_number_is_a_400(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/v1/imports/",
        {"kind": "products", "file": SimpleUploadedFile("p.csv", PRODUCTS.encode())},
        format="multipart",
        CONTENT_LENGTH="abc",
    )

    assert response.status_code == 400
    assert not ImportJob.objects.exists()
