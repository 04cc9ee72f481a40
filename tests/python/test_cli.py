"""The `de06` command's settings: paths from settings, never from the working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from de06.formatting import format_vn


def _info(cwd: Path, env: dict[str, str]) -> dict:
    de06 = str(Path(sys.executable).with_name("de06"))
    out = subprocess.run(
        [de06, "info"], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_info_is_the_same_from_any_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DE06_")}
    env["DE06_HOME"] = str(tmp_path / "home")
    (tmp_path / "elsewhere").mkdir()
    a = _info(tmp_path, env)
    b = _info(tmp_path / "elsewhere", env)
    assert a == b
    assert a["warehouse_db"] == str(tmp_path / "home" / "de06.duckdb")
    assert a["published_db"] == str(tmp_path / "home" / "published" / "de06.duckdb")
    for key in ("landing", "quarantine", "data_quality_docs", "dbt_docs"):
        assert key in a
    assert a["settings_from"]["home"] == "$DE06_HOME"
    assert a["settings_from"]["warehouse_db"] == "default"


def test_info_defaults_live_in_the_project(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DE06_")}
    info = _info(tmp_path, env)
    project = Path(__file__).resolve().parents[2]
    assert info["home"] == str(project / "warehouse")
    assert info["dbt_project"] == str(project)


def test_vietnamese_number_display() -> None:
    assert format_vn(0.9907) == "99,07%"
    assert format_vn(0.0011141) == "0,11%"
    assert format_vn(127450, "count") == "127.450"
    assert format_vn(80.1, "points", 1) == "80,1"
    assert format_vn(None) == "—"


@pytest.mark.slow
def test_dbt_compiles_on_a_fresh_home_and_warns_of_nothing_deprecated(tmp_path: Path) -> None:
    """Nothing built yet: the period models compile to a full build (their watermark queries
    wait for the change log), and no dbt command warns of a custom config key (the incremental
    models' own keys are under ``meta``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DE06_")}
    env |= {"DE06_HOME": str(tmp_path / "home"), "DE06_DBT_TARGET_PATH": str(tmp_path / "t")}
    de06 = str(Path(sys.executable).with_name("de06"))

    def dbt(*args: str) -> str:
        done = subprocess.run([de06, "dbt", *args], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout + done.stderr

    compiled = dbt("compile", "-s", "fct_indicator_values_current_units", "int_index_766__scores")
    assert "fct_indicator_values_current_units" in compiled
    said = dbt("deps", "--show-all-deprecations")
    assert "Deprecat" not in said and "Custom key" not in said, said
