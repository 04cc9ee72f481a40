"""What every page of the dashboard uses: the language, the words, tables, the header."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import streamlit as st

from de06.dashboard.texts import ATTAINMENT, TEXT
from de06.formatting import period_label
from de06.periods import parse_period
from de06.reading import Publish, publish_info
from de06.settings import Settings


def english() -> bool:
    return bool(st.session_state.get("lang") == "English")


def t(key: str) -> str:
    vi, en = TEXT[key]
    return en if english() else vi


def name_of(item: dict) -> str:
    return str(item["name_en"] if english() else item["name_vi"])


def label_period(code: str) -> str:
    return period_label(parse_period(code), english=english())


def status_badge(attainment: str | None) -> str:
    if not attainment:
        return "—"
    vi, en = ATTAINMENT.get(attainment, (attainment, attainment))
    return f'<span class="de06-status {attainment}">{en if english() else vi}</span>'


def table(headers: Sequence[str], body: Sequence[Sequence[tuple[str, bool]]], test_id: str) -> None:
    """An HTML table (its text is in the page, for readers and for the browser tests); each
    cell is (already formatted text or HTML, numeric)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    lines = []
    for row in body:
        cells = "".join(f'<td class="n">{c}</td>' if n else f"<td>{c}</td>" for c, n in row)
        lines.append(f"<tr>{cells}</tr>")
    st.markdown(
        f'<table class="de06" data-testid="{test_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>",
        unsafe_allow_html=True,
    )


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def settings() -> Settings:
    return Settings.from_env()


def header(con: Any) -> Publish:
    info = publish_info(con)
    st.caption(
        f"{t('published')} {info.published_at:%d/%m/%Y %H:%M} UTC · {t('refresh')} {info.run_id}"
    )
    return info
