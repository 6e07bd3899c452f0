"""The back-office side of pickup: a manager puts staff in their store, and support
reads tasks, problems and messages without changing them."""

import pytest
from django.contrib.auth.models import User

from inventory.models import StaffMembership
from tests.factories import pickup_order, stock


@pytest.fixture
def admin_client_signed_in(client, db):
    User.objects.create_superuser("boss", "boss@example.com", "pw")
    client.login(username="boss", password="pw")
    return client


def test_a_store_page_lists_who_works_there(shop, admin_client_signed_in):
    page = admin_client_signed_in.get(
        f"/admin/inventory/location/{shop['oxford'].pk}/change/"
    )
    assert page.status_code == 200
    assert "staff_memberships-0-user" in page.content.decode()
    assert StaffMembership.objects.filter(location=shop["oxford"]).count() == 2


def test_support_reads_a_pickup_task(shop, admin_client_signed_in):
    stock(shop["tee"], shop["oxford"], 1)
    task = pickup_order(shop).pickup_task
    listing = admin_client_signed_in.get("/admin/pickup/pickuptask/")
    assert "WEB-2001" in listing.content.decode()
    page = admin_client_signed_in.get(f"/admin/pickup/pickuptask/{task.pk}/change/")
    assert page.status_code == 200 and "Order placed." in page.content.decode()
