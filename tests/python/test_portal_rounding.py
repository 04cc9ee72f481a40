"""The portal's rounding (macros/portal_rounding.sql) against Python's exact arithmetic.

The expected figures come from Python alone: the double the portal computes, rounded to two
decimals by its exact binary value (``Decimal(float)`` is exact), ties away from zero. The
SQL is the macros' own, rendered by Jinja (a two-line stand-in for dbt's ``adapter.dispatch``
and ``return``) and run by DuckDB: every percentage 0.00–100.00 under every weight of the
766 rules, 20 000 random shares, and shares that fall exactly on a tie.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pytest

MACROS = Path(__file__).resolve().parents[2] / "macros"
CENT = Decimal("0.01")
# (max points, full points at %): the 766-2025-07 rules' linear weights and caps, payment's
# B and C (2 at 80 %: 2.5 per share), satisfaction (6 at 90 %)
RULES = [(6, 100), (4, 100), (2, 100), (20, 100), (12, 100), (10, 100), (6, 90), (2, 80), (0, 100)]


def portal_round(value: float) -> Decimal:
    """A double rounded to two decimals by its exact binary value, ties away from zero."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def expected_percent(num: int, den: int) -> Decimal:
    return portal_round((num / den) * 100)


def expected_points(percent: Decimal, max_points: int, full_at_pct: int) -> Decimal:
    weight = max_points * 100 / full_at_pct
    return min(Decimal(max_points), portal_round((float(percent) * weight) / 100))


class _Adapter:
    def __init__(self) -> None:
        self.module: Any = None

    def dispatch(self, name: str, _package: str) -> Any:
        return getattr(self.module, f"default__{name}")


@pytest.fixture(scope="module")
def macros() -> Any:
    adapter = _Adapter()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(MACROS))
    env.globals.update(adapter=adapter, **{"return": lambda value: value})
    adapter.module = env.get_template("portal_rounding.sql").module
    return adapter.module


def run(sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_documented_tie_rounds_down_as_the_portal_does(macros: Any) -> None:
    # 373 of 400 = 93.25 %; 93.25 × 6 ÷ 100 is the double 5.594999…: 5.59, not 5.60
    assert expected_points(expected_percent(373, 400), 6, 100) == Decimal("5.59")
    percent = str(macros.portal_percent_cents("373.0", "400.0"))
    points = str(macros.portal_points_cents(f"({percent})", "6", "100"))
    assert run(f"select {percent}, {points}") == [(9325, 559)]


def test_every_percentage_under_every_rule(macros: Any) -> None:
    sql = str(macros.portal_points_cents("p", "m", "f"))
    rules = ", ".join(f"({m}, {f})" for m, f in RULES)
    rows = run(
        f"select p, m, f, {sql} from range(0, 10001) as t(p) "
        f"cross join (values {rules}) as r(m, f) order by all"
    )
    assert len(rows) == 10001 * len(RULES)
    wrong = [
        (p, m, f, got)
        for p, m, f, got in rows
        if Decimal(got) / 100 != expected_points(Decimal(p) / 100, m, f)
    ]
    assert wrong == []
    # ties are common: the naive round of the decimal would differ on some of them
    naive = [
        (p, m, f)
        for p, m, f, _ in rows
        if (Decimal(p) * m / f).quantize(Decimal(1), rounding=ROUND_HALF_UP) / 100
        != expected_points(Decimal(p) / 100, m, f)
        and Decimal(p) * m / f < m * 100
    ]
    assert len(naive) > 100


def test_random_shares_and_shares_on_a_tie(macros: Any) -> None:
    rng = random.Random(766)
    cases = [(rng.randint(0, den), den) for den in (rng.randint(1, 10**6) for _ in range(20_000))]
    # on a tie of the percentage: num / 40 000 × 10 000 hundredths = an odd number of halves
    cases += [(2 * k + 1, 40_000) for k in range(0, 20_000, 7)]
    cases += [(k, 200) for k in range(201)] + [(k, 8) for k in range(9)]
    sql = str(macros.portal_percent_cents("cast(num as double)", "cast(den as double)"))
    values = ", ".join(f"({n}, {d})" for n, d in cases)
    rows = run(f"select num, den, {sql} from (values {values}) as t(num, den)")
    wrong = [(n, d, got) for n, d, got in rows if Decimal(got) / 100 != expected_percent(n, d)]
    assert wrong == []
    assert len(rows) == len(cases)


def test_a_zero_denominator_has_no_percentage(macros: Any) -> None:
    sql = str(macros.portal_percent_cents("0.0", "0.0"))
    assert run(f"select {sql}") == [(None,)]
