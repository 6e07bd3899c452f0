"""Integrations retry their POSTs with an Idempotency-Key (docs/api.md): the same key
and body are answered as the first time and written once; another body under it is a
422; a key whose first request is still running is a 409; the key stands for the
body's own reference where it has one."""

import secrets
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from integrations.idempotency import IdempotencyKeys
from integrations.idempotency_store import IN_FLIGHT_LEASE
from integrations.models import ApiToken, IdempotencyKey
from integrations.schema import idempotency_key_on_posts
from integrations.selectors import api_token_forget
from integrations.services import api_token_revoke
from integrations.tasks import forget_idempotency_keys
from inventory.models import StockMovement
from orders.models import Order
from sync.models import WebhookSubscription
from tests.conftest import client_for
from tests.factories import ApiTokenFactory, stock
from tests.threads import all_at_once

MOVEMENTS = "/api/v1/movements/"
EARLIER = (timezone.now() - timedelta(minutes=5)).isoformat()


def keyed(key: str) -> dict[str, str]:
    """The header as the draft writes it: a structured-field String, quoted."""
    return {"HTTP_IDEMPOTENCY_KEY": f'"{key}"'}


def sale(quantity: int = 1, **extra) -> dict:
    return {
        "type": "sale",
        "sku": "TEE-BLK-M",
        "location": "LON-OXF",
        "quantity": quantity,
        "occurred_at": EARLIER,
        "channel": "web",
        **extra,
    }


def pickup_order(**extra) -> dict:
    return {
        "channel": "web",
        "fulfilment_method": "pickup",
        "pickup_location": "LON-OXF",
        "customer": {"name": "Ada Byron", "email": "ada@example.com"},
        "lines": [{"sku": "TEE-BLK-M", "quantity": 1}],
        **extra,
    }


@pytest.fixture
def till(shop):
    stock(shop["tee"], shop["oxford"], 10)
    return shop


@pytest.mark.django_db
class TestRetries:
    def test_a_till_retrying_a_sale_gets_the_first_answer_and_one_ledger_entry(
        self, api, till
    ):
        first = api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0042"))
        again = api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0042"))

        assert first.status_code == again.status_code == 201, first.content
        assert again.content == first.content
        assert again["Content-Type"] == first["Content-Type"]
        assert again["Idempotent-Replayed"] == "true"
        assert not first.has_header("Idempotent-Replayed")
        sales = StockMovement.objects.filter(type="sale")
        assert [m.reference for m in sales] == ["till-7-0042"]

    def test_the_key_becomes_the_reference_so_a_retry_without_the_header_holds(
        self, api, till
    ):
        api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0043"))

        resent = api.post(MOVEMENTS, sale(reference="till-7-0043"), format="json")

        assert resent.status_code == 200  # the reference's own duplicate answer
        assert StockMovement.objects.filter(type="sale").count() == 1

    def test_the_same_key_with_another_quantity_is_refused(self, api, till):
        api.post(MOVEMENTS, sale(1), format="json", **keyed("till-7-0044"))

        other = api.post(MOVEMENTS, sale(2), format="json", **keyed("till-7-0044"))

        assert other.status_code == 422
        assert other.json()["code"] == "idempotency_key_reused"
        assert StockMovement.objects.filter(type="sale").count() == 1

    def test_a_body_reference_and_another_key_together_are_refused(self, api, till):
        refused = api.post(
            MOVEMENTS, sale(reference="SALE-1"), format="json", **keyed("SALE-2")
        )

        assert refused.status_code == 400
        assert refused.json()["code"] == "idempotency_key_mismatch"
        assert not StockMovement.objects.filter(type="sale").exists()
        assert not IdempotencyKey.objects.exists()

    def test_the_same_value_in_body_and_header_is_fine(self, api, till):
        answer = api.post(
            MOVEMENTS, sale(reference="SALE-3"), format="json", **keyed("SALE-3")
        )

        assert answer.status_code == 201, answer.content

    def test_a_batch_is_answered_once_whole_and_its_lines_keep_their_references(
        self, api, till
    ):
        batch = [sale(reference="B-1"), sale(reference="B-2")]
        first = api.post(MOVEMENTS, batch, format="json", **keyed("upload-9"))
        again = api.post(MOVEMENTS, batch, format="json", **keyed("upload-9"))

        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"
        assert [line["status"] for line in again.json()["results"]] == ["created"] * 2
        assert sorted(
            StockMovement.objects.filter(type="sale").values_list(
                "reference", flat=True
            )
        ) == ["B-1", "B-2"]

    def test_another_integrations_same_key_is_its_own(self, api, till):
        """The erp and the web shop both number their requests from 1: neither is
        ever answered with the other's answer."""
        _, raw = ApiTokenFactory.issue(name="web-shop")
        shop_api = client_for(raw)
        first = api.post(MOVEMENTS, sale(1), format="json", **keyed("1"))
        theirs = shop_api.post(MOVEMENTS, sale(1), format="json", **keyed("1"))

        assert first.status_code == 201
        # Run for the web shop, not replayed: the ledger's reference answers it.
        assert not theirs.has_header("Idempotent-Replayed")
        assert theirs.status_code == 200
        assert IdempotencyKey.objects.filter(key="1").count() == 2

    def test_an_order_placed_twice_with_one_key_is_one_order(self, api, till):
        first = api.post(
            "/api/v1/orders/", pickup_order(), format="json", **keyed("WEB-5001")
        )
        again = api.post(
            "/api/v1/orders/", pickup_order(), format="json", **keyed("WEB-5001")
        )

        assert first.status_code == again.status_code == 201, first.content
        assert again.json() == first.json()
        assert list(Order.objects.values_list("reference", flat=True)) == ["WEB-5001"]

    def test_a_checkout_hold_takes_the_key_as_its_reference(self, api, till):
        cart = {
            "channel": "web",
            "lines": [{"sku": "TEE-BLK-M", "location": "LON-OXF", "quantity": 2}],
        }
        first = api.post("/api/v1/reservations/", cart, format="json", **keyed("c-9"))
        again = api.post(
            "/api/v1/reservations/", {**cart, "reference": "c-9"}, format="json"
        )

        assert first.status_code == 201, first.content
        assert first.json()["reference"] == "c-9"
        assert again.status_code == 200  # the hold's own reference: the same hold
        assert again.json()["id"] == first.json()["id"]

    def test_a_cancel_replayed_is_answered_as_the_first_and_cancels_once(
        self, api, till
    ):
        placed = api.post(
            "/api/v1/orders/", pickup_order(reference="WEB-5002"), format="json"
        ).json()
        cancel = f"/api/v1/orders/{placed['id']}/cancel/"
        why = {"reason": "The customer changed their mind."}

        first = api.post(cancel, why, format="json", **keyed("cancel-5002"))
        again = api.post(cancel, why, format="json", **keyed("cancel-5002"))

        assert first.status_code == again.status_code == 200, first.content
        assert again.content == first.content
        assert again["Idempotent-Replayed"] == "true"
        order = Order.objects.get(pk=placed["id"])
        # The key is the action's request_reference: one timeline entry carries it.
        assert order.events.filter(request_reference="cancel-5002").count() == 1

    def test_a_webhook_secret_is_not_kept_and_the_key_again_is_one_subscription(
        self, api, till, settings
    ):
        """The subscription's secret is shown once: it is not stored with the key
        for a day, and the retry says what happened instead of subscribing again."""
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
        body = {"channel": "web", "url": "http://127.0.0.1:9/stock"}

        first = api.post("/api/v1/webhooks/", body, format="json", **keyed("sub-1"))
        again = api.post("/api/v1/webhooks/", body, format="json", **keyed("sub-1"))

        assert first.status_code == 201, first.content
        assert first.json()["secret"]
        assert again.status_code == 409
        assert again.json()["code"] == "idempotency_key_answer_not_kept"
        assert WebhookSubscription.objects.count() == 1
        (row,) = IdempotencyKey.objects.all()
        assert (row.status, bytes(row.body), row.body_kept) == (201, b"", False)

    def test_a_rotated_secret_is_not_kept_nor_rotated_twice(self, api, till, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
        body = {"channel": "web", "url": "http://127.0.0.1:9/stock"}
        subscription = api.post("/api/v1/webhooks/", body, format="json").json()
        rotate = f"/api/v1/webhooks/{subscription['id']}/rotate-secret/"

        first = api.post(rotate, format="json", **keyed("rot-1"))
        again = api.post(rotate, format="json", **keyed("rot-1"))

        assert first.status_code == 200, first.content
        assert again.status_code == 409
        assert again.json()["code"] == "idempotency_key_answer_not_kept"
        assert b"whsec_" not in bytes(IdempotencyKey.objects.get(key="rot-1").body)
        # Rotated once: the secret answered first still signs.
        kept = WebhookSubscription.objects.get(pk=subscription["id"])
        assert kept.secret == first.json()["secret"]

    def test_an_answer_a_view_does_not_keep_is_never_replayed(self, api, till):
        """Any view declaring ``idempotency_keeps_answer = False``: its success is
        not stored, its refusals are (they carry no secret)."""
        raw = api._credentials["HTTP_AUTHORIZATION"]

        def view(request):
            return HttpResponse(b'{"secret": "s3cr3t"}', status=201)

        view.cls = type("SecretView", (), {"idempotency_keeps_answer": False})
        keys = IdempotencyKeys(view)

        def send():
            request = RequestFactory().post(
                MOVEMENTS,
                data=b"{}",
                content_type="application/json",
                HTTP_AUTHORIZATION=raw,
                **keyed("k-secret"),
            )
            return keys.process_view(request, view, (), {}) or keys(request)

        first, again = send(), send()

        assert first.status_code == 201
        assert again.status_code == 409
        assert again["Content-Type"] == "application/problem+json"
        assert b"s3cr3t" not in bytes(IdempotencyKey.objects.get().body)

    def test_a_refused_caller_leaves_no_key_behind(self, till):
        stranger = client_for("not-a-token")
        refused = stranger.post(MOVEMENTS, sale(), format="json", **keyed("k-1"))

        assert refused.status_code == 401
        assert not IdempotencyKey.objects.exists()

    def test_staff_signed_in_have_keys_of_their_own(self, till):
        alice = APIClient()
        alice.force_login(till["alice"])
        first = alice.post(MOVEMENTS, sale(), format="json", **keyed("m-1"))
        again = alice.post(MOVEMENTS, sale(), format="json", **keyed("m-1"))

        assert first.status_code == again.status_code == 201, first.content
        assert again["Idempotent-Replayed"] == "true"
        (row,) = IdempotencyKey.objects.all()
        assert row.caller == f"user:{till['alice'].pk}"

    def test_a_revoked_tokens_key_is_not_answered_again(self, till):
        """A till's token is revoked after a sale: its retries are refused as any
        other call of it, not answered from the key."""
        _, raw = ApiTokenFactory.issue(name="pos-1")
        till_api = client_for(raw)
        till_api.post(MOVEMENTS, sale(), format="json", **keyed("k-1"))
        api_token_revoke(name="pos-1")

        again = till_api.post(MOVEMENTS, sale(), format="json", **keyed("k-1"))

        assert again.status_code == 401
        assert not again.has_header("Idempotent-Replayed")
        assert IdempotencyKey.objects.get(key="k-1").status == 201  # untouched

    def test_a_token_that_lost_the_scope_is_not_answered_again(self, till):
        token, raw = ApiTokenFactory.issue(name="pos-1")
        till_api = client_for(raw)
        till_api.post(MOVEMENTS, sale(), format="json", **keyed("k-1"))
        ApiToken.objects.filter(pk=token.pk).update(scopes=["read_availability"])
        api_token_forget(digest=token.digest)

        again = till_api.post(MOVEMENTS, sale(), format="json", **keyed("k-1"))

        assert again.status_code == 403
        assert again.json()["code"] == "scope_missing"

    def test_a_member_of_staff_who_left_is_not_answered_again(self, till):
        alice = APIClient()
        alice.force_login(till["alice"])
        alice.post(MOVEMENTS, sale(), format="json", **keyed("m-1"))
        till["alice"].is_active = False
        till["alice"].save(update_fields=["is_active"])

        again = alice.post(MOVEMENTS, sale(), format="json", **keyed("m-1"))

        assert again.status_code in (401, 403)
        assert not again.has_header("Idempotent-Replayed")

    @pytest.mark.parametrize("key", ["k" * 65, "#42", " a b "])
    def test_a_key_that_cannot_become_the_reference_is_refused_as_a_key(
        self, api, till, key
    ):
        """The body has no reference, so the key would be it: refused up front,
        naming the key, not a reference the till never sent."""
        refused = api.post(MOVEMENTS, sale(), format="json", **keyed(key))

        assert refused.status_code == 400
        assert refused.json()["code"] == "idempotency_key_malformed"
        assert "64" in refused.json()["detail"]
        assert not IdempotencyKey.objects.exists()

    def test_a_long_key_stands_where_the_body_has_no_reference(self, api, till):
        batch = [sale(reference="B-1")]
        answer = api.post(MOVEMENTS, batch, format="json", **keyed("k" * 255))

        assert answer.status_code == 200, answer.content

    def test_a_key_on_a_very_long_path_is_answered_not_a_server_error(self, api, till):
        """A path longer than an index entry may hold: the key's scope is kept as a
        digest."""
        path = f"/api/v1/orders/{secrets.token_hex(2000)}/cancel/"
        why = {"reason": "The customer changed their mind."}

        first = api.post(path, why, format="json", **keyed("cancel-1"))
        again = api.post(path, why, format="json", **keyed("cancel-1"))

        assert first.status_code == 404, first.content
        assert again.status_code == 404
        assert again["Idempotent-Replayed"] == "true"

    @pytest.mark.parametrize("status", [500, 503, 429, 401, 407])
    def test_an_answer_that_invites_a_retry_lets_the_key_go(self, api, till, status):
        """A server error (or a throttle) is not the request's answer: kept, it would
        be replayed for ever. The key is let go, and the retry runs."""
        raw = api._credentials["HTTP_AUTHORIZATION"]
        request = RequestFactory().post(
            MOVEMENTS,
            data=b"{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=raw,
            **keyed("till-7-0060"),
        )

        def view(request):
            assert keys.process_view(request, view, (), {}) is None
            assert IdempotencyKey.objects.filter(key="till-7-0060").exists()
            return HttpResponse(status=status)

        keys = IdempotencyKeys(view)
        assert keys(request).status_code == status

        assert not IdempotencyKey.objects.exists()

    def test_a_bare_key_is_the_same_key_as_quoted(self, api, till):
        """Stripe's and Shopify's clients send the key unquoted."""
        first = api.post(
            MOVEMENTS, sale(), format="json", HTTP_IDEMPOTENCY_KEY="till-7-0042"
        )
        again = api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0042"))

        assert first.status_code == 201
        assert again.status_code == 201
        assert again["Idempotent-Replayed"] == "true"
        assert StockMovement.objects.filter(type="sale").count() == 1

    @pytest.mark.parametrize(
        "header",
        ['""', '"' + "k" * 256 + '"', "k" * 256, '"caf\u00e9"', "till 7", '"a";x=1'],
    )
    def test_a_malformed_key_is_refused(self, api, till, header):
        refused = api.post(
            MOVEMENTS, sale(), format="json", HTTP_IDEMPOTENCY_KEY=header
        )

        assert refused.status_code == 400
        assert refused.json()["code"] == "idempotency_key_malformed"
        assert not StockMovement.objects.filter(type="sale").exists()

    def test_a_key_whose_first_request_died_is_taken_over_after_its_lease(
        self, api, till
    ):
        """The till's first server was killed after writing the sale, before it
        answered: its mark does not hold the key for ever. Once the lease is past,
        the retry runs, and the sale's reference keeps it from selling twice."""
        api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0050"))
        IdempotencyKey.objects.filter(key="till-7-0050").update(
            status=None, in_flight_until=timezone.now() - timedelta(seconds=1)
        )

        retried = api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0050"))

        assert retried.status_code == 200, retried.content  # the sale as recorded
        assert not retried.has_header("Idempotent-Replayed")
        assert StockMovement.objects.filter(type="sale").count() == 1
        assert IdempotencyKey.objects.get(key="till-7-0050").status == 200

    def test_a_key_still_in_flight_is_answered_409(self, api, till):
        api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0051"))
        IdempotencyKey.objects.filter(key="till-7-0051").update(
            status=None, in_flight_until=timezone.now() + IN_FLIGHT_LEASE
        )

        busy = api.post(MOVEMENTS, sale(), format="json", **keyed("till-7-0051"))

        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_key_in_flight"
        assert busy.has_header("Retry-After")

    def test_keys_past_the_retention_are_forgotten_by_beat(self, api, till, settings):
        from django_celery_beat.models import PeriodicTask

        settings.IDEMPOTENCY_KEY_HOURS = 24
        api.post(MOVEMENTS, sale(), format="json", **keyed("old"))
        api.post(MOVEMENTS, sale(), format="json", **keyed("new"))
        IdempotencyKey.objects.filter(key="old").update(
            created_at=timezone.now() - timedelta(hours=24, minutes=1)
        )

        assert forget_idempotency_keys() == 1

        assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
        assert PeriodicTask.objects.filter(
            task="integrations.forget_idempotency_keys"
        ).exists()

    def test_the_schema_offers_the_key_on_every_creating_post(self):
        generator = SchemaGenerator()
        schema = idempotency_key_on_posts(
            generator.get_schema(request=None, public=True), generator, None, True
        )
        for path in (
            "/api/v1/movements/",
            "/api/v1/reservations/",
            "/api/v1/orders/",
            "/api/v1/orders/{id}/cancel/",
            "/api/v1/returns/",
            "/api/v1/snapshots/",
            "/api/v1/webhooks/",
            "/api/v1/reservations/{id}/release/",
        ):
            operation = schema["paths"][path]["post"]
            names = [parameter["name"] for parameter in operation["parameters"]]
            assert "Idempotency-Key" in names, path
            assert {"409", "422"} <= set(operation["responses"]), path


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_run_once_and_the_other_hears_409(
    api_token, shop
):
    """Two tills' retries cross on a slow line: the key lets exactly one through."""
    stock(shop["tee"], shop["oxford"], 10)
    _, raw = api_token

    def send(_):
        return client_for(raw).post(
            MOVEMENTS, sale(), format="json", **keyed("till-7-0099")
        )

    with sale_slowed():
        answers = all_at_once(2, send)

    assert sorted(a.status_code for a in answers) == [201, 409]
    (refused,) = [a for a in answers if a.status_code == 409]
    assert refused.json()["code"] == "idempotency_key_in_flight"
    assert StockMovement.objects.filter(reference="till-7-0099").count() == 1
    assert IN_FLIGHT_LEASE.total_seconds() > 30  # past gunicorn's timeout


@contextmanager
def sale_slowed(seconds: float = 1.5):
    """Each ledger row takes ``seconds`` to write: the first request is surely still
    running when the second, started with it, asks for the key (however busy the
    machine's two cores are)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_slow_sale() RETURNS trigger AS $$ "
            f"BEGIN PERFORM pg_sleep({seconds}); RETURN NEW; END $$ LANGUAGE plpgsql;"
        )
        cursor.execute(
            "CREATE TRIGGER test_slow_sale BEFORE INSERT ON inventory_stockmovement "
            "FOR EACH ROW EXECUTE FUNCTION test_slow_sale();"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_slow_sale ON inventory_stockmovement")
            cursor.execute("DROP FUNCTION test_slow_sale()")
