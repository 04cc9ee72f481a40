"""The dashboard's Decision 766 page.

From July 2025 the page is on the national portal's scale: each province's total out of 100
(points recomputed from its dossiers, the portal's published points for what only the portal
knows, marked), the portal's own total beside it, the rank shown (the published one where the
province submitted it, else among the provinces with a full total) and the points to the next
rank; per component, recomputed and published side by side with the difference and its likely
reason. No band is shown on that scale: no source gives its thresholds. Earlier periods keep
the 2024 reconstruction (the index over the points the feed can compute, with its bands).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from de06.dashboard import data
from de06.dashboard.ui import english, esc, header, label_period, settings, t, table
from de06.formatting import format_change, format_vn
from de06.reading import published


def points(value: float | None) -> str:
    return esc(format_vn(value, "points"))


def rank_text(rank: int | None, of: int | None) -> str:
    return esc(f"{rank}/{of}") if rank is not None else "—"


def page_index() -> None:
    st.header(t("index"))
    with published(settings().published_db) as con:
        header(con)
        choices = data.index_766_periods(con)
        if not choices:
            st.info(t("no_data"))
            return
        period = st.selectbox(t("period"), choices, format_func=label_period, key="index_period")
        ranked = data.index_766(con, period)
        # the portal's scale has no sourced bands: a version without them is on that scale
        on_scale = all(r["band_code"] is None for r in ranked)
        ranked.sort(key=_order(on_scale))
        chosen = st.selectbox(
            t("province"),
            ranked,
            format_func=lambda r: f"{r['unit_code']} — {r['unit_name']}",
            key="index_unit",
        )
        components = data.index_766_components(con, chosen["unit_key"], period) if chosen else []
    if on_scale:
        st.caption(t("portal_scale"))
        _ranking_on_scale(ranked)
    else:
        _ranking_with_bands(ranked)
    if chosen:
        st.subheader(f"{t('groups')}: {chosen['unit_name']}")
        _groups(components)
        st.subheader(f"{t('components')}: {chosen['unit_name']}")
        _components(components, on_scale)


def _order(on_scale: bool) -> Any:
    def key(r: dict) -> tuple:
        rank = r["rank_shown"] if on_scale else (r["published_rank"] or r["rank"])
        total = r["scale_total"] if on_scale else r["index_score"]
        return (rank is None, rank or 0, total is None, -(total or 0), r["unit_code"])

    return key


def _ranking_on_scale(ranked: list[dict]) -> None:
    def total(r: dict) -> str:
        if r["scale_total"] is not None:
            return points(r["scale_total"])
        return esc(t("missing_components").format(n=r["scale_missing_count"]))

    table(
        [
            t("rank"),
            t("unit"),
            t("scale_total"),
            t("portal_total"),
            t("difference"),
            t("to_next_rank"),
        ],
        [
            [
                (rank_text(r["rank_shown"], r["rank_shown_of"]), True),
                (esc(f"{r['unit_code']} {r['unit_name']}"), False),
                (total(r), True),
                (points(r["portal_total"] or r["published_score"]), True),
                (
                    esc(_difference(r["scale_total"], r["portal_total"] or r["published_score"])),
                    True,
                ),
                (points(r["points_to_next_rank"]), True),
            ]
            for r in ranked
        ],
        "index-ranking",
    )


def _difference(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None:
        return "—"
    return format_change(round(ours - theirs, 2), "points")


def _ranking_with_bands(ranked: list[dict]) -> None:
    table(
        [t("rank"), t("unit"), t("score"), t("band"), t("published_score")],
        [
            [
                (rank_text(r["rank"], r["ranked_of"]), True),
                (esc(f"{r['unit_code']} {r['unit_name']}"), False),
                (points(r["index_score"]), True),
                (esc(r["band_name_vi"]), False),
                (points(r["published_score"]), True),
            ]
            for r in ranked
        ],
        "index-ranking",
    )


def _groups(components: list[dict]) -> None:
    groups: dict[str, dict] = {}
    for c in components:
        groups.setdefault(c["group_code"], c)
    table(
        ["", t("scale_points"), t("portal_total"), t("recomputed"), t("max")],
        [
            [
                (esc(g["group_name_en"] if english() else g["group_name_vi"]), False),
                (points(g["group_scale_points"]), True),
                (points(g["published_group_points"]), True),
                (points(g["group_points"]), True),
                (points(g["group_max_points"]), True),
            ]
            for g in groups.values()
        ],
        "index-groups",
    )


def _components(components: list[dict], on_scale: bool) -> None:
    def scale(c: dict) -> str:
        if c["scale_points_source"] == "missing":
            return esc(t("source_missing"))
        marks = {"published": "source_published", "recomputed_in_part": "source_in_part"}
        mark = f" {t(marks[c['scale_points_source']])}" if c["scale_points_source"] in marks else ""
        return points(c["scale_points"]) + esc(mark)

    def reason(c: dict) -> str:
        if not c["difference_reason"]:
            return ""
        counts = ""
        if c["published_denominator"] is not None and c["denominator"] is not None:
            counts = (
                f" ({format_vn(c['numerator'], 'count')}/{format_vn(c['denominator'], 'count')}"
                f" ↔ {format_vn(c['published_numerator'], 'count')}/"
                f"{format_vn(c['published_denominator'], 'count')})"
            )
        return esc((c["difference_reason"] if english() else c["difference_reason_vi"]) + counts)

    headers = ["", t("indicator"), t("recomputed")]
    headers += (
        [t("portal_total"), t("difference"), t("scale_points"), t("reason")] if on_scale else []
    )
    body = []
    for c in components:
        row = [
            (esc(c["group_code"]), False),
            (esc(c["component_name_en"] if english() else c["component_name_vi"]), False),
            # not computed: not in the dossier feed, or no dossiers (the scale column says more)
            (points(c["points"]) if c["is_computed"] else "—", True),
        ]
        if on_scale:
            row += [
                (points(c["published_points"]), True),
                (esc(_difference(c["points"], c["published_points"])), True),
                (scale(c), True),
                (reason(c), False),
            ]
        body.append(row)
    table(
        [*headers, t("max")],
        [[*r, (points(c["max_points"]), True)] for r, c in zip(body, components, strict=True)],
        "index-components",
    )
