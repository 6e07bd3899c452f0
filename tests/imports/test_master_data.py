"""Master data moved as files: products, SKUs and locations imported through the same
rules as their PUT endpoints, refused whole when a row is wrong, exported and
imported back unchanged."""

import csv
import io

import pytest

from catalog.models import Product, Sku
from imports.models import ImportJob
from inventory.models import Location
from tests.factories import ProductFactory, SkuFactory

from .conftest import run, upload

pytestmark = pytest.mark.django_db

PRODUCTS = "code,name,brand,is_active\nTEE,Tee,Acme,true\nHOOD,Hoodie,,false\n"


@pytest.mark.sqlite_too
def test_a_products_file_creates_the_products(api, send):
    job = send("products", PRODUCTS)

    assert job.status == "done"
    assert (job.rows_total, job.rows_written, job.rows_wrong) == (2, 2, 0)
    hoodie = Product.objects.get(code="HOOD")
    assert (hoodie.name, hoodie.brand, hoodie.is_active) == ("Hoodie", "", False)
    followed = api.get(f"/api/v1/imports/{job.pk}/").json()
    assert followed["status"] == "done"
    assert followed["progress"] == 100
    assert followed["rows_written"] == 2


def test_the_upload_answers_202_with_the_job_and_where_to_follow_it(api):
    response = upload(api, "products", PRODUCTS)

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["kind"] == "products"
    assert response["Location"] == f"/api/v1/imports/{body['id']}/"
    assert not Product.objects.exists()  # nothing written before a worker runs it


@pytest.mark.sqlite_too
def test_one_wrong_row_refuses_the_whole_file_and_writes_nothing(api, send):
    ProductFactory(code="TEE", name="Tee")
    text = (
        "code,name,product,barcode,safety_buffer\n"
        "TEE-S,Tee S,TEE,,\n"
        "TEE-M,Tee M,NOPE,,\n"
        "TEE-L,Tee L,TEE,,lots\n"
        "bad code,Tee XL,TEE,,\n"
    )
    job = send("skus", text)

    assert job.status == "refused"
    assert job.rows_wrong == 3
    assert job.rows_written == 0
    assert not Sku.objects.exists()
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (3, "product"),
        (4, "safety_buffer"),
        (5, "code"),
    ]
    assert "No product with code 'NOPE'" in job.errors[0]["message"]
    assert job.errors[1]["message"] == "Must be a whole number."
    report = api.get(f"/api/v1/imports/{job.pk}/").json()
    assert report["status"] == "refused"
    assert report["errors"][0] == {
        "line": 3,
        "column": "product",
        "message": job.errors[0]["message"],
    }


@pytest.mark.sqlite_too
def test_skipping_wrong_rows_writes_the_good_ones_and_reports_the_others(send):
    text = "code,name,kind,time_zone\nOXF,Oxford Street,store,Europe/London\n" + (
        "CAM,Camden,store,Mars/Olympus\nKGX,Kings Cross,store,Europe/London\n"
    )
    job = send("locations", text, skip_wrong_rows="true")

    assert job.status == "done"
    assert (job.rows_written, job.rows_wrong) == (2, 1)
    assert job.errors == [
        {
            "line": 3,
            "column": "time_zone",
            "message": "Not a known IANA time zone, e.g. Europe/London.",
        }
    ]
    assert set(Location.objects.values_list("code", flat=True)) == {"OXF", "KGX"}


def test_the_same_file_twice_is_one_job_and_one_write(api):
    first = upload(api, "products", PRODUCTS)
    run(first)
    again = upload(api, "products", PRODUCTS)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["status"] == "done"
    assert ImportJob.objects.count() == 1


def test_a_refused_file_may_be_sent_again_once_its_master_data_exists(api, send):
    text = "code,name,product\nTEE-S,Tee S,TEE\n"
    refused = send("skus", text)
    ProductFactory(code="TEE")

    again = upload(api, "skus", text)

    assert refused.status == "refused"
    assert again.status_code == 202
    assert run(again).status == "done"
    assert Sku.objects.get(code="TEE-S").product.code == "TEE"


@pytest.mark.sqlite_too
def test_json_lines_are_the_api_bodies_one_per_line(send):
    ProductFactory(code="TEE")
    text = (
        '{"code": "TEE-S", "name": "Tee S", "product": "TEE", "attributes": '
        '{"size": "S"}, "cost": "4.10"}\n'
        '{"code": "TEE-M", "name": "Tee M", "is_active": false}\n'
    )
    job = send("skus", text, name="skus.jsonl")

    assert (job.status, job.file_format, job.rows_written) == ("done", "jsonl", 2)
    small = Sku.objects.get(code="TEE-S")
    assert small.attributes == {"size": "S"}
    assert str(small.cost) == "4.10"
    assert Sku.objects.get(code="TEE-M").is_active is False


def test_a_json_line_with_the_wrong_type_is_a_row_error(send):
    job = send(
        "products",
        '{"code": "TEE", "name": "Tee", "is_active": "yes"}\n'
        '{"code": "HOOD", "name": "Hoodie", "colour": "red"}\nnot json\n',
        name="products.ndjson",
    )

    assert job.status == "refused"
    assert [(e["line"], e["column"]) for e in job.errors] == [
        (1, "is_active"),
        (2, "colour"),
        (3, None),
    ]
    assert not Product.objects.exists()


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.sqlite_too
@pytest.mark.parametrize("kind", ["products", "skus", "locations"])
def test_an_export_imported_back_changes_nothing(api, send, kind, shop):
    product = ProductFactory(code="TEE", name="=HYPERLINK(x)", brand="'quoted")
    Sku.objects.filter(code="TEE-BLK-M").update(
        product=product, attributes={"size": "M", "eco": True}, cost="4.10"
    )
    SkuFactory(code="KIT-1", name="Kit")
    from catalog.services import sku_upsert

    sku_upsert(code="KIT-1", name="Kit", components=[(shop["polo"], 2)])
    exported = api.get(f"/api/v1/exports/{kind}/")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    assert exported["Content-Disposition"] == f'attachment; filename="{kind}.csv"'
    first = b"".join(exported.streaming_content).decode()

    job = send(kind, first, name=f"{kind}.csv")
    again = b"".join(api.get(f"/api/v1/exports/{kind}/").streaming_content).decode()

    assert job.status == "done", job.errors
    assert job.rows_written == len(_rows(first)) > 0
    assert again == first
    if kind == "products":
        assert "'=HYPERLINK(x)" in first  # a spreadsheet shows it as text
        assert Product.objects.get(code="TEE").name == "=HYPERLINK(x)"
        assert Product.objects.get(code="TEE").brand == "'quoted"


def test_a_row_its_service_refuses_on_writing_is_left_out_and_reported(shop, send):
    """A SKU that holds stock cannot become a kit: the row passes the check (the
    serializer's rules) but its service refuses it; the other rows are written."""
    from tests.factories import StockEvents

    StockEvents.post("receipt", sku=shop["tee"], location=shop["oxford"], quantity=3)
    text = (
        "code,name,components\n"
        'TEE-BLK-M,Tee kit,"[{""sku"":""POLO-BLU-M"",""quantity"":1}]"\n'
        "NEW-1,New one,\n"
    )
    job = send("skus", text)

    assert (job.status, job.rows_written, job.rows_wrong) == ("done", 1, 1)
    assert job.errors[0]["line"] == 2
    assert "stock" in job.errors[0]["message"]
    assert Sku.objects.get(code="TEE-BLK-M").is_kit is False
    assert Sku.objects.filter(code="NEW-1").exists()
