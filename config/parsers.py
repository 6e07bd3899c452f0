"""Request parsing that turns every malformed body into a 400, never a 500.

JSON is read with orjson, the library the API already answers with: the body at once
rather than through a decoding reader, a few microseconds a request instead of tens.
Its errors are ValueErrors like the json module's, and DRF's wording is kept
("JSON parse error - …"). It refuses what strict JSON refuses (NaN, Infinity), and
also a lone surrogate in a string and nesting deeper than 1,024 levels, which the json
module let through (PostgreSQL cannot store the one; the other was a RecursionError).
An integer beyond 64 bits arrives as a float, which every integer field refuses."""

import codecs

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            body = stream.read()
            if codecs.lookup(encoding).name != "utf-8":
                body = body.decode(encoding)
            return orjson.loads(body)
        except (ValueError, LookupError) as error:
            raise ParseError(f"JSON parse error - {error}") from error
