"""A local Spark Thrift server for the ``spark_thrift`` dbt target (``de06 spark-server``).

On the ``spark`` target every dbt invocation starts a Spark of its own inside the dbt process: a
JVM, the Hive catalog, and a cold JIT that makes its first queries several times slower than
the same queries later. A refresh is one dbt invocation, but a Dagster run is one per step, and
each pays that again. A Thrift server (Spark's HiveThriftServer2, as a cluster runs it) is one
Spark that every dbt invocation connects to, warm after the first.

The server is started from the pyspark installation with the ``spark`` output's Spark settings
from ``profiles.yml`` (master, memory, the warehouse and the Derby metastore under
``DE06_SPARK_DIR``, time zone, ...), read from there so the two targets cannot drift apart; it
listens on 127.0.0.1 only. The embedded Derby metastore admits one Spark at a time: while the
server runs, use ``spark_thrift``, not ``spark``, on the same ``DE06_SPARK_DIR``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO

import yaml  # type: ignore[import-untyped]  # comes with dbt and dagster

from de06.settings import Settings

SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
BIND_HOST = "127.0.0.1"


class SparkServerError(RuntimeError):
    """The server cannot start (no Java, no pyspark, a port in use) or stopped early."""


def spark_conf(settings: Settings) -> dict[str, str]:
    """The ``spark`` output's ``server_side_parameters`` from profiles.yml, rendered with the
    settings' environment (the same ``env_var`` calls dbt renders)."""
    import jinja2

    profiles = yaml.safe_load((settings.project_dir / "profiles.yml").read_text(encoding="utf-8"))
    params = profiles["de06"]["outputs"]["spark"]["server_side_parameters"]
    env = {**os.environ, **settings.dbt_env()}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise SparkServerError(f"profiles.yml reads {name}, which is not set")
        return default

    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        str(key): jinja.from_string(str(value)).render(env_var=env_var)
        for key, value in params.items()
    }


def spark_submit() -> Path:
    """pyspark's ``spark-submit`` (the pip package ships Spark's jars and launch scripts)."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise SparkServerError("pyspark is not installed (it comes with dbt-spark[session])")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "spark-submit"


def server_command(settings: Settings, port: int) -> list[str]:
    command = [str(spark_submit()), "--class", SERVER_CLASS, "--name", "de06-spark-server"]
    for key, value in spark_conf(settings).items():
        command += ["--conf", f"{key}={value}"]
    command += [
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "--hiveconf",
        f"hive.server2.thrift.bind.host={BIND_HOST}",
        "spark-internal",
    ]
    return command


def listening(port: int, host: str = BIND_HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def launch(settings: Settings, port: int, log: IO[str]) -> subprocess.Popen:
    """Start the server in a session of its own (``os.killpg`` stops it with its JVM), without
    waiting for it: ``wait_until_listening`` does. Output goes to ``log``."""
    if shutil.which("java") is None:
        raise SparkServerError("Spark needs Java 17: apt-get install openjdk-17-jre-headless")
    if listening(port):
        raise SparkServerError(f"port {port} is in use (DE06_SPARK_PORT chooses another)")
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        server_command(settings, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=settings.spark_dir,  # Spark writes spark-warehouse/ and derby.log in its cwd
        start_new_session=True,
    )


def wait_until_listening(proc: subprocess.Popen, port: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not listening(port):
        if proc.poll() is not None:
            raise SparkServerError(f"the Spark Thrift server stopped (exit {proc.returncode})")
        if time.monotonic() > deadline:
            proc.kill()
            raise SparkServerError(f"the Spark Thrift server did not listen in {timeout:.0f} s")
        time.sleep(0.5)


def start(settings: Settings, port: int, log: IO[str], timeout: float = 180) -> subprocess.Popen:
    """``launch``, then return once the server accepts connections."""
    proc = launch(settings, port, log)
    wait_until_listening(proc, port, timeout)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    """Stop the server and its JVM: SIGTERM first, so that Derby closes the metastore."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
