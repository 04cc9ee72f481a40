"""The dashboard: a Streamlit app over the published database (`de06 dashboard`)."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).with_name("app.py")
