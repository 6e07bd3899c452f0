"""Two integrations sending the same new SKU at the same moment end with one SKU."""

import threading

import pytest
from django.db import connection

from catalog.models import Sku
from tests.conftest import client_for
from tests.factories import ApiTokenFactory


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_of_one_code_make_one_sku_and_no_errors():
    _, raw = ApiTokenFactory.issue(name="erp")
    writers = 8
    start = threading.Barrier(writers)
    statuses: list[int] = []

    def send(n: int) -> None:
        try:
            start.wait()
            response = client_for(raw).put(
                "/api/v1/skus/TEE-RACE/",
                {"name": f"Tee from writer {n}"},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * (writers - 1) + [201]
    assert Sku.objects.filter(code="TEE-RACE").count() == 1
