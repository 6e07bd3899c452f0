"""Counts said as people say them, for messages the records and screens share:
"1 unit", "3 units", never "1 unit(s)"."""


def units(count: int, word: str = "unit") -> str:
    """``count`` of ``word``, its plural when not one: units(1) is "1 unit"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
