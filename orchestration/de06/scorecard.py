"""The demo's closing scorecard: a few provinces' headline indicators for the latest complete
quarter, in Vietnamese, as text for a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from de06.formatting import format_vn

SCORECARD_INDICATORS = (
    ("online_dossier_rate", "Trực tuyến"),
    ("on_time_rate", "Đúng hạn"),
    ("online_payment_rate", "TT trực tuyến"),
    ("national_sync_rate", "Đồng bộ"),
)


def scorecard(published: Path, provinces: tuple[str, ...] = ("75", "52", "08", "79")) -> str:
    """A few provinces' headline indicators for the latest complete quarter, in Vietnamese."""
    import duckdb

    con = duckdb.connect(str(published), read_only=True)
    try:
        period = con.execute(
            "select max(period) from marts.fct_indicator_values "
            "where period_grain = 'quarter' and source = 'computed' and unit_level = 'province'"
        ).fetchone()[0]  # type: ignore[index]
        rows = con.execute(
            f"""
            select f.unit_code, u.unit_name, f.indicator_code, f.value, f.rank, f.ranked_of,
                   f.attainment, f.change_vs_previous_year
            from marts.fct_indicator_values f
            join marts.dim_unit u using (unit_key)
            where f.period = ? and f.source = 'computed' and f.unit_level = 'province'
              and f.unit_code in ({", ".join("?" for _ in provinces)})
              and f.indicator_code in ({", ".join("?" for _ in SCORECARD_INDICATORS)})
            """,
            [period, *provinces, *(c for c, _ in SCORECARD_INDICATORS)],
        ).fetchall()
        index = _index_766(con, period, provinces)
        national = dict(
            con.execute(
                "select indicator_code, value from marts.fct_indicator_values "
                "where period = ? and unit_level = 'nation' and source = 'computed'",
                [period],
            ).fetchall()
        )
    finally:
        con.close()
    by_unit: dict[tuple[str, str], dict[str, tuple]] = {}
    for code, name, indicator, value, rank, ranked_of, attainment, change in rows:
        by_unit.setdefault((code, name), {})[indicator] = (
            value,
            rank,
            ranked_of,
            attainment,
            change,
        )
    marks = {"exceeded": "▲", "met": "=", "not_met": "▼", "no_target": " "}
    header = (
        f"{'Tỉnh / thành phố':<22}"
        + "".join(f"{label:>22}" for _, label in SCORECARD_INDICATORS)
        + "   Chỉ số 766"
    )
    lines = [f"Bảng điểm quý {period} (kỳ gần nhất) — hạng / số tỉnh, ▲▼ so với chỉ tiêu", header]
    for (code, name), values in sorted(by_unit.items()):
        cells = []
        for indicator, _ in SCORECARD_INDICATORS:
            value, rank, ranked_of, attainment, _ = values.get(indicator, (None,) * 5)
            rank_text = f"{rank}/{ranked_of}" if rank else ""
            cells.append(f"{format_vn(value)} {rank_text:>5} {marks.get(attainment or '', ' ')}")
        line = f"{code + ' ' + name:<22}" + "".join(f"{c:>22}" for c in cells)
        score, band, rank, ranked_of = index.get(code, (None, "", None, None))
        if score is not None:
            rank_text = f"{rank}/{ranked_of}" if rank else ""
            line += "   " + f"{score:.2f}".replace(".", ",") + f" {rank_text:>5} {band}"
        lines.append(line)
    lines.append(
        f"{'Toàn quốc':<22}"
        + "".join(f"{format_vn(national.get(i)):>22}" for i, _ in SCORECARD_INDICATORS)
    )
    return "\n".join(lines)


def _index_766(con: Any, period: str, provinces: Sequence[str]) -> dict[str, tuple]:
    """Each province's 766 score, label and rank: on the portal's scale (no sourced bands) the
    total out of 100 and the rank shown; before it, the index over the points the feed
    gives, its band and rank."""
    return {
        code: (score, band, rank, ranked_of)
        for code, score, band, rank, ranked_of in con.execute(
            f"""
            select distinct unit_code,
                case when band_code is null then scale_total else index_score end,
                case when band_code is null then '(thang Cổng)' else band_name_vi end,
                case when band_code is null then rank_shown else rank end,
                case when band_code is null then rank_shown_of else ranked_of end
            from marts.fct_index_766
            where period = ? and unit_level = 'province'
              and unit_code in ({", ".join("?" for _ in provinces)})
            """,
            [period, *provinces],
        ).fetchall()
    }
