import datetime as dt

import pytest

from de06.periods import parse_period


@pytest.mark.parametrize(
    ("code", "grain", "start", "end"),
    [
        ("2025", "year", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025-H1", "half_year", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
        ("2025-h2", "half_year", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
        ("2024-Q1", "quarter", dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
        ("2025-Q3", "quarter", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        ("2024-02", "month", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-02", "month", dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
    ],
)
def test_periods(code: str, grain: str, start: dt.date, end: dt.date) -> None:
    period = parse_period(code)
    assert (period.grain, period.start, period.end) == (grain, start, end)


@pytest.mark.parametrize(
    "code", ["2025-Q5", "2025-13", "2025-H3", "25-Q1", "2025/04", "", "Q1-2025"]
)
def test_not_periods(code: str) -> None:
    with pytest.raises(ValueError, match="is not a period"):
        parse_period(code)
