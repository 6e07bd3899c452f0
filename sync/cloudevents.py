"""A delivery's body and content type, per subscription's ``format``.

``onestock``: the event as documented (docs/sync.md), ``application/json``, byte for
byte as before.

``cloudevents``: the same event as a CloudEvent 1.0 in structured JSON mode
(``application/cloudevents+json``), one per POST as every event is: ``id`` the
event's (the same as ``webhook-id`` / ``OneStock-Event-Id``, the same when re-sent),
``source`` ``/onestock/channels/<channel>`` (the figures are computed for the
subscription's channel: its buffer, its network), ``type`` the kind under
``com.onestock.`` (``com.onestock.availability.changed``), ``time`` the event's
``created_at``, ``subject`` what changed (``sku/<code>/location/<code>``,
``sku/<code>/network`` for the network kind, ``order/<reference>``), and ``data``
the event's ``data`` unchanged.
"""

from urllib.parse import quote

import orjson

from .models import WebhookSubscription

JSON = "application/json"
CLOUDEVENT_JSON = "application/cloudevents+json"
TYPE_PREFIX = "com.onestock."


def delivery_body(
    *, subscription: WebhookSubscription, event: dict
) -> tuple[bytes, str]:
    """The bytes POSTed for ``event`` and their content type."""
    if subscription.format != WebhookSubscription.Format.CLOUDEVENTS:
        return orjson.dumps(event), JSON
    return orjson.dumps(cloudevent(channel=subscription.channel.code, event=event)), (
        CLOUDEVENT_JSON
    )


def cloudevent(*, channel: str, event: dict) -> dict:
    data = event["data"]
    return {
        "specversion": "1.0",
        "id": event["id"],
        "source": f"/onestock/channels/{quote(channel, safe='')}",
        "type": f"{TYPE_PREFIX}{event['type']}",
        "time": event["created_at"],
        "subject": _subject(data),
        "datacontenttype": JSON,
        "data": data,
    }


def _subject(data: dict) -> str:
    if "order" in data:
        return f"order/{data['order']}"
    if data.get("location"):
        return f"sku/{data['sku']}/location/{data['location']}"
    return f"sku/{data['sku']}/network"
