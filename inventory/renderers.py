"""JSON out of the stock endpoints with orjson: a batch's answer is about 600 KB, and
the standard library takes longer to write it than most steps of posting the batch.

The bytes are exactly what DRF's ``JSONRenderer`` writes with the project's settings
(compact, UTF-8, ``\\u2028`` and ``\\u2029`` escaped); ``tests/inventory`` pins it.
Whatever orjson would write differently is left to ``JSONRenderer`` itself: floats
(orjson writes ``1e16`` where Python writes ``1e+16``, and NaN as null), datetimes and
other types DRF's encoder converts (DRF writes UTC as ``Z``), and indented output.
"""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

_PASSED_TO_DRF = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (
            data is None
            or self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
            or _holds_a_float(data)
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            text = orjson.dumps(data, default=_refuse, option=_PASSED_TO_DRF)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return text.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
            b"\xe2\x80\xa9", b"\\u2029"
        )


def _refuse(value):
    raise TypeError(type(value).__name__)


# Values that are never floats nor hold any: a list or a mapping made only of these
# is passed over in one step (the types gathered in C), not value by value.
_PLAIN = frozenset({str, int, bool, type(None)})


def _holds_a_float(data) -> bool:
    pending = [data]
    pop, append = pending.pop, pending.append
    while pending:
        value = pop()
        if isinstance(value, dict):
            values = value.values()
        elif isinstance(value, list | tuple):
            values = value
        else:
            if isinstance(value, float):
                return True
            continue
        if set(map(type, values)) <= _PLAIN:
            continue
        for item in values:
            if type(item) not in _PLAIN:
                append(item)
    return False


# The same bytes as DRF's JSONRenderer, written by orjson, then the project's others.
STOCK_RENDERERS = [
    FastJSONRenderer,
    *[r for r in api_settings.DEFAULT_RENDERER_CLASSES if r is not JSONRenderer],
]
