"""What the dashboard shows, read from the published database only.

Every function takes a read-only connection that the page opens for one rerun and closes
after it: a new publish (the file replaced whole) is picked up by the next rerun, with no
restart and no lock held between reruns. Figures come straight from the marts; nothing here
recomputes a rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from de06.reading import rows

# the indicators of the scorecards, in the order shown (the catalogue's headline ones)
SCORECARD = (
    "online_dossier_rate",
    "full_online_rate",
    "on_time_rate",
    "online_payment_rate",
    "digitization_rate",
    "national_sync_rate",
    "satisfaction_rate",
    "overdue_backlog",
    "eid_activation_rate",
    "social_cashless_share",
    "school_fee_cashless_share",
    "task_completion_rate",
)
GRAINS = ("quarter", "month", "half_year", "year")


def indicators(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(
        con,
        "select indicator_code, name_vi, name_en, unit, direction, source "
        "from marts.dim_indicator order by indicator_code",
    )


def periods(con: duckdb.DuckDBPyConnection, grain: str) -> list[str]:
    """The periods of a grain that have provincial figures, newest first."""
    return [
        r[0]
        for r in con.execute(
            "select distinct period from marts.fct_indicator_values "
            "where period_grain = ? and unit_level = 'province' and is_headline "
            "order by period desc",
            [grain],
        ).fetchall()
    ]


def provinces_today(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Today's provinces (34), by code."""
    return rows(
        con,
        "select unit_key, unit_code, unit_name from marts.dim_unit "
        "where unit_level = 'province' and valid_to is null order by unit_code",
    )


def nation(con: duckdb.DuckDBPyConnection) -> dict:
    return rows(
        con,
        "select unit_key, unit_code, unit_name from marts.dim_unit where unit_level = 'nation'",
    )[0]


def scorecard(con: duckdb.DuckDBPyConnection, unit_key: str, period: str) -> list[dict]:
    """A unit's headline figures for a period, history re-based on today's units (so a province
    formed on 1 July 2025 has its change against a year earlier)."""
    order = ", ".join(f"'{code}'" for code in SCORECARD)
    return rows(
        con,
        f"""
        select f.indicator_code, i.name_vi, i.name_en, i.unit, i.direction, f.value, f.target,
            f.attainment, f.change_vs_previous_period, f.change_vs_previous_year, f.rank,
            f.ranked_of, f.numerator, f.denominator, f.source
        from marts.fct_indicator_values_current_units as f
        inner join marts.dim_indicator as i on f.indicator_code = i.indicator_code
        where f.unit_key = ? and f.period = ? and f.is_headline and f.dimension = ''
            and f.indicator_code in ({order})
        order by list_position([{order}], f.indicator_code)
        """,
        [unit_key, period],
    )


def ranking(con: duckdb.DuckDBPyConnection, indicator_code: str, period: str) -> list[dict]:
    """The provinces as they were in the period (63 before 1 July 2025, 34 after), ranked."""
    return rows(
        con,
        """
        select f.rank, f.unit_code, u.unit_name, f.value, f.target, f.attainment,
            f.change_vs_previous_period, f.numerator, f.denominator, f.ranked_of
        from marts.fct_indicator_values as f
        inner join marts.dim_unit as u on f.unit_key = u.unit_key
        where f.indicator_code = ? and f.period = ? and f.unit_level = 'province'
            and f.is_headline and f.dimension = ''
        order by f.rank nulls last, f.unit_code
        """,
        [indicator_code, period],
    )


def trend(
    con: duckdb.DuckDBPyConnection, indicator_code: str, grain: str, unit_codes: Sequence[str]
) -> list[dict]:
    """An indicator over time for today's units, history re-based (and the nation)."""
    if not unit_codes:
        return []
    marks = ", ".join("?" for _ in unit_codes)
    return rows(
        con,
        f"""
        select f.period, f.period_start, f.unit_code, u.unit_name, f.value
        from marts.fct_indicator_values_current_units as f
        inner join marts.dim_unit as u on f.unit_key = u.unit_key
        where f.indicator_code = ? and f.period_grain = ? and f.is_headline
            and f.dimension = '' and f.unit_code in ({marks})
            and f.unit_level in ('nation', 'province')
        order by f.period_start, f.unit_code
        """,
        [indicator_code, grain, *unit_codes],
    )


def index_766(con: duckdb.DuckDBPyConnection, period: str) -> list[dict]:
    """The provinces' 766 index for a period: on the portal's scale (the total out of 100, the
    components missing from it, the rank shown) and as recomputed over the points the feed
    gives (index, band, rank), with the scores the portal and the province published."""
    return rows(
        con,
        """
        select distinct unit_key, unit_code, unit_name, weights_version, rank, ranked_of,
            index_score, band_name_vi, band_code, total_points, computed_max_points, scale_total,
            scale_missing_count, scale_missing_components, scale_published_count, rank_shown,
            rank_shown_of, points_to_next_rank, published_score, published_rank,
            published_total as portal_total
        from marts.fct_index_766
        where period = ? and unit_level = 'province'
        order by unit_code
        """,
        [period],
    )


def index_766_periods(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select distinct period from marts.fct_index_766 where unit_level = 'province' "
            "order by period desc"
        ).fetchall()
    ]


def index_766_components(con: duckdb.DuckDBPyConnection, unit_key: str, period: str) -> list[dict]:
    """A unit's components: recomputed, published, the difference and its reason, and the
    points on the portal's scale with where they come from."""
    return rows(
        con,
        """
        select group_code, group_name_vi, group_name_en, component_code, component_name_vi,
            component_name_en, rate, points, max_points, points_lost, is_computed,
            missing_reason, numerator, denominator, published_numerator, published_denominator,
            published_points, points_difference, difference_reason, difference_reason_vi,
            scale_points, scale_points_source, group_points, group_scale_points,
            published_group_points, group_max_points
        from marts.fct_index_766
        where unit_key = ? and period = ?
        order by group_code, component_code
        """,
        [unit_key, period],
    )


def failed_checks(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The quality checks of the published refresh that did not pass (warnings: errors stop a
    publish)."""
    return rows(
        con,
        """
        select suite, table_name, expectation, column_name, severity, unexpected_count
        from meta.validation_results
        where not success
        order by severity, table_name, expectation
        """,
    )


def check_counts(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    total, passed = con.execute(
        "select count(*), count(*) filter (where success) from meta.validation_results"
    ).fetchone()  # type: ignore[misc]
    return {"total": total, "passed": passed}


def submissions_by_unit(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per unit: reports expected, missing, late, and rows quarantined, where any went wrong."""
    return rows(
        con,
        """
        select s.unit_code, u.unit_name, s.unit_level,
            sum(s.expected)::bigint as expected, sum(s.missing)::bigint as missing,
            sum(s.late)::bigint as late, sum(s.rows_quarantined)::bigint as rows_quarantined,
            max(s.period) filter (where s.missing > 0) as last_missing_period
        from marts.fct_submission_status as s
        inner join marts.dim_unit as u on s.unit_key = u.unit_key
        group by all
        having sum(s.missing) > 0 or sum(s.late) > 0 or sum(s.rows_quarantined) > 0
        order by rows_quarantined desc, missing desc, s.unit_code
        """,
    )
