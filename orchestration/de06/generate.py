"""Synthetic feeds built from the real unit lists, deterministic for a given seed.

Dossiers are drawn with numpy, column by column (no Python loop per dossier), so millions of rows
take seconds. Each province has its own behaviour (online share, punctuality, payment, ...) that
improves month by month; after 1 July 2025 a merged province behaves like the province that hosts
its centre. The submissions and the task register are written by ``de06.generate_sheets``.

The national portal's copy follows the provincial dossiers with the source report's scenario
built in (see ``GenerateConfig.outage_*``): after the March 2025 department merger one
province's merged department stops reaching the portal for six weeks, then reaches it under the
old department's code; a few dossiers are stale on the portal or exist only there.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from de06.generate_portal766 import write_exports
from de06.generate_sheets import write_submissions, write_tasks
from de06.reference import REFORM_DATE, Reference, load_reference

PROCEDURES = np.array(
    ["1.001612", "1.000894", "2.000889", "1.004227", "2.001023", "1.010820", "1.003003", "2.000528"]
)


@dataclass(frozen=True)
class GenerateConfig:
    seed: int = 6
    start_month: str = "2024-01"
    months: int = 24
    dossiers_per_month: int = 12_000
    communes_per_province: int = 4
    provinces: int | None = None  # first N old provinces (None = all 63)
    csv_months: int = 1  # the last N months of provincial dossiers are written as CSV
    # The source report's scenario: after the 1 March 2025 department merger, one province's
    # merged Department of Agriculture and Environment (it handles the land procedures, so most
    # departmental dossiers) stops reaching the national portal for some weeks; afterwards the
    # portal files its dossiers under the old department's code until the July reorganisation.
    outage_province: str = "80"
    outage_dept: str = "SNNMT"
    outage_old_dept: str = "STNMT"
    outage_start: str = "2025-03-01"
    outage_days: int = 42
    outage_dept_share: float = 0.6  # of the province's departmental dossiers from the merger on
    portal_stale_status_share: float = 0.01  # finished in the province, still open on the portal
    portal_only_share: float = 0.003  # filed on the portal, never in the provincial system
    # the national portal's 766 evaluation export (landing/portal766/<province>/): every
    # province's quarters after the reorganisation, and the months too for this many (the one
    # the outage province merged into first)
    portal_export: bool = True
    portal_export_monthly_provinces: int = 3


def _months(start: str, count: int) -> list[dt.date]:
    year, month = (int(x) for x in start.split("-"))
    out = []
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _month_after(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


class _Generator:
    def __init__(self, ref: Reference, cfg: GenerateConfig) -> None:
        self.ref, self.cfg = ref, cfg
        self.rng = np.random.default_rng(cfg.seed)
        old = sorted(ref.provinces_old)
        if cfg.provinces:
            old = old[: cfg.provinces]
        self.old_provinces = old
        self.new_provinces = sorted({ref.province_merger[p] for p in old})
        # communes sampled per province, before and after the reform
        by_prov_old: dict[str, list[str]] = {}
        for commune, district in ref.communes_old.items():
            by_prov_old.setdefault(ref.districts[district], []).append(commune)
        by_prov_new: dict[str, list[str]] = {}
        for commune, prov in ref.communes_new.items():
            by_prov_new.setdefault(prov, []).append(commune)
        k = cfg.communes_per_province
        self.communes_old = {
            p: sorted(self.rng.choice(sorted(by_prov_old[p]), size=k, replace=False)) for p in old
        }
        self.communes_new = {
            p: sorted(self.rng.choice(sorted(by_prov_new[p]), size=k, replace=False))
            for p in self.new_provinces
        }
        self.weight_old = np.array([len(by_prov_old[p]) for p in old], dtype=float)
        self.weight_new = np.array([len(by_prov_new[p]) for p in self.new_provinces], dtype=float)
        # province behaviour: base level and monthly improvement per measure
        n = len(old)
        r = self.rng
        self.profile = {
            "online": r.uniform(0.25, 0.85, n),
            "full": r.uniform(0.3, 0.8, n),
            "on_time": r.uniform(0.85, 0.995, n),
            "fee": r.uniform(0.25, 0.5, n),
            "pay_online": r.uniform(0.2, 0.8, n),
            "digitized": r.uniform(0.5, 0.95, n),
            "e_result": r.uniform(0.5, 0.98, n),
            "reuse": r.uniform(0.1, 0.6, n),
            "verified": r.uniform(0.6, 0.99, n),
            "rated": r.uniform(0.15, 0.45, n),
            "satisfied": r.uniform(0.8, 0.99, n),
            "synced": r.uniform(0.93, 0.999, n),
        }
        self.trend = r.uniform(0.002, 0.012, n)
        self.old_index = {p: i for i, p in enumerate(old)}
        # the portal's own behaviour draws from its own stream: the provincial data stays the
        # same whatever the portal does
        self.portal_rng = np.random.default_rng(cfg.seed + 2)
        start = dt.date.fromisoformat(cfg.outage_start)
        self.outage = (
            (start, start + dt.timedelta(days=cfg.outage_days))
            if cfg.outage_province in self.old_index
            else None
        )

    # ------------------------------------------------------------------ dossiers
    def _province_rates(self, month: dt.date, month_no: int) -> tuple[list[str], dict, np.ndarray]:
        """Provinces active in ``month``, their behaviour and their volume weights."""
        if month < REFORM_DATE:
            provs = self.old_provinces
            idx = np.arange(len(provs))
            weights = self.weight_old
        else:
            provs = self.new_provinces
            idx = np.array([self.old_index.get(p, 0) for p in provs])
            weights = self.weight_new
        rates = {}
        for key, base in self.profile.items():
            lift = self.trend[idx] * month_no if key not in ("fee", "rated") else 0.0
            rates[key] = np.clip(base[idx] + lift, 0.0, 0.999)
        return provs, rates, weights / weights.sum()

    def dossiers_for_month(self, month: dt.date, month_no: int, snapshot: dt.datetime) -> pa.Table:
        r = self.rng
        n = self.cfg.dossiers_per_month
        provs, rates, weights = self._province_rates(month, month_no)
        prov_i = r.choice(len(provs), size=n, p=weights)
        prov = np.array(provs)[prov_i]

        def draw(key: str) -> np.ndarray:
            return r.random(n) < rates[key][prov_i]

        received, agency, unit = self._received_by(month, provs, prov_i, prov)
        h = self._handled(received, draw, snapshot)
        business = r.random(n) < 0.1
        citizen = np.char.add(
            np.char.zfill(prov.astype(str), 3),
            np.char.zfill(r.integers(0, 10**9, size=n).astype(str), 9),
        )
        tax = np.char.zfill(r.integers(10**9, 10**10 - 1, size=n).astype(str), 10)
        applicant = np.where(business, tax, citizen)
        done = h["done"]
        updated = np.where(done, h["finished"], received + np.timedelta64(3600, "s"))
        ids = np.char.add(f"{month:%Y%m}-", np.char.zfill(np.arange(n).astype(str), 7))
        ids = np.char.add(np.char.add(prov, "-"), ids)
        columns = {
            "source_system": pa.array(np.full(n, "provincial")),
            "dossier_id": pa.array(ids),
            "agency_code": pa.array(agency),
            "unit_code": pa.array(unit),
            "procedure_code": pa.array(PROCEDURES[r.integers(0, len(PROCEDURES), size=n)]),
            "received_at": _ts(received),
            "channel": pa.array(h["channel"]),
            "online_level": pa.array(h["online_level"]),
            "due_at": _ts(h["due"]),
            "finished_at": _ts(h["finished_at"]),
            "status": pa.array(h["status"]),
            "fee_amount": pa.array(h["fee"].astype("int64")),
            "payment_channel": pa.array(h["payment"]),
            "is_digitized": pa.array(draw("digitized")),
            "has_e_result": pa.array(done & draw("e_result")),
            "reused_data": pa.array(draw("reuse")),
            "identity_verified": pa.array(draw("verified")),
            "applicant_id": pa.array(applicant),
            "satisfaction": pa.array(h["satisfaction"]),
            "synced_national_at": _ts(h["synced_at"]),
            "updated_at": _ts(updated),
        }
        latest = pa.table(columns)
        return pa.concat_tables([self._earlier_versions(latest, done), latest])

    def _received_by(
        self, month: dt.date, provs: list[str], prov_i: np.ndarray, prov: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """When each dossier was received and by whom: a department (its unit the province),
        a district (before July 2025) or a commune."""
        r, n = self.rng, len(prov_i)
        before = month < REFORM_DATE
        communes = self.communes_old if before else self.communes_new
        kind = r.choice(3, size=n, p=[0.55, 0.15, 0.30] if before else [0.6, 0.0, 0.4])
        commune_pick = r.integers(0, self.cfg.communes_per_province, size=n)
        commune_grid = np.array([communes[p] for p in provs])  # provinces x communes
        commune = commune_grid[prov_i, commune_pick]
        days_in_month = (_month_after(month) - month).days
        received = np.datetime64(month, "s") + r.integers(0, days_in_month * 86400, size=n).astype(
            "timedelta64[s]"
        )
        depts = [
            d["dept_code"]
            for d in self.ref.departments
            if dt.date.fromisoformat(d["valid_from"]) <= month
            and (not d["valid_to"] or dt.date.fromisoformat(d["valid_to"]) >= month)
            and d["dept_code"] not in ("BDT", "SDTTG", "SNGV", "BQLKCN")
        ]
        dept = np.array(depts)[r.integers(0, len(depts), size=n)]
        agency = np.where(kind == 0, np.char.add(np.char.add(prov, "."), dept), commune)
        if before:
            uniq, inverse = np.unique(commune, return_inverse=True)
            district = np.array([self.ref.communes_old[c] for c in uniq])[inverse]
            agency = np.where(kind == 1, district, agency)
        unit = np.where(kind == 0, prov, commune)
        return received, agency, unit

    def _handled(
        self,
        received: np.ndarray,
        draw: Callable[[str], np.ndarray],
        snapshot: dt.datetime,
    ) -> dict[str, np.ndarray]:
        """How each dossier was handled: channel, deadline, outcome, fee and payment, rating,
        sync to the national portal."""
        r, n = self.rng, len(received)
        online = draw("online")
        channel = np.where(online, "online", np.where(r.random(n) < 0.9, "direct", "postal"))
        online_level = np.where(online, np.where(draw("full"), "full", "partial"), "")
        due_days = r.choice([1, 3, 5, 7, 10, 15, 20], size=n)
        due = received + (due_days * 86400).astype("timedelta64[s]")
        on_time = draw("on_time")
        factor = np.where(on_time, r.uniform(0.2, 1.0, n), r.uniform(1.02, 2.5, n))
        finished = received + (due_days * 86400 * factor).astype("int64").astype("timedelta64[s]")
        outcome = r.random(n)
        dropped = outcome < 0.015  # withdrawn / rejected / returned
        done = (finished <= np.datetime64(snapshot, "s")) & ~dropped
        status = np.where(
            dropped,
            np.array(["withdrawn", "rejected", "returned"])[r.integers(0, 3, size=n)],
            np.where(done, "finished", np.where(r.random(n) < 0.5, "processing", "received")),
        )
        finished_at = np.where(done, finished, np.datetime64("NaT"))
        has_fee = draw("fee")
        fee = np.where(has_fee, r.integers(2, 100, size=n) * 5000, 0)
        paid = has_fee & (r.random(n) < 0.96)
        pay_online = draw("pay_online")
        payment = np.where(
            paid,
            np.where(pay_online, "online", np.where(r.random(n) < 0.6, "cash", "bank_transfer")),
            "",
        )
        rated = done & draw("rated")
        sat = np.where(
            draw("satisfied"),
            np.where(r.random(n) < 0.5, "very_satisfied", "satisfied"),
            np.where(r.random(n) < 0.7, "neutral", "dissatisfied"),
        )
        satisfaction = np.where(rated, sat, "")
        synced = draw("synced")
        synced_at = received + r.integers(600, 86400 * 2, size=n).astype("timedelta64[s]")
        synced_at = np.where(synced, synced_at, np.datetime64("NaT"))
        return {
            "channel": channel,
            "online_level": online_level,
            "due": due,
            "finished": finished,
            "finished_at": finished_at,
            "done": done,
            "status": status,
            "fee": fee,
            "payment": payment,
            "satisfaction": satisfaction,
            "synced_at": synced_at,
        }

    def _earlier_versions(self, latest: pa.Table, done: np.ndarray) -> pa.Table:
        """An earlier version ("processing", nothing finished yet) of about a fifth of the
        finished dossiers."""
        earlier = latest.filter(pa.array((self.rng.random(latest.num_rows) < 0.2) & done))
        m = earlier.num_rows
        earlier = earlier.set_column(
            earlier.schema.get_field_index("status"), "status", pa.array(np.full(m, "processing"))
        )
        i = earlier.schema.get_field_index("finished_at")
        earlier = earlier.set_column(i, "finished_at", pa.nulls(m, pa.timestamp("s")))
        i = earlier.schema.get_field_index("has_e_result")
        earlier = earlier.set_column(i, "has_e_result", pa.array(np.zeros(m, dtype=bool)))
        i = earlier.schema.get_field_index("satisfaction")
        earlier = earlier.set_column(i, "satisfaction", pa.array(np.full(m, "")))
        received_col = earlier.column("received_at").to_numpy().astype("datetime64[s]")
        i = earlier.schema.get_field_index("updated_at")
        return earlier.set_column(i, "updated_at", _ts(received_col + np.timedelta64(3600, "s")))

    def export_provinces(self) -> list[str]:
        """The provinces whose 766 export is written: the outage province's successor first."""
        merged = self.ref.province_merger.get(self.cfg.outage_province)
        first = [merged] if merged in self.new_provinces else []
        return first + [p for p in self.new_provinces if p not in first]

    def by_province(self, table: pa.Table) -> dict[str, pa.Table]:
        """The dossiers each province's units handle (after the reorganisation): a
        department's province from its code, a commune's from the unit list; every province
        of the list, none left out (an empty table where it has no dossiers)."""
        communes = self.ref.communes_new
        province = pa.array(
            [
                a.split(".", 1)[0] if "." in a else communes.get(a)
                for a in table.column("agency_code").to_pylist()
            ],
            pa.string(),
        )
        return {p: table.filter(pc.equal(province, p)) for p in self.new_provinces}

    def outage_agency(self) -> str:
        return f"{self.cfg.outage_province}.{self.cfg.outage_dept}"

    def merged_department_load(self, table: pa.Table, month: dt.date) -> pa.Table:
        """From the department merger until the July reorganisation, the outage province's
        merged department receives ``outage_dept_share`` of its departmental dossiers (chosen
        by a hash of the id, so every version of a dossier agrees)."""
        if self.outage is None or not (self.outage[0] <= month < REFORM_DATE):
            return table
        prov = self.cfg.outage_province
        agency = table.column("agency_code").to_numpy(zero_copy_only=False).astype(str)
        unit = table.column("unit_code").to_numpy(zero_copy_only=False).astype(str)
        ids = table.column("dossier_id").to_numpy(zero_copy_only=False)
        departmental = (unit == prov) & np.char.startswith(agency, f"{prov}.")
        chosen = np.zeros(len(ids), dtype=bool)
        share = round(self.cfg.outage_dept_share * 1000)
        for i in np.flatnonzero(departmental):
            chosen[i] = zlib.crc32(str(ids[i]).encode()) % 1000 < share
        agency = np.where(chosen, self.outage_agency(), agency)
        i = table.schema.get_field_index("agency_code")
        return table.set_column(i, "agency_code", pa.array(agency))

    def national_copy(self, provincial: pa.Table, month: dt.date) -> pa.Table:
        """What the national portal holds: the newest version of every dossier the provincial
        system synchronised, except the outage agency's dossiers during the outage; after it,
        those are filed under the old department's code. A few finished dossiers are still open
        on the portal (their last update never arrived) and a few dossiers exist only there."""
        r = self.portal_rng
        synced = provincial.filter(pa.compute.is_valid(provincial.column("synced_national_at")))
        # keep the newest version per dossier id (versions are appended oldest first)
        ids = synced.column("dossier_id").to_numpy(zero_copy_only=False)
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(len(ids) - 1 - last)
        synced = synced.take(pa.array(keep))
        n = synced.num_rows
        agency = synced.column("agency_code").to_numpy(zero_copy_only=False).astype(str)
        received = synced.column("received_at").to_numpy().astype("datetime64[s]")
        if self.outage is not None:
            start, end = (np.datetime64(d, "s") for d in self.outage)
            ours = agency == self.outage_agency()
            lost = ours & (received >= start) & (received < end)
            relabel = ours & (received >= end) & (received < np.datetime64(REFORM_DATE, "s"))
            old_code = f"{self.cfg.outage_province}.{self.cfg.outage_old_dept}"
            agency = np.where(relabel, old_code, agency)
            synced = synced.set_column(
                synced.schema.get_field_index("agency_code"), "agency_code", pa.array(agency)
            )
            synced = synced.filter(pa.array(~lost))
            n = synced.num_rows
        received = synced.column("received_at").to_numpy().astype("datetime64[s]")
        status = synced.column("status").to_numpy(zero_copy_only=False).astype(str)
        stale = (status == "finished") & (r.random(n) < self.cfg.portal_stale_status_share)
        columns = {name: synced.column(name) for name in synced.column_names}
        columns["status"] = pa.array(np.where(stale, "processing", status))
        finished = synced.column("finished_at").to_numpy().astype("datetime64[s]")
        columns["finished_at"] = pa.array(
            np.where(stale, np.datetime64("NaT"), finished), type=pa.timestamp("s")
        )
        columns["has_e_result"] = pa.array(
            ~stale & synced.column("has_e_result").to_numpy(zero_copy_only=False)
        )
        satisfaction = synced.column("satisfaction").to_numpy(zero_copy_only=False).astype(str)
        columns["satisfaction"] = pa.array(np.where(stale, "", satisfaction))
        updated = synced.column("updated_at").to_numpy().astype("datetime64[s]")
        columns["updated_at"] = pa.array(
            np.where(stale, received + np.timedelta64(3600, "s"), updated), type=pa.timestamp("s")
        )
        portal = pa.table(columns)
        # dossiers filed on the portal only: copies of provincial dossiers under a portal id
        only = portal.filter(pa.array(r.random(n) < self.cfg.portal_only_share))
        only_ids = np.char.add(
            "CDVCQG-", only.column("dossier_id").to_numpy(zero_copy_only=False).astype(str)
        )
        only = only.set_column(
            only.schema.get_field_index("dossier_id"), "dossier_id", pa.array(only_ids)
        )
        portal = pa.concat_tables([portal, only])
        i = portal.schema.get_field_index("source_system")
        return portal.set_column(
            i, "source_system", pa.array(np.full(portal.num_rows, "national_portal"))
        )


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype("datetime64[s]"), type=pa.timestamp("s"))


def _write_csv(table: pa.Table, path: Path) -> None:
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    pacsv.write_csv(table, path, write_options=options)


def generate(seeds_dir: Path, out: Path, cfg: GenerateConfig) -> dict[str, object]:
    """Write dossiers, submissions and tasks under ``out/<feed>/``; return a summary."""
    ref = load_reference(seeds_dir)
    gen = _Generator(ref, cfg)
    months = _months(cfg.start_month, cfg.months)
    snapshot = dt.datetime.combine(_month_after(months[-1]), dt.time()) + dt.timedelta(days=5)
    dossier_dir = out / "dossiers"
    dossier_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    export_provinces = gen.export_provinces() if cfg.portal_export else []
    export_tables: dict[str, dict[dt.date, tuple[pa.Table, pa.Table]]] = {
        p: {} for p in export_provinces
    }
    for no, month in enumerate(months):
        table = gen.merged_department_load(gen.dossiers_for_month(month, no, snapshot), month)
        portal = gen.national_copy(table, month)
        if export_provinces and month >= ref.reform_date:
            provincial_by, portal_by = gen.by_province(table), gen.by_province(portal)
            for province in export_provinces:
                export_tables[province][month] = (provincial_by[province], portal_by[province])
        tag = f"{month:%Y-%m}"
        if no >= len(months) - cfg.csv_months:
            _write_csv(table, dossier_dir / f"dossiers_provincial_{tag}.csv")
        else:
            pq.write_table(table, dossier_dir / f"dossiers_provincial_{tag}.parquet")
        pq.write_table(portal, dossier_dir / f"dossiers_national_portal_{tag}.parquet")
        rows += table.num_rows + portal.num_rows
    exports = [
        path
        for n, province in enumerate(export_provinces)
        for path in write_exports(
            ref, seeds_dir, province, export_tables[province], out / "portal766" / province,
            cfg.seed + int(province), dt.date.today(),
            monthly=n < cfg.portal_export_monthly_provinces,
        )
    ]  # fmt: skip
    submissions = write_submissions(gen, months, out / "submissions")
    tasks = write_tasks(gen, months, out / "tasks")
    summary = {
        "config": asdict(cfg),
        "dossier_rows": rows,
        "months": [f"{m:%Y-%m}" for m in (months[0], months[-1])],
        "provinces_before": len(gen.old_provinces),
        "provinces_after": len(gen.new_provinces),
        "submission_files": len(submissions),
        "task_file": tasks.name,
        "portal766_files": len(exports),
        "portal766_provinces": export_provinces,
        "sync_outage": None
        if gen.outage is None
        else {
            "agency": gen.outage_agency(),
            "from": gen.outage[0].isoformat(),
            "until": gen.outage[1].isoformat(),
            "portal_code_afterwards": f"{cfg.outage_province}.{cfg.outage_old_dept}",
        },
    }
    (out / "generated.json").write_text(json.dumps(summary, indent=2))
    return summary
