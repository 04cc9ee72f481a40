"""The generator: deterministic per seed, real units, spans the reorganisation."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from de06.generate import GenerateConfig, generate
from de06.reference import load_reference
from de06.settings import Settings

SMALL = GenerateConfig(
    seed=3, start_month="2025-05", months=4, dossiers_per_month=800, csv_months=0
)


def _tables(folder: Path) -> dict[str, object]:
    return {p.name: pq.read_table(p) for p in sorted((folder / "dossiers").glob("*.parquet"))}


@pytest.mark.slow  # three data sets generated (3 s): out of the fast loop
def test_same_seed_same_data_other_seed_other_data(settings: Settings, tmp_path: Path) -> None:
    generate(settings.seeds_dir, tmp_path / "a", SMALL)
    generate(settings.seeds_dir, tmp_path / "b", SMALL)
    generate(settings.seeds_dir, tmp_path / "c", GenerateConfig(**{**SMALL.__dict__, "seed": 4}))
    a, b, c = _tables(tmp_path / "a"), _tables(tmp_path / "b"), _tables(tmp_path / "c")
    assert a.keys() == b.keys() and all(a[k].equals(b[k]) for k in a)
    assert any(not a[k].equals(c[k]) for k in a)
    for name in ("submissions_2025-H1.csv", "tasks_register.csv"):
        sub = tmp_path / "a" / "submissions" / name
        path = sub if sub.exists() else tmp_path / "a" / "tasks" / name
        other = Path(str(path).replace("/a/", "/b/"))
        assert path.read_bytes() == other.read_bytes()


def test_units_exist_on_the_day_and_volumes(settings: Settings, tmp_path: Path) -> None:
    generate(settings.seeds_dir, tmp_path / "g", SMALL)
    ref = load_reference(settings.seeds_dir)
    tables = _tables(tmp_path / "g")
    provincial = [t for n, t in tables.items() if "provincial" in n]
    for table in provincial:
        rows = table.to_pylist()
        ids = {r["dossier_id"] for r in rows}
        assert len(ids) == SMALL.dossiers_per_month  # plus earlier versions of some of them
        for r in rows:
            day = r["received_at"].date()
            assert any(
                v.valid_from <= day and (v.valid_to is None or v.valid_to >= day)
                for v in ref.validities(r["unit_code"])
            ), (r["unit_code"], day)
    provinces_june = {
        r["unit_code"][:2]
        for r in tables["dossiers_provincial_2025-06.parquet"].to_pylist()
        if len(r["unit_code"]) == 2
    }
    provinces_july = {
        r["unit_code"]
        for r in tables["dossiers_provincial_2025-07.parquet"].to_pylist()
        if len(r["unit_code"]) == 2
    }
    assert len(provinces_june) == 63 and len(provinces_july) == 34
