"""Two integrations sending the same new SKU at the same moment end with one SKU."""

import pytest

from catalog.models import Sku
from tests.conftest import client_for
from tests.factories import ApiTokenFactory
from tests.threads import all_at_once


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_of_one_code_make_one_sku_and_no_errors():
    _, raw = ApiTokenFactory.issue(name="erp")
    writers = 8

    def send(n: int) -> int:
        return (
            client_for(raw)
            .put(
                "/api/v1/skus/TEE-RACE/",
                {"name": f"Tee from writer {n}"},
                format="json",
            )
            .status_code
        )

    statuses = all_at_once(writers, send)

    assert sorted(statuses) == [200] * (writers - 1) + [201]
    assert Sku.objects.filter(code="TEE-RACE").count() == 1
