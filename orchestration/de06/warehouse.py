"""The raw layer of the warehouse database: its tables and the connection helper.

Only one process may write the DuckDB file at a time; every writer goes through ``connect``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from de06.contracts import FEEDS

LEDGER_DDL = """
create schema if not exists raw;
create table if not exists raw.load_files (
    load_id bigint primary key,
    feed varchar not null,
    file_name varchar not null,
    file_path varchar not null,
    content_hash varchar not null,
    file_format varchar not null,
    loaded_at timestamp not null,
    status varchar not null,          -- loaded | rejected
    rows_read bigint not null,
    rows_accepted bigint not null,
    rows_superseded bigint not null,
    rows_quarantined bigint not null,
    extra_columns varchar[],
    message varchar,
    file_modified_at timestamp        -- the file's modification time: when it was sent
);
{feeds}
create table if not exists raw.quarantine (
    load_id bigint not null,
    feed varchar,
    file_name varchar not null,
    row_number bigint,                -- null: the whole file was rejected
    column_name varchar,
    value varchar,
    reason_code varchar not null,
    reason_en varchar not null,
    reason_vi varchar not null,
    unit_code varchar,                -- as typed in the rejected row, when it could be read
    period varchar,
    indicator_code varchar,
    dimension varchar
);
-- warehouses created before these columns existed
alter table raw.load_files add column if not exists file_modified_at timestamp;
alter table raw.quarantine add column if not exists unit_code varchar;
alter table raw.quarantine add column if not exists period varchar;
alter table raw.quarantine add column if not exists indicator_code varchar;
alter table raw.quarantine add column if not exists dimension varchar;
"""
# the ingest's own tables (load_files, quarantine) and a table per feed from its contract
RAW_DDL = LEDGER_DDL.replace("{feeds}", "\n".join(feed.raw_ddl() for feed in FEEDS.values()))


def connect(
    path: Path, read_only: bool = False, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | bool | int | float | list[str]] = (
        {"memory_limit": memory_limit} if memory_limit else {}
    )
    con = duckdb.connect(str(path), read_only=read_only, config=config)
    if not read_only:
        con.execute(RAW_DDL)
        _add_superseded_by(con)
    return con


def _add_superseded_by(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse from before raw.dossiers._superseded_by_load_id: add it and mark the
    superseded versions once, by the ingest's rule (later ingests keep it up to date)."""
    missing = con.execute(
        "select count(*) = 0 from duckdb_columns() where schema_name = 'raw' "
        "and table_name = 'dossiers' and column_name = '_superseded_by_load_id'"
    ).fetchone()
    if missing and missing[0]:
        con.execute("begin transaction")
        con.execute("alter table raw.dossiers add column _superseded_by_load_id bigint")
        # every version but each dossier's newest, marked with the load of the newest
        con.execute(
            """
            update raw.dossiers as d set _superseded_by_load_id = s.by_load_id
            from (
                select
                    _load_id,
                    _row_number,
                    first_value(_load_id) over newest_first as by_load_id,
                    row_number() over newest_first as place
                from raw.dossiers
                window newest_first as (
                    partition by source_system, dossier_id
                    order by updated_at desc, _load_id desc, _row_number desc
                )
            ) as s
            where s.place > 1 and d._load_id = s._load_id and d._row_number = s._row_number
            """
        )
        con.execute("commit")
