"""Guessing is slowed per client address: failed sign-ins on every login screen
(django-axes) and unknown or revoked API tokens (limits) are answered 429 with
Retry-After past their limit, while a valid token is never slowed or counted."""

from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone

from config import throttling
from config.throttling import client_address
from integrations.services import api_token_revoke
from tests.factories import StaffFactory

GUESSER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
LOGINS = ["/login/", "/admin/login/", "/api-auth/login/"]


def test_the_client_is_remote_addr_unless_proxies_of_ours_stand_in_front(settings):
    forwarded = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7"
    )
    assert client_address(forwarded) == "10.0.0.2"  # the header is the client's word
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(forwarded) == "203.0.113.7"  # what our proxy saw
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(forwarded) == "1.1.1.1"
    settings.TRUSTED_PROXY_COUNT = 3  # fewer hops than proxies: not through them
    assert client_address(forwarded) == "10.0.0.2"


def test_an_ipv6_client_is_counted_by_its_network_not_each_address():
    """A /64 is one household's or one server's: walking its addresses, one per
    guess, must not start the count again."""
    ask = RequestFactory().get
    first = client_address(ask("/", REMOTE_ADDR="2001:db8:1:2::1"))
    assert first == "2001:db8:1:2::/64"
    assert client_address(ask("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")) == first
    assert client_address(ask("/", REMOTE_ADDR="2001:db8:1:3::1")) != first
    assert client_address(ask("/", REMOTE_ADDR="::ffff:203.0.113.7")) == GUESSER


@pytest.fixture
def staff(db):
    """Alice, who may use the admin too."""
    alice = StaffFactory.at(username="alice", first_name="Alice")
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    return alice


def sign_in(client, path, password, address=GUESSER):
    return client.post(
        path, {"username": "alice", "password": password}, REMOTE_ADDR=address
    )


@pytest.mark.parametrize("path", LOGINS)
def test_failed_sign_ins_from_one_address_are_slowed_on_every_login_screen(
    client, staff, settings, path
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert sign_in(client, path, "wrong").status_code == 200  # the form again

    locked = sign_in(client, path, "wrong")

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    assert "Too many failed sign-ins from this address" in locked.content.decode()
    # Locked out: the right password is not even checked.
    right = sign_in(client, path, StaffFactory.PASSWORD)
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    # Another address is not held back by this one's guesses.
    elsewhere = sign_in(client, path, StaffFactory.PASSWORD, address=NEIGHBOUR)
    assert elsewhere.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_failures_count_across_the_login_screens(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 3
    assert sign_in(client, "/login/", "wrong").status_code == 200
    assert sign_in(client, "/admin/login/", "wrong").status_code == 200
    assert sign_in(client, "/api-auth/login/", "wrong").status_code == 429


def test_after_the_cool_off_the_right_password_goes_through(client, staff, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        sign_in(client, "/login/", "wrong")
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    with time_machine.travel(later):
        assert sign_in(client, "/login/", StaffFactory.PASSWORD).status_code == 302


def with_token(anonymous, raw, address=GUESSER):
    return anonymous.get(
        "/api/v1/channels/", HTTP_AUTHORIZATION=f"Token {raw}", REMOTE_ADDR=address
    )


def test_unknown_tokens_from_one_address_are_slowed_with_retry_after(
    anonymous, settings, db
):
    settings.THROTTLE_TOKEN_FAILURES = "3/minute"
    for guess in ("guess-1", "guess-2", "guess-3"):
        assert with_token(anonymous, guess).status_code == 401

    slowed = with_token(anonymous, "guess-4")

    assert slowed.status_code == 429
    assert 1 <= int(slowed["Retry-After"]) <= 60
    assert slowed.json()["detail"].startswith("Too many failed tokens")
    assert with_token(anonymous, "guess-5", address=NEIGHBOUR).status_code == 401


def test_a_revoked_or_malformed_token_counts_as_a_failure(
    anonymous, api_token, settings
):
    settings.THROTTLE_TOKEN_FAILURES = "2/minute"
    token, raw = api_token
    api_token_revoke(name=token.name)
    assert with_token(anonymous, raw).status_code == 401
    malformed = anonymous.get(
        "/api/v1/channels/", HTTP_AUTHORIZATION="Token a b", REMOTE_ADDR=GUESSER
    )
    assert malformed.status_code == 401
    assert with_token(anonymous, raw).status_code == 429


def test_a_valid_token_is_never_slowed_nor_counted(
    anonymous, api_token, settings, monkeypatch
):
    """An integration behind the same address as one sending a revoked token keeps
    working, and its calls never reach the counter (no round trip on a checkout)."""
    settings.THROTTLE_TOKEN_FAILURES = "1/minute"
    _, raw = api_token
    with_token(anonymous, "stale")
    assert with_token(anonymous, "stale").status_code == 429

    def counted(*args, **kwargs):
        raise AssertionError("a valid token reached the failure counter")

    monkeypatch.setattr(throttling, "_limiter", counted)
    for _ in range(3):
        assert with_token(anonymous, raw).status_code == 200


def test_the_counter_out_of_reach_answers_401_as_before(
    anonymous, settings, monkeypatch, db
):
    from limits.errors import StorageError

    class Unreachable:
        def hit(self, *args):
            raise StorageError(ConnectionError("Redis is down"))

    monkeypatch.setattr(throttling, "_limiter", lambda: Unreachable())
    assert with_token(anonymous, "guess").status_code == 401


def test_a_storage_the_limits_library_cannot_use_fails_open(anonymous, settings, db):
    """THROTTLE_STORAGE_URL left to a broker that is not Redis: 401, not a 500."""
    settings.THROTTLE_STORAGE_URL = "amqp://guest@127.0.0.1:5672//"
    throttling._limiter.cache_clear()
    try:
        assert with_token(anonymous, "guess").status_code == 401
    finally:
        throttling._limiter.cache_clear()
