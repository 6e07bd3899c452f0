"""GTIN (EAN/UPC) barcodes: the check digit that catches a mistyped or misread scan."""

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_problem(barcode: str) -> str | None:
    """Why ``barcode`` is not a valid GTIN, or None when it is."""
    if not barcode.isascii() or not barcode.isdigit():
        return "A barcode has digits only."
    if len(barcode) not in GTIN_LENGTHS:
        return "A barcode (GTIN) has 8, 12, 13 or 14 digits."
    if gtin_check_digit(barcode[:-1]) != int(barcode[-1]):
        return "The barcode's check digit is wrong."
    return None
