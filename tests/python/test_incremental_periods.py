"""The unit × period models' change log (macros/incremental_periods.sql).

A model of the chain recomputes only the periods its inputs changed in, as the change log says.
An input the log does not fingerprint would leave the chain's marts stale when it changes, so the
log must name every input the chain reads from outside itself: this is checked on dbt's
manifest. What the models then compute, and that it equals a full rebuild, is in
test_incremental.py.
"""

from __future__ import annotations

import hashlib
import json

import duckdb

from conftest import PERIOD_CHAIN_INTERMEDIATE, PERIOD_CHAIN_MARTS, Built

CHAIN_STRATEGY = "replace_periods"
LOG = "int_period_inputs__changes"


def _manifest(built: Built) -> dict:
    return json.loads((built.settings.dbt_target_dir / "manifest.json").read_text())


def _name(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def test_the_change_log_fingerprints_every_input_of_the_chain_from_outside_it(built: Built):
    nodes = _manifest(built)["nodes"]
    chain = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"].get("incremental_strategy") == CHAIN_STRATEGY
    }
    assert {_name(uid) for uid in chain} == {*PERIOD_CHAIN_INTERMEDIATE, *PERIOD_CHAIN_MARTS}
    # a view or an ephemeral model is read through: what it reads, its reader reads
    # (macros/incremental_periods.sql, `period_chain_reads`)
    read_through = {
        uid
        for uid, node in nodes.items()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] in ("view", "ephemeral")
    }

    def reads(uid: str) -> set[str]:
        parents = set(nodes[uid]["depends_on"]["nodes"]) if uid in nodes else set()
        return {
            p for parent in parents for p in (reads(parent) if parent in read_through else {parent})
        }

    assert {"int_indicator_values__rebased", "int_index_766__component_points"} <= {
        _name(uid) for uid in read_through
    }
    outside = {
        _name(parent)
        for uid in chain
        for parent in reads(uid)
        if parent not in chain and _name(parent) != LOG
    }
    (log,) = [uid for uid in nodes if _name(uid) == LOG]
    fingerprinted = {_name(parent) for parent in nodes[log]["depends_on"]["nodes"]}
    assert outside, "the chain reads nothing from outside?"
    assert fingerprinted == outside
    # and every model of the chain runs after the log
    assert all(log in nodes[uid]["depends_on"]["nodes"] for uid in chain)


def test_the_log_counts_each_input_and_every_model_has_a_watermark(built: Built):
    con = duckdb.connect(str(built.settings.warehouse_db), read_only=True)
    try:
        logged = {
            (input_, month): n_rows
            for input_, month, n_rows in con.execute(
                f"select input, month, n_rows from intermediate.{LOG} "
                "qualify row_number() over (partition by input, month order by change_id desc) = 1"
            ).fetchall()
        }
        # counted here, independently: the monthly inputs by month, the others whole
        monthly = con.execute(
            "select received_month, count(*) from intermediate.int_dossier_measures__monthly "
            "group by all"
        ).fetchall()
        units = con.execute("select count(*) from intermediate.int_units").fetchone()
        marks = con.execute(
            "select model, through, (select max(change_id) from intermediate."
            f"{LOG}) from intermediate.period_watermarks"
        ).fetchall()
    finally:
        con.close()
    assert monthly and all(
        logged[("int_dossier_measures__monthly", month)] == n for month, n in monthly
    )
    assert units is not None and logged[("int_units", None)] == units[0]
    assert ("vars", None) in logged
    # a full build took in every change there is
    assert {model for model, _, _ in marks} == {*PERIOD_CHAIN_INTERMEDIATE, *PERIOD_CHAIN_MARTS}
    assert all(through == newest for _, through, newest in marks)


def test_a_model_read_through_is_part_of_its_readers_code(built: Built):
    """The rows of a model split out of a chain model (ephemeral) are written by its reader, so
    a change to its SQL must recompute every period of the reader, as a change to the reader's
    own does: the reader's watermark hashes both (macros/incremental_periods.sql,
    `period_chain_reads`). A model that reads none hashes its own SQL alone."""
    nodes = _manifest(built)["nodes"]
    code = {_name(uid): node["raw_code"] for uid, node in nodes.items()}
    con = duckdb.connect(str(built.settings.warehouse_db), read_only=True)
    try:
        hashes = dict(
            con.execute("select model, code_hash from intermediate.period_watermarks").fetchall()
        )
    finally:
        con.close()

    def md5(*models: str) -> str:
        return hashlib.md5("\n".join(code[m] for m in models).encode("utf-8")).hexdigest()

    read_through = {
        "fct_indicator_values_current_units": "int_indicator_values__rebased",
        "int_index_766__components": "int_index_766__component_points",
    }
    for reader, split_out in read_through.items():
        assert hashes[reader] == md5(reader, split_out), reader
        assert hashes[reader] != md5(reader)
    assert hashes["fct_indicator_values"] == md5("fct_indicator_values")
