"""OpenAPI details drf-spectacular cannot infer from the views: a movement or a batch
of them, in and out."""

from drf_spectacular.utils import PolymorphicProxySerializer

from config.schema import ErrorSerializer

from .serializers import MovementBatchResponseSerializer, MovementSerializer

MOVEMENTS_PATH = "/api/v1/movements/"

# A 200 from POST /movements/ is a batch's results, or, for one event sent again, the
# original entry: a Movement, not a batch.
MOVEMENT_OR_BATCH = PolymorphicProxySerializer(
    component_name="MovementOrBatch",
    serializers=[MovementSerializer, MovementBatchResponseSerializer],
    resource_type_field_name=None,
)


class MovementRefusedSerializer(ErrorSerializer):
    """A 409 for one event: `reference_clash` or `movement_rejected`, with the entry
    as stored."""

    movement = MovementSerializer(
        required=False,
        help_text="The original entry (`reference_clash`), or the entry stored as "
        "`rejected` (`movement_rejected`).",
    )

    class Meta:
        ref_name = "MovementRefused"


def movements_accept_one_or_a_batch(result, generator, request, public):
    """POST /movements/ takes one movement or a list of up to 1,000; the view's
    serializer describes one, so the list form is added here."""
    operation = result["paths"].get(MOVEMENTS_PATH, {}).get("post")
    if operation is None:
        return result
    for content in operation["requestBody"]["content"].values():
        one = content["schema"]
        content["schema"] = {
            "oneOf": [
                one,
                {"type": "array", "items": one, "minItems": 1, "maxItems": 1000},
            ]
        }
    return result
