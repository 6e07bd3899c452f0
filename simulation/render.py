"""The report as people read it: a table in the terminal, and a saved HTML page with
charts drawn by the server (inline SVG and CSS: the page loads nothing, so it can be
mailed or opened anywhere)."""

from django.template.loader import render_to_string

from reconciliation.models import ExceptionKind

from .config import DayConfig
from .report import FIGURES, DayReport


def formatted(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{value * 100:.1f} %"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,}"


def report_table(reports: list[DayReport], *, config: DayConfig) -> str:
    width = max(len(row[1]) for row in FIGURES)
    column = max(14, *(len(f"#{n + 1}") for n in range(len(reports))))
    lines = [
        "",
        f"A simulated day: {config.stores} stores, a warehouse, {config.skus} SKUs, "
        f"{config.hours} hours, seed {config.seed}",
        *(
            [
                f"Opening stock unbalanced: {config.overstock_share:.0%} of SKU-stores "
                f"overstocked, {config.understock_share:.0%} understocked"
            ]
            if config.overstock_share or config.understock_share
            else []
        ),
        "",
    ]
    for n, report in enumerate(reports):
        lines.append(f"  #{n + 1}  {report.policy}")
    lines.append("")
    header = " " * width + "".join(
        f"#{n + 1}".rjust(column) for n in range(len(reports))
    )
    lines += [header, "-" * len(header)]
    for key, label, kind, _ in FIGURES:
        cells = "".join(
            formatted(report.figures.get(key), kind).rjust(column) for report in reports
        )
        lines.append(label.ljust(width) + cells)
    kinds = sorted({kind for report in reports for kind in report.exceptions})
    if kinds:
        lines += ["", "Exceptions raised, by kind"]
        for kind in kinds:
            cells = "".join(
                f"{report.exceptions.get(kind, 0):,}".rjust(column)
                for report in reports
            )
            lines.append(f"  {kind}".ljust(width) + cells)
    lines.append("")
    for n, report in enumerate(reports):
        failed = [check for check in report.checks if not check.passed]
        verdict = "all checks pass" if not failed else f"{len(failed)} checks FAIL"
        lines.append(f"#{n + 1} arithmetic: {verdict}")
        for check in failed:
            lines.append(f"    {check.name}: {check.detail}")
    return "\n".join(lines) + "\n"


# The charts of the HTML report: (figure, title, what it shows).
CHARTS = [
    (
        "oversold_units",
        "Oversells",
        "Units promised to a customer that were not there.",
    ),
    (
        "stock_cancellation_rate",
        "Cancellations caused by stock",
        "Share of orders with units cancelled because they were not found.",
    ),
    (
        "lost_sales_units",
        "Lost sales from buffers and protections",
        "Units refused online while they were on the shelf, free of other promises.",
    ),
    (
        "lost_sales_all_units",
        "Lost sales, every cause",
        "Units online shoppers were refused and walk-in shoppers did not find.",
    ),
    (
        "transfer_units_received",
        "Units received from other locations",
        "Units a transfer proposal sent that arrived before closing.",
    ),
    (
        "refused_units",
        "Demand refused online",
        "Units shoppers could not have: out of stock, or kept back by a buffer.",
    ),
    (
        "pickup_ready_on_time",
        "Pickups ready on time",
        "Share of pickup orders ready by the time the customer was promised.",
    ),
    (
        "true_accuracy_after",
        "Records right after tonight's counts",
        "Share of SKU-locations whose recorded on-hand is what is really there.",
    ),
    ("exceptions_raised", "Exceptions raised", "Cases opened for a person to look at."),
    (
        "pos_lag_p95_s",
        "Till event lag (95th percentile, s)",
        "How late the back office hears of a till sale.",
    ),
]


def report_html(reports: list[DayReport], *, config: DayConfig) -> str:
    return render_to_string(
        "simulation/report.html",
        {
            "reports": reports,
            "config": config,
            "charts": _charts(reports),
            "table": _table(reports),
            "exceptions": _exception_rows(reports),
            "locations": _location_rows(reports),
            "overstock_percent": round(config.overstock_share * 100, 1),
            "understock_percent": round(config.understock_share * 100, 1),
        },
    )


def _charts(reports: list[DayReport]) -> list[dict]:
    kinds = {row[0]: row[2] for row in FIGURES}
    charts = []
    for key, title, note in CHARTS:
        values = [report.figures.get(key) for report in reports]
        top = max((v for v in values if v is not None), default=0) or 1
        charts.append(
            {
                "title": title,
                "note": note,
                "bars": [
                    {
                        "n": n + 1,
                        "width": round(100 * (value or 0) / top, 1),
                        "text": formatted(value, kinds[key]),
                    }
                    for n, value in enumerate(values)
                ],
            }
        )
    return charts


def _table(reports: list[DayReport]) -> list[dict]:
    rows = []
    for key, label, kind, better in FIGURES:
        values = [report.figures.get(key) for report in reports]
        known = [v for v in values if v is not None]
        best = worst = None
        if better and len(reports) > 1 and known and min(known) != max(known):
            best, worst = (min(known), max(known))
            if better == "high":
                best, worst = worst, best
        rows.append(
            {
                "label": label,
                "cells": [
                    {
                        "text": formatted(value, kind),
                        "mark": "best"
                        if value is not None and value == best
                        else "worst"
                        if value is not None and value == worst
                        else "",
                    }
                    for value in values
                ],
            }
        )
    return rows


def _exception_rows(reports: list[DayReport]) -> list[dict]:
    kinds = sorted({kind for report in reports for kind in report.exceptions})
    return [
        {
            "label": ExceptionKind(kind).label
            if kind in ExceptionKind.values
            else kind,
            "cells": [report.exceptions.get(kind, 0) for report in reports],
        }
        for kind in kinds
    ]


def _location_rows(reports: list[DayReport]) -> list[dict]:
    if not reports:
        return []
    rows = []
    for index, first in enumerate(reports[0].locations):
        cells = []
        for report in reports:
            row = report.locations[index]
            rate = row.cancellation_rate
            cells.append(
                {
                    "orders": row.orders,
                    "text": f"{row.stock_cancelled_orders} ({formatted(rate, 'pct')})",
                    "width": round(60 * (rate or 0)),
                }
            )
        rows.append({"code": first.code, "name": first.name, "cells": cells})
    return rows
