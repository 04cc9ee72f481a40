"""Each feed is declared once (de06.contracts); everything else that states part of a contract
is generated from it or pinned to it here, so that a drift fails a test: the raw tables, the
raw Great Expectations suites, the staging models' accepted values and NFC normalisation, the
Spark export's normalised columns, the reasons a row or file is refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
import yaml

from de06 import contracts, lake
from de06.contracts import FEEDS, REASONS, Feed
from de06.ingest.verdicts import IngestError, Problem
from de06.quality import SUITES_DIR
from de06.warehouse import RAW_DDL, connect

PROJECT = Path(__file__).resolve().parents[2]
STAGING = PROJECT / "models" / "staging"


def staging_models_of(table: str) -> list[str]:
    """The staging models reading raw.<table>."""
    pattern = re.compile(r"source\('\w+',\s*'" + re.escape(table) + r"'\)")
    return sorted(p.stem for p in STAGING.glob("stg_*.sql") if pattern.search(p.read_text()))


def yaml_tests(entries: list[dict], kind: str) -> dict[str, list]:
    """Column -> the values of its ``kind`` data test, in a models or sources YAML entry."""
    found: dict[str, list] = {}
    for column in entries:
        for test in column.get("data_tests", []) or []:
            if isinstance(test, dict) and kind in test:
                found[column["name"]] = test[kind]["arguments"]["values"]
    return found


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS)
def test_the_raw_table_has_the_contracts_columns_and_types(feed: Feed, tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    try:
        found = con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'raw' and table_name = ? order by column_index",
            [feed.name],
        ).fetchall()
    finally:
        con.close()
    declared = [(c.stored_as or c.name, c.type.upper()) for c in feed.columns]
    assert found[: len(declared)] == declared
    assert [name for name, _ in found[len(declared) :]][:3] == [
        "extra_columns",
        "_load_id",
        "_row_number",
    ]


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS)
def test_the_raw_quality_suite_agrees_with_the_contract(feed: Feed) -> None:
    suite = json.loads((SUITES_DIR / f"raw.{feed.name}.json").read_text())
    in_set = {
        e["kwargs"]["column"]: e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set"
    }
    not_null = {
        e["kwargs"]["column"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_not_be_null"
    }
    assert in_set or not feed.enums, "the suite checks no enumeration"
    for column, values in in_set.items():
        assert sorted(values) == sorted(feed.column(column).values), column
    assert not_null <= set(feed.required)


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS)
def test_the_staging_tests_accept_exactly_the_contracts_values(feed: Feed) -> None:
    models = {
        m["name"]: m
        for m in yaml.safe_load((STAGING / "_staging__models.yml").read_text())["models"]
    }
    sources = {
        t["name"]: t
        for s in yaml.safe_load((STAGING / "_staging__sources.yml").read_text())["sources"]
        for t in s["tables"]
    }
    (model,) = staging_models_of(feed.name)
    tested = {
        **yaml_tests(sources[feed.name].get("columns", []), "accepted_values"),
        **yaml_tests(models[model]["columns"], "accepted_values"),
    }
    # the enumerations the staging tests check (the ingest refuses any other value of every
    # enumeration: test_bad_input_corpus.py)
    checked = {c: v for c, v in tested.items() if c in feed.enums}
    assert checked or not feed.enums, f"{model} tests none of the contract's enumerations"
    for column, values in checked.items():
        assert sorted(values) == sorted(feed.enums[column]), column


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS)
def test_the_staging_model_normalises_exactly_the_contracts_columns(feed: Feed) -> None:
    (model,) = staging_models_of(feed.name)
    sql = (STAGING / f"{model}.sql").read_text()
    normalised = set(re.findall(r"""nfc\("(?:upper\()?(\w+)\)?"\)""", sql))
    assert normalised == set(feed.normalised)
    assert lake.NFC_COLUMNS[feed.name] == feed.normalised


def test_every_reason_is_named_in_english_and_vietnamese() -> None:
    used = {code for feed in FEEDS.values() for code in feed.reasons} | set(contracts.FILE_REASONS)
    assert used <= set(REASONS)
    for code, (english, vietnamese) in REASONS.items():
        assert english and vietnamese and english != vietnamese, code


def test_a_reason_not_declared_is_refused_where_it_is_made() -> None:
    with pytest.raises(ValueError, match="not_a_reason"):
        Problem(1, "unit_code", "x", "not_a_reason", "made up")
    with pytest.raises(ValueError, match="not_a_reason"):
        IngestError("not_a_reason", "made up")


def test_every_raw_table_is_declared_once() -> None:
    assert set(lake.RAW_TABLES) == {*FEEDS, *contracts.LEDGER_TABLES}
    con = duckdb.connect()
    try:
        con.execute(RAW_DDL)
        made = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert made == set(lake.RAW_TABLES)
