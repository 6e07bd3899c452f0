"""OpenAPI details drf-spectacular cannot infer from the views."""

MOVEMENTS_PATH = "/api/v1/movements/"


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
