"""The semantic layer: MetricFlow's ``mf`` over the published database.

The metrics are defined in ``models/marts/_marts__semantic.yml``. ``de06 mf ...`` runs the
``mf`` command with the project's settings and the dbt target ``published``: an in-memory
DuckDB with the published file attached read-only, so queries never take the writer's lock and
a refresh can run meanwhile (each query sees one complete publish).

MetricFlow reads its semantic manifest from ``<project root>/target/semantic_manifest.json``
only, while this project's dbt target folder is a setting (one per home). So ``mf`` runs in a
folder of its own under the dbt target folder, holding a copy of ``dbt_project.yml`` and a
``target/`` that ``dbt parse`` writes into when a model, macro or seed file is newer than it.
The main target folder (a running build's) is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from de06.settings import Settings

# what a semantic manifest is built from: a newer file here means it must be parsed again
_SOURCES = ("dbt_project.yml", "models", "macros", "seeds")


class SemanticLayerError(RuntimeError):
    """The semantic layer cannot run (no published database, or dbt could not parse)."""


def mf_executable() -> str:
    candidate = Path(sys.executable).with_name("mf")
    return str(candidate) if candidate.exists() else "mf"


def mf_root(settings: Settings) -> Path:
    """The folder ``mf`` runs in (its project root as MetricFlow sees it)."""
    return settings.dbt_target_dir / "metricflow"


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = project_dir / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for file in path.rglob("*"):
                if file.suffix in (".sql", ".yml", ".yaml", ".md", ".csv"):
                    newest = max(newest, file.stat().st_mtime)
    return newest


def semantic_manifest(settings: Settings) -> Path:
    """The semantic manifest ``mf`` reads, parsed again when the project changed since."""
    root = mf_root(settings)
    manifest = root / "target" / "semantic_manifest.json"
    project_file = root / "dbt_project.yml"
    if (
        manifest.exists()
        and project_file.exists()
        and manifest.stat().st_mtime >= _newest_source_mtime(settings.project_dir)
    ):
        return manifest
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.project_dir / "dbt_project.yml", project_file)
    env = {
        **os.environ,
        **settings.dbt_env(),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }
    from de06.pipeline import dbt_executable

    proc = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(settings.project_dir)],
        env=env,
        cwd=settings.project_dir,
        check=False,
    )
    if proc.returncode != 0 or not manifest.exists():
        raise SemanticLayerError(f"dbt parse failed (exit {proc.returncode}); see the log above")
    return manifest


def warehouse_catalog(manifest: Path) -> str:
    """The catalog the semantic models' relations are named in (the warehouse file's name)."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    catalogs = {m["node_relation"]["database"] for m in data["semantic_models"]}
    if len(catalogs) != 1:
        raise SemanticLayerError(f"semantic models span catalogs {sorted(catalogs)}; expected one")
    return catalogs.pop()


def mf_env(settings: Settings) -> dict[str, str]:
    """The environment ``mf`` runs in: dbt's variables, the ``published`` target, its folder."""
    if not settings.published_db.exists():
        raise SemanticLayerError(
            f"no published database at {settings.published_db}: run `de06 refresh` "
            "(or `de06 demo`) first"
        )
    manifest = semantic_manifest(settings)
    root = mf_root(settings)
    return {
        **os.environ,
        **settings.dbt_env(),
        "DE06_DBT_TARGET": "published",
        "DE06_PUBLISHED_DB": str(settings.published_db),
        "DE06_PUBLISHED_CATALOG": warehouse_catalog(manifest),
        "DBT_PROJECT_DIR": str(root),
        "DBT_TARGET_PATH": str(root / "target"),
        "DBT_LOG_PATH": str(root / "logs"),
    }


def run_mf(
    settings: Settings, args: Sequence[str], capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``mf ARGS`` on the published database (output to ours unless ``capture``)."""
    env = mf_env(settings)
    return subprocess.run(
        [mf_executable(), *args],
        env=env,
        cwd=mf_root(settings),
        check=False,
        text=True,
        capture_output=capture,
    )
