"""Figures as Vietnamese readers expect them: 99,07% · 127.450 · +1,50 điểm % · Quý IV/2025.

One place for the scorecard, the report and the dashboard. Rates are stored as fractions and
shown as percentages; a change of a rate is in percentage points (điểm %).
"""

from __future__ import annotations

from de06.periods import Period

ROMAN_QUARTERS = ("I", "II", "III", "IV")


def format_vn(value: float | None, unit: str = "rate", decimals: int = 2) -> str:
    """Vietnamese number format: 99,07% for rates, 127.450 for counts, 85,50 for points.

    A count is shown whole unless it is not (a few reported ones are: 27.843,5 statutory days),
    so no figure is rounded away."""
    if value is None:
        return "—"
    number = value * 100 if unit == "rate" else value
    places = 0 if unit == "count" and float(number).is_integer() else decimals
    text = f"{number:,.{places}f}".replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text + ("%" if unit == "rate" else "")


def format_change(value: float | None, unit: str) -> str:
    """A change: percentage points for rates (+1,50 điểm %), the unit's own otherwise."""
    if value is None:
        return "—"
    shown = round(value, 0 if unit == "count" else 2)
    sign = "+" if shown > 0 else ("−" if shown < 0 else "±")
    magnitude = format_vn(abs(shown), "count" if unit == "count" else "points")
    return f"{sign}{magnitude}" + (" điểm %" if unit == "rate" else "")


def period_label(period: Period, english: bool = False) -> str:
    """Tháng 10/2025, Quý IV/2025, 6 tháng đầu năm 2025, Năm 2025 (or in English)."""
    year, month = period.start.year, period.start.month
    if period.grain == "month":
        return f"{year}-{month:02d}" if english else f"Tháng {month:02d}/{year}"
    if period.grain == "quarter":
        quarter = ROMAN_QUARTERS[(month - 1) // 3]
        return f"Q{(month - 1) // 3 + 1} {year}" if english else f"Quý {quarter}/{year}"
    if period.grain == "half_year":
        if english:
            return f"H{1 if month == 1 else 2} {year}"
        return f"6 tháng {'đầu' if month == 1 else 'cuối'} năm {year}"
    return str(year) if english else f"Năm {year}"
