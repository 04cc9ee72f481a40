"""The Vietnamese number parser: the spec's examples and every rule of de06.numbers."""

import pytest

from de06.numbers import NumberFormatError, parse_number


@pytest.mark.parametrize(
    ("text", "value", "decimals", "percent"),
    [
        ("127.450", 127450, 0, False),  # Vietnamese thousands (spec)
        ("99,07%", 99.07, 2, True),  # decimal comma and percent sign (spec)
        ("5.052,5", 5052.5, 1, False),  # both separators (spec)
        ("8.502", 8502, 0, False),
        ("27.843,5", 27843.5, 1, False),
        ("89,8", 89.8, 1, False),
        ("0,11", 0.11, 2, False),
        ("1.234.567", 1234567, 0, False),
        ("1,234,567", 1234567, 0, False),  # several commas can only be English thousands
        ("1,234.5", 1234.5, 1, False),  # English with both separators
        ("89.8", 89.8, 1, False),  # a single dot not grouping in threes is a decimal point
        ("0.123", 0.123, 3, False),  # a leading zero never starts a thousands group
        ("0,125", 0.125, 3, False),
        (" 142 ", 142, 0, False),
        ("127\u00a0450", 127450, 0, False),  # non-breaking space as thousands separator
        ("-5", -5, 0, False),
        ("5052,500", 5052.5, 3, False),  # first group of four digits: not thousands
    ],
)
def test_reads_numbers(text: str, value: float, decimals: int, percent: bool) -> None:
    parsed = parse_number(text)
    assert parsed is not None
    assert parsed.value == pytest.approx(value, abs=1e-12)
    assert parsed.decimals == decimals
    assert parsed.percent_sign is percent


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_cell_is_none(text: str | None) -> None:
    assert parse_number(text) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1,234", "ambiguous"),  # 1,234 (VN decimal) or 1234 (EN thousands)
        ("127,450", "ambiguous"),
        ("12a", "not a number"),
        ("1.2.3", "not a number"),
        ("1.23,4", "grouped in threes"),
        ("1,2,3", "not a number"),
        ("1.234,5,6", "more than one decimal separator"),
        ("%", "not a number"),
        ("=1+2", "not a number"),
    ],
)
def test_rejects_what_it_cannot_read(text: str, fragment: str) -> None:
    with pytest.raises(NumberFormatError, match=fragment):
        parse_number(text)
