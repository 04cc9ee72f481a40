"""Settings: every path the project uses, from environment variables with working defaults.

Nothing here depends on the working directory: defaults hang off the project folder (found from
this file's location; override with ``DE06_PROJECT_DIR``) or off ``DE06_HOME``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from de06.contracts import FEEDS as CONTRACTS

PACKAGE_DIR = Path(__file__).resolve().parent
# orchestration/de06/settings.py -> the repository root (editable install)
PROJECT_DIR = PACKAGE_DIR.parent.parent
FEEDS = tuple(CONTRACTS)  # the landing folders: one per feed


DEFAULT_MEMORY_LIMIT = "6GB"
# the outputs of profiles.yml that run the models on Spark (docs/spark.md): a local session
# inside each dbt process, or a Spark Thrift server (`de06 spark-server`, or a cluster's)
SPARK_TARGETS = ("spark", "spark_thrift")
DEFAULT_SPARK_PORT = 10000
# a month of a large province's dossiers as CSV is a few hundred MB; a submission or task
# sheet a few MB
DEFAULT_MAX_FILE_MB = 4096
DEFAULT_MAX_SHEET_MB = 50


MIN_KEY_BYTES = 16


def _checked_key(key: bytes, where: str) -> bytes:
    """The pseudonym key, refused when empty or short: an empty key (once left by a crash
    between creating the key file and writing it) makes every pseudonym reversible by anyone
    who tries the 10^12 citizen IDs."""
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"the pseudonym key in {where} is {'empty' if not key else 'too short'} "
            f"({len(key)} bytes, at least {MIN_KEY_BYTES}): restore the key the warehouse was "
            "loaded with (a new key changes every pseudonym), or set DE06_PSEUDONYM_KEY"
        )
    return key


@dataclass(frozen=True)
class Settings:
    """Resolved settings. ``origins`` says, per setting, which variable or default it came from."""

    project_dir: Path
    home: Path
    warehouse_db: Path
    published_db: Path
    landing_dir: Path
    quarantine_dir: Path
    archive_dir: Path
    quality_dir: Path
    dbt_target_dir: Path
    dagster_home: Path
    dbt_target: str
    pseudonym_key_file: Path
    # day of the month by which units send last period's submissions (the monthly build of
    # the submission indicators runs the next morning)
    submission_deadline_day: int = 15
    # DuckDB's memory limit for the warehouse's writers (ingest, dbt); it spills to disk beyond
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    # the `spark` target (docs/spark.md): its tables and metastore, and the raw layer's
    # Parquet export it reads
    spark_dir: Path = Path()
    spark_raw_dir: Path = Path()
    # the `spark_thrift` target: where its Thrift server listens
    spark_host: str = "127.0.0.1"
    spark_port: int = DEFAULT_SPARK_PORT
    # the largest feed file the ingest reads (MB): any file, and a file of a feed typed by people
    # (submissions, tasks: parsed cell by cell in Python, about ten times its size in memory)
    max_file_mb: int = DEFAULT_MAX_FILE_MB
    max_sheet_mb: int = DEFAULT_MAX_SHEET_MB
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        origins: dict[str, str] = {}

        def pick(name: str, var: str, default: Path) -> Path:
            if env.get(var):
                origins[name] = f"${var}"
                return Path(env[var]).expanduser().resolve()
            origins[name] = "default"
            return default

        project_dir = pick("project_dir", "DE06_PROJECT_DIR", PROJECT_DIR)
        home = pick("home", "DE06_HOME", project_dir / "warehouse")
        target = env.get("DE06_DBT_TARGET") or "duckdb"
        origins["dbt_target"] = "$DE06_DBT_TARGET" if env.get("DE06_DBT_TARGET") else "default"
        deadline_text = env.get("DE06_SUBMISSION_DEADLINE_DAY") or "15"
        origins["submission_deadline_day"] = (
            "$DE06_SUBMISSION_DEADLINE_DAY"
            if env.get("DE06_SUBMISSION_DEADLINE_DAY")
            else "default"
        )
        if not (deadline_text.isdigit() and 1 <= int(deadline_text) <= 27):
            raise ValueError(
                "DE06_SUBMISSION_DEADLINE_DAY must be a day of the month from 1 to 27 "
                f"(every month has the day after it), not {deadline_text!r}"
            )
        memory_limit = env.get("DE06_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        origins["duckdb_memory_limit"] = (
            "$DE06_DUCKDB_MEMORY_LIMIT" if env.get("DE06_DUCKDB_MEMORY_LIMIT") else "default"
        )
        spark_dir = pick("spark_dir", "DE06_SPARK_DIR", home / "spark")
        port_text = env.get("DE06_SPARK_PORT") or str(DEFAULT_SPARK_PORT)
        origins["spark_port"] = "$DE06_SPARK_PORT" if env.get("DE06_SPARK_PORT") else "default"
        if not (port_text.isdigit() and 0 < int(port_text) < 65536):
            raise ValueError(f"DE06_SPARK_PORT must be a TCP port number, not {port_text!r}")
        origins["spark_host"] = "$DE06_SPARK_HOST" if env.get("DE06_SPARK_HOST") else "default"

        def megabytes(name: str, var: str, default: int) -> int:
            text = env.get(var) or str(default)
            origins[name] = f"${var}" if env.get(var) else "default"
            if not (text.isascii() and text.isdigit() and int(text) > 0):
                raise ValueError(f"{var} must be a whole number of megabytes, not {text!r}")
            return int(text)

        max_file_mb = megabytes("max_file_mb", "DE06_MAX_FILE_MB", DEFAULT_MAX_FILE_MB)
        max_sheet_mb = megabytes("max_sheet_mb", "DE06_MAX_SHEET_MB", DEFAULT_MAX_SHEET_MB)
        return cls(
            project_dir=project_dir,
            home=home,
            warehouse_db=pick("warehouse_db", "DE06_WAREHOUSE_DB", home / "de06.duckdb"),
            published_db=pick(
                "published_db", "DE06_PUBLISHED_DB", home / "published" / "de06.duckdb"
            ),
            landing_dir=pick("landing_dir", "DE06_LANDING_DIR", home / "landing"),
            quarantine_dir=pick("quarantine_dir", "DE06_QUARANTINE_DIR", home / "quarantine"),
            archive_dir=pick("archive_dir", "DE06_ARCHIVE_DIR", home / "archive"),
            quality_dir=pick("quality_dir", "DE06_QUALITY_DIR", home / "quality"),
            dbt_target_dir=pick("dbt_target_dir", "DE06_DBT_TARGET_PATH", project_dir / "target"),
            dagster_home=pick("dagster_home", "DAGSTER_HOME", home / "dagster"),
            dbt_target=target,
            pseudonym_key_file=pick(
                "pseudonym_key_file", "DE06_PSEUDONYM_KEY_FILE", home / "secrets" / "pseudonym.key"
            ),
            submission_deadline_day=int(deadline_text),
            duckdb_memory_limit=memory_limit,
            spark_dir=spark_dir,
            spark_raw_dir=pick("spark_raw_dir", "DE06_SPARK_RAW_DIR", spark_dir / "raw"),
            spark_host=env.get("DE06_SPARK_HOST") or "127.0.0.1",
            spark_port=int(port_text),
            max_file_mb=max_file_mb,
            max_sheet_mb=max_sheet_mb,
            origins=origins,
        )

    @property
    def on_spark(self) -> bool:
        """The dbt target runs the models on Spark (a session or a Thrift server)."""
        return self.dbt_target in SPARK_TARGETS

    # -- derived locations -------------------------------------------------------------------
    @property
    def seeds_dir(self) -> Path:
        return self.project_dir / "seeds"

    @property
    def dbt_artifacts_dir(self) -> Path:
        """dbt's target folder for the target in use: the DuckDB target's is ``dbt_target_dir``
        itself (Dagster and the semantic layer read its manifest), another target's a folder in
        it, so that switching targets does not make dbt parse the project anew each time."""
        if self.dbt_target == "duckdb":
            return self.dbt_target_dir
        return self.dbt_target_dir / self.dbt_target

    @property
    def data_docs_dir(self) -> Path:
        return self.quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site"

    @property
    def run_failures_log(self) -> Path:
        """Where the run-failure sensor records failed Dagster runs (one JSON object a line)."""
        return self.home / "alerts" / "run_failures.jsonl"

    @property
    def dbt_docs_index(self) -> Path:
        return self.dbt_target_dir / "static_index.html"

    def ensure_dirs(self) -> None:
        for path in (
            self.home,
            self.published_db.parent,
            self.quarantine_dir,
            self.archive_dir,
            self.quality_dir,
            self.dagster_home,
            *(self.landing_dir / feed for feed in FEEDS),
        ):
            path.mkdir(parents=True, exist_ok=True)
        # files as sent (citizen IDs and all) and the pseudonym key: the owner's alone. The
        # landing folder is the senders' inbox: its permissions are the deployment's
        for private in (self.quarantine_dir, self.archive_dir, self.pseudonym_key_file.parent):
            private.mkdir(parents=True, exist_ok=True)
            if private.stat().st_uid == os.getuid():  # not a folder someone else set up
                private.chmod(0o700)

    def write_dagster_instance_config(self) -> Path:
        """``dagster.yaml`` for this warehouse: one writer (pool limit 1), storage under home."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        path = self.dagster_home / "dagster.yaml"
        if not path.exists():
            path.write_text(
                "# written by de06: every step that writes the DuckDB warehouse is in the\n"
                "# duckdb_writer pool; one at a time across runs\n"
                "concurrency:\n  pools:\n    default_limit: 1\n"
                "telemetry:\n  enabled: false\n"
            )
        return path

    def pseudonym_key(self) -> bytes:
        """The secret key for pseudonymising applicant IDs.

        ``DE06_PSEUDONYM_KEY`` wins; otherwise a random key is created once per installation in
        ``pseudonym_key_file`` (mode 600) so that pseudonyms stay stable between loads.
        """
        if "DE06_PSEUDONYM_KEY" in os.environ:
            return _checked_key(os.environ["DE06_PSEUDONYM_KEY"].encode(), "DE06_PSEUDONYM_KEY")
        path = self.pseudonym_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # written whole under another name, then linked into place: a crash leaves either
            # no key or the whole key, never an empty file (and two first runs agree on one)
            fd, written = tempfile.mkstemp(dir=path.parent, prefix=".pseudonym-")  # mode 600
            try:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32))
                    handle.flush()
                    os.fsync(handle.fileno())
                with contextlib.suppress(FileExistsError):  # another process made it first
                    os.link(written, path)
            finally:
                os.unlink(written)
        return _checked_key(path.read_text().strip().encode(), str(path))

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that ``profiles.yml`` and ``dbt_project.yml`` read."""
        return {
            "DE06_WAREHOUSE_DB": str(self.warehouse_db),
            "DE06_DBT_TARGET": self.dbt_target,
            "DE06_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "DE06_SPARK_DIR": str(self.spark_dir),
            "DE06_SPARK_RAW_DIR": str(self.spark_raw_dir),
            "DE06_SPARK_HOST": self.spark_host,
            "DE06_SPARK_PORT": str(self.spark_port),
            "DBT_TARGET_PATH": str(self.dbt_artifacts_dir),
            "DBT_LOG_PATH": str(self.dbt_artifacts_dir / "logs"),
            "DBT_PROFILES_DIR": str(self.project_dir),
            "DBT_PROJECT_DIR": str(self.project_dir),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    def dagster_env(self) -> dict[str, str]:
        """What the Dagster definitions need besides dbt's variables: the instance under the
        warehouse folder, and the venv's bin first on PATH (dagster's code server runs `dbt`)."""
        bin_dir = str(Path(sys.executable).parent)
        return {
            **self.dbt_env(),
            "DAGSTER_HOME": str(self.dagster_home),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }

    def as_info(self) -> dict[str, object]:
        return {
            "warehouse_db": str(self.warehouse_db),
            "published_db": str(self.published_db),
            "landing": str(self.landing_dir),
            "quarantine": str(self.quarantine_dir),
            "archive": str(self.archive_dir),
            "data_quality_docs": str(self.data_docs_dir / "index.html"),
            "dbt_docs": str(self.dbt_docs_index),
            "dbt_project": str(self.project_dir),
            "dagster_home": str(self.dagster_home),
            "run_failures": str(self.run_failures_log),
            "submission_deadline_day": self.submission_deadline_day,
            "duckdb_memory_limit": self.duckdb_memory_limit,
            "max_file_mb": self.max_file_mb,
            "max_sheet_mb": self.max_sheet_mb,
            "dbt_target": self.dbt_target,
            "spark_dir": str(self.spark_dir),
            "spark_raw_dir": str(self.spark_raw_dir),
            "spark_thrift_server": f"{self.spark_host}:{self.spark_port}",
            "home": str(self.home),
            "settings_from": dict(self.origins),
        }
