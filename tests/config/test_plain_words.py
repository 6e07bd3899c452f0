"""Plain words on the screens: who acted, how long, how late (config/plain_words.py),
and a live region that answers 204 when nothing it shows has changed
(config.screens.live)."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from config.plain_words import ago, duration, late_by, who
from config.screens import live
from tests.factories import ApiTokenFactory, ChannelFactory, StaffFactory


@pytest.mark.django_db
def test_a_timeline_names_people_channels_and_jobs_as_the_store_says_them():
    StaffFactory.at(username="sam", first_name="Sam")
    ChannelFactory(code="web", name="Web shop")
    ApiTokenFactory.issue(name="demo-web-shop", channel_code="web")
    ApiTokenFactory.issue(name="erp-feed")

    assert who("user:sam").startswith("Sam")
    assert who("token:demo-web-shop") == "Web shop"
    assert who("token:erp-feed") == "Integration “erp-feed”"
    assert who("system:expiry") == "Held stock expired (automatic)"
    assert who("system:nightly_counts") == "One stock (nightly counts)"
    assert who("user:gone") == "gone"  # a person since removed keeps their name
    assert who("system") == "One stock"
    assert who("") == "Someone"


def test_spans_read_in_the_largest_unit_that_reads_well():
    assert duration(40) == "40 seconds"
    assert duration(61) == "1 minute"
    assert duration(12 * 60) == "12 minutes"
    assert duration(90 * 60) == "90 minutes"
    assert duration(2 * 3600 + 59) == "2 hours"
    assert duration(598027.1) == "6 days"
    assert duration(timedelta(days=1, hours=3)) == "27 hours"
    assert duration("not a number") == ""


def test_deadlines_read_late_or_in_so_long():
    now = timezone.now()
    assert late_by(now - timedelta(hours=2, minutes=5)) == "2 hours late"
    assert late_by(now + timedelta(minutes=40, seconds=30)) == "in 40 minutes"
    assert ago(now - timedelta(seconds=20)) == "just now"
    assert ago(now - timedelta(days=3)) == "3 days ago"
    assert late_by(None) == "" and ago("") == ""


def test_every_template_has_the_words_without_loading_them():
    shown = Template("{{ seconds|duration }} · {{ actor|who }}").render(
        Context({"seconds": 7200, "actor": "system:reconciliation"})
    )
    assert shown == "2 hours · Nightly reconciliation"


@pytest.mark.django_db
def test_a_live_region_answers_204_while_it_looks_the_same(tmp_path, settings):
    (tmp_path / "region.html").write_text(
        '{% csrf_token %}<div id="r" {% include "_live.html" with url="/r" %}>'
        "{{ count }}</div>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    factory = RequestFactory()

    first = live(factory.get("/r"), "region.html", {"count": 1})
    html = first.content.decode()
    assert first.status_code == 200 and 'hx-trigger="every 5s"' in html
    seen = html.split('"X-Seen": "')[1].split('"')[0]

    # The same region (a fresh CSRF mask is no change): nothing to swap.
    poll = factory.get("/r", HTTP_X_SEEN=seen)
    assert live(poll, "region.html", {"count": 1}).status_code == 204
    # Something changed: the new region, with its own digest.
    changed = live(poll, "region.html", {"count": 2})
    assert changed.status_code == 200 and seen not in changed.content.decode()
    # A form posted from inside the region always gets its answer.
    posted = factory.post("/r", HTTP_X_SEEN=seen)
    assert live(posted, "region.html", {"count": 1}).status_code == 200


@pytest.mark.django_db
def test_a_page_looks_each_name_up_once(django_assert_max_num_queries):
    from config import plain_words

    StaffFactory.at(username="sam", first_name="Sam")
    plain_words._request_started()  # what Django's request_started signal calls
    try:
        with django_assert_max_num_queries(1):
            assert {who("user:sam") for _ in range(20)} == {"Sam"}
    finally:
        plain_words._request_finished()
    assert plain_words._names.get() is None  # nothing kept between requests
