"""The Project 06 dashboard (Streamlit): `de06 dashboard` serves it on 127.0.0.1.

Pages: the national and the provincial scorecard, the ranking of provinces, trends re-based on
today's units, the Decision 766 index, and data freshness and quality. Every rerun opens the
published database read-only and closes it, so a new publish shows on the next click or
reload, with no restart. Vietnamese by default, English by the switch in the sidebar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from de06.dashboard import data
from de06.dashboard.index766 import page_index
from de06.dashboard.texts import CSS, GRAIN_NAMES
from de06.dashboard.ui import (
    english,
    esc,
    header,
    label_period,
    name_of,
    settings,
    status_badge,
    t,
    table,
)
from de06.formatting import format_change, format_vn
from de06.reading import published


def pick_period(con: Any, key: str) -> str | None:
    left, right = st.columns([1, 2])
    grain = left.selectbox(
        t("grain"),
        data.GRAINS,
        format_func=lambda g: GRAIN_NAMES[g][1 if english() else 0],
        key=f"{key}_grain",
    )
    choices = data.periods(con, grain)
    if not choices:
        st.info(t("no_data"))
        return None
    return str(right.selectbox(t("period"), choices, format_func=label_period, key=f"{key}_period"))


def pick_indicator(con: Any, key: str) -> dict:
    """An indicator of the catalogue (the online-dossier rate first)."""
    catalogue = data.indicators(con)
    first = next(
        (n for n, i in enumerate(catalogue) if i["indicator_code"] == "online_dossier_rate"), 0
    )
    return dict(st.selectbox(t("indicator"), catalogue, index=first, format_func=name_of, key=key))


def cards(items: Sequence[dict]) -> None:
    html_cards = []
    for item in items:
        unit = item["unit"]
        rank = f"{t('rank')} {item['rank']}/{item['ranked_of']}" if item["rank"] is not None else ""
        target = format_vn(item["target"], unit) if item["target"] is not None else "—"
        html_cards.append(
            f'<div class="de06-card {esc(item["attainment"] or "no_target")}" '
            f'data-indicator="{esc(item["indicator_code"])}">'
            f'<div class="name">{esc(name_of(item))}</div>'
            f'<div class="value">{esc(format_vn(item["value"], unit))}</div>'
            f'<div class="line">{t("target")}: {esc(target)} · {status_badge(item["attainment"])}</div>'
            f'<div class="line">{t("vs_previous")}: '
            f"{esc(format_change(item['change_vs_previous_period'], unit))}</div>"
            f'<div class="line">{t("vs_year")}: '
            f"{esc(format_change(item['change_vs_previous_year'], unit))}</div>"
            f'<div class="line">{esc(rank)}</div></div>'
        )
    st.markdown(
        f'<div class="de06-cards" data-testid="scorecard">{"".join(html_cards)}</div>',
        unsafe_allow_html=True,
    )


def page_national() -> None:
    st.header(t("national"))
    with published(settings().published_db) as con:
        header(con)
        period = pick_period(con, "national")
        if period is None:
            return
        unit = data.nation(con)
        items = data.scorecard(con, unit["unit_key"], period)
    st.subheader(f"{unit['unit_name']} — {label_period(period)}")
    if items:
        cards(items)
    else:
        st.info(t("no_data"))


def page_province() -> None:
    st.header(t("province"))
    with published(settings().published_db) as con:
        header(con)
        provinces = data.provinces_today(con)
        chosen = st.selectbox(
            t("province"),
            provinces,
            format_func=lambda p: f"{p['unit_code']} — {p['unit_name']}",
            key="province_unit",
        )
        period = pick_period(con, "province")
        if period is None or chosen is None:
            return
        items = data.scorecard(con, chosen["unit_key"], period)
    st.subheader(f"{chosen['unit_name']} — {label_period(period)}")
    st.caption(t("rebased"))
    if items:
        cards(items)
    else:
        st.info(t("no_data"))


def page_ranking() -> None:
    st.header(t("ranking"))
    with published(settings().published_db) as con:
        header(con)
        indicator = pick_indicator(con, "ranking_indicator")
        period = pick_period(con, "ranking")
        if period is None:
            return
        ranked = data.ranking(con, indicator["indicator_code"], period)
    if not ranked:
        st.info(t("no_data"))
        return
    unit = indicator["unit"]
    st.subheader(f"{name_of(indicator)} — {label_period(period)}")
    st.caption(f"{len(ranked)} {t('units_ranked')}. {t('as_was')}")
    frame = pd.DataFrame(
        {
            "unit": [f"{r['unit_code']} {r['unit_name']}" for r in ranked],
            "value": [r["value"] for r in ranked],
            "status": [r["attainment"] or "no_target" for r in ranked],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "value:Q", title=t("value"), axis=alt.Axis(format="%" if unit == "rate" else ",")
            ),
            y=alt.Y("unit:N", sort=None, title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["exceeded", "met", "not_met", "no_target"],
                    range=["#1a7f37", "#4ac26b", "#cf222e", "#8c959f"],
                ),
                legend=None,
            ),
        )
        .properties(height=max(200, 16 * len(ranked)))
    )
    left, right = st.columns([3, 2])
    with left:
        table(
            [t("rank"), t("unit"), t("value"), t("target"), t("status"), t("vs_previous")],
            [
                [
                    (esc(r["rank"]) if r["rank"] is not None else "—", True),
                    (esc(f"{r['unit_code']} {r['unit_name']}"), False),
                    (esc(format_vn(r["value"], unit)), True),
                    (esc(format_vn(r["target"], unit)) if r["target"] is not None else "—", True),
                    (status_badge(r["attainment"]), False),
                    (esc(format_change(r["change_vs_previous_period"], unit)), True),
                ]
                for r in ranked
            ],
            "ranking",
        )
    with right:
        st.altair_chart(chart, width="stretch")


def page_trends() -> None:
    st.header(t("trends"))
    with published(settings().published_db) as con:
        header(con)
        indicator = pick_indicator(con, "trend_indicator")
        grain = st.selectbox(
            t("grain"),
            ("month", "quarter", "year"),
            format_func=lambda g: GRAIN_NAMES[g][1 if english() else 0],
            key="trend_grain",
        )
        nation = data.nation(con)
        provinces = data.provinces_today(con)
        options = [nation, *provinces]
        chosen = st.multiselect(
            t("units"),
            options,
            default=[nation, *provinces[:3]],
            format_func=lambda p: f"{p['unit_code']} — {p['unit_name']}",
            key="trend_units",
        )
        points = data.trend(
            con, indicator["indicator_code"], grain, [u["unit_code"] for u in chosen]
        )
    st.caption(t("rebased"))
    if not points:
        st.info(t("no_data"))
        return
    unit = indicator["unit"]
    frame = pd.DataFrame(
        {
            "period": [p["period_start"] for p in points],
            "unit": [f"{p['unit_code']} {p['unit_name']}" for p in points],
            "value": [p["value"] for p in points],
        }
    )
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=t("period"), axis=alt.Axis(format="%m/%Y")),
            y=alt.Y(
                "value:Q",
                title=name_of(indicator),
                axis=alt.Axis(format="%" if unit == "rate" else ","),
            ),
            color=alt.Color("unit:N", title=t("unit")),
        )
        .properties(height=380)
    )
    st.altair_chart(chart, width="stretch")
    periods = sorted({(p["period_start"], p["period"]) for p in points})
    by_unit: dict[str, dict[str, float | None]] = {}
    for p in points:
        by_unit.setdefault(f"{p['unit_code']} {p['unit_name']}", {})[p["period"]] = p["value"]
    table(
        [t("unit"), *(label_period(code) for _, code in periods)],
        [
            [
                (esc(name), False),
                *((esc(format_vn(values.get(code), unit)), True) for _, code in periods),
            ]
            for name, values in by_unit.items()
        ],
        "trend",
    )


def page_quality() -> None:
    st.header(t("quality"))
    with published(settings().published_db) as con:
        info = header(con)
        counts = data.check_counts(con)
        failed = data.failed_checks(con)
        submissions = data.submissions_by_unit(con)
    age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - info.published_at
    left, middle, right = st.columns(3)
    hours = int(age.total_seconds() // 3600)
    left.metric(
        t("published"),
        f"{info.published_at:%d/%m/%Y}",
        f"{info.published_at:%H:%M} UTC, {hours} h {t('age')}",
        delta_color="off",
    )
    middle.metric(t("checks"), f"{counts['passed']}/{counts['total']} {t('checks_passed')}")
    right.metric(
        t("quarantined"), format_vn(sum(s["rows_quarantined"] for s in submissions), "count")
    )
    st.subheader(t("failed_checks"))
    if failed:
        table(
            ["suite", "table", "check", t("status"), "n"],
            [
                [
                    (esc(f["suite"]), False),
                    (esc(f["table_name"]), False),
                    (esc(f["expectation"]), False),
                    (esc(f["severity"]), False),
                    (esc(format_vn(f["unexpected_count"], "count")), True),
                ]
                for f in failed
            ],
            "failed-checks",
        )
    else:
        st.success(t("none_failed"))
    st.subheader(t("submissions"))
    table(
        [t("unit"), t("expected"), t("missing"), t("late"), t("quarantined")],
        [
            [
                (esc(f"{s['unit_code']} {s['unit_name']}"), False),
                (esc(format_vn(s["expected"], "count")), True),
                (esc(format_vn(s["missing"], "count")), True),
                (esc(format_vn(s["late"], "count")), True),
                (esc(format_vn(s["rows_quarantined"], "count")), True),
            ]
            for s in submissions
        ],
        "submissions",
    )


PAGES: tuple[tuple[Callable[[], None], str, str], ...] = (
    (page_national, "national", "national"),
    (page_province, "province", "province"),
    (page_ranking, "ranking", "ranking"),
    (page_trends, "trends", "trends"),
    (page_index, "index", "index-766"),
    (page_quality, "quality", "quality"),
)


def main() -> None:
    st.set_page_config(page_title="Đề án 06", layout="wide")
    st.markdown(CSS, unsafe_allow_html=True)
    st.sidebar.radio("Ngôn ngữ / Language", ("Tiếng Việt", "English"), key="lang", horizontal=True)
    st.sidebar.title(t("title"))
    pages = [
        st.Page(func, title=t(key), url_path=path, default=(path == "national"))
        for func, key, path in PAGES
    ]
    st.navigation(pages).run()


main()
