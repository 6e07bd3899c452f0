"""A client generated from the schema by openapi-python-client, imported as
generated and never edited, runs a checkout story and reads a refusal typed. It
calls the Django application in-process (no server), on the test database, within
the test's transaction."""

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from config.errors import NotFound

NO_POST_HOOKS = "post_hooks: []\n"  # no formatter: nothing to install or wait for


@pytest.fixture(scope="module")
def generated_client(openapi, tmp_path_factory):
    """The client openapi-python-client generates from the schema, imported as
    generated, never edited."""
    where = tmp_path_factory.mktemp("client")
    (where / "schema.json").write_text(json.dumps(openapi))
    (where / "config.yaml").write_text(NO_POST_HOOKS)
    command = [
        str(Path(sys.executable).with_name("openapi-python-client")),
        "generate",
        "--path", str(where / "schema.json"),
        "--output-path", str(where / "onestock_client"),
        "--meta", "none",
        "--config", str(where / "config.yaml"),
    ]  # fmt: skip
    made = subprocess.run(command, capture_output=True, text=True, cwd=where)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Warning" not in made.stdout + made.stderr, made.stdout + made.stderr
    sys.path.insert(0, str(where))
    try:
        client = importlib.import_module("onestock_client")
        # Every module it generated imports (an operation's, a model's).
        for module in pkgutil.walk_packages(client.__path__, "onestock_client."):
            importlib.import_module(module.name)
        yield client
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name.startswith("onestock_")]:
            del sys.modules[name]


def test_a_generated_client_runs_a_checkout_story(
    generated_client, in_process_app, api_token
):
    """Master data, a receipt, availability, a hold, an order from the hold and a
    partial cancel, through the generated client alone."""
    from onestock_client import AuthenticatedClient, models
    from onestock_client.api.availability import availability_list
    from onestock_client.api.channels import channels_update
    from onestock_client.api.locations import locations_update
    from onestock_client.api.movements import movements_create
    from onestock_client.api.orders import orders_cancel_create, orders_create
    from onestock_client.api.products import products_update
    from onestock_client.api.reservations import reservations_create
    from onestock_client.api.skus import skus_update

    client = AuthenticatedClient(
        base_url="http://localhost",
        token=api_token[1],
        prefix="Token",
        raise_on_unexpected_status=True,
        httpx_args={"transport": httpx.WSGITransport(app=in_process_app)},
    )

    def created(answer, status=201):
        assert answer.status_code == status, answer.content
        return answer.parsed

    created(
        channels_update.sync_detailed(
            "web",
            client=client,
            body=models.ChannelInputRequest(
                name="Web shop", kind=models.ChannelKindEnum.WEB
            ),
        )
    )
    created(
        locations_update.sync_detailed(
            "LON-OXF",
            client=client,
            body=models.LocationInputRequest(
                name="Oxford Street",
                kind=models.LocationKindEnum.STORE,
                pickup_enabled=True,
            ),
        )
    )
    created(
        products_update.sync_detailed(
            "TEE", client=client, body=models.ProductInputRequest(name="Tee")
        )
    )
    sku = created(
        skus_update.sync_detailed(
            "TEE-BLK-M",
            client=client,
            body=models.SkuInputRequest(name="Tee black M", product="TEE"),
        )
    )
    assert (sku.code, sku.product) == ("TEE-BLK-M", "TEE")

    receipt = models.MovementInputRequest(
        reference="GRN-1001",
        type_=models.SentMovementTypeEnum.RECEIPT,
        sku="TEE-BLK-M",
        location="LON-OXF",
        quantity=10,
        occurred_at="2026-01-05T09:00:00Z",
        channel="web",
    )
    entry = created(movements_create.sync_detailed(client=client, body=receipt))
    assert isinstance(entry, models.Movement) and entry.quantity == 10
    # The same event again: its original entry, a Movement and not a batch.
    again = created(movements_create.sync_detailed(client=client, body=receipt), 200)
    assert isinstance(again, models.Movement) and again.id == entry.id

    def available_to_promise() -> int:
        (row,) = created(
            availability_list.sync_detailed(
                client=client, sku=["TEE-BLK-M"], location=["LON-OXF"], channel="web"
            ),
            200,
        ).results
        return row.available_to_promise

    assert available_to_promise() == 10

    hold = created(
        reservations_create.sync_detailed(
            client=client,
            body=models.ReservationInputRequest(
                reference="CART-1",
                channel="web",
                lines=[
                    models.ReservationLineInputRequest(
                        sku="TEE-BLK-M", location="LON-OXF", quantity=3
                    )
                ],
            ),
        )
    )
    assert hold.status == models.ReservationStatusEnum.ACTIVE
    assert available_to_promise() == 7

    order = created(
        orders_create.sync_detailed(
            client=client,
            body=models.OrderInputRequest(
                reference="WEB-1001",
                channel="web",
                fulfilment_method=models.FulfilmentMethodEnum.PICKUP,
                pickup_location="LON-OXF",
                customer=models.CustomerRequest(name="Ada Byron"),
                reservation=hold.id,
            ),
        )
    )
    assert order.reservation == hold.id
    (line,) = order.lines
    assert line.quantity == 3

    cancelled = created(
        orders_cancel_create.sync_detailed(
            order.id,
            client=client,
            body=models.CancelRequest(
                reason="The customer wants one fewer.",
                lines=[models.LineQuantityInputRequest(line=line.id, quantity=1)],
            ),
        ),
        200,
    )
    assert cancelled.lines[0].open_quantity == 2
    assert available_to_promise() == 8


def test_a_refusal_reaches_a_generated_client_typed(
    generated_client, in_process_app, api_token
):
    """A 404 is parsed into the schema's Error, not left as bytes."""
    from onestock_client import AuthenticatedClient
    from onestock_client.api.skus import skus_retrieve
    from onestock_client.models import Error

    client = AuthenticatedClient(
        base_url="http://localhost",
        token=api_token[1],
        prefix="Token",
        httpx_args={"transport": httpx.WSGITransport(app=in_process_app)},
    )
    answer = skus_retrieve.sync_detailed("NO-SUCH-SKU", client=client)
    assert answer.status_code == 404
    assert isinstance(answer.parsed, Error)
    assert answer.parsed.code == NotFound.code
