"""Sample exports of the national portal's 766 evaluation (spec/index766.md §2) for the
generator: the six pages of a province for each month and quarter after the reorganisation,
as the portal would answer them, computed from the portal's copy of the generated dossiers
(and the provincial system's count for the synchronisation denominator), with procedures,
petitions and fee procedures the portal alone knows, invented.

The points are the portal's rules (spec/index766.md §1) in plain Python with its rounding
(a double rounded by its binary value, ``Decimal(float)``), independent of the SQL that
reproduces them (macros/portal_rounding.sql). The edge cases the spec lists are in every
export: a commune with no dossiers (0 received: no progress points, DOSSIER_SYNC 0/0 without
last year's report: no score), units without petitions (full points), province-level
procedure metrics inherited by every unit, a payment term at 0/0, the province publishing
373 of 400 procedures on time (93.25 % → 5.59 points, not 5.60), and the certified-copy
counts left null (null is "no data", not 0).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from de06.periods import Period, parse_period
from de06.reference import Reference, read_seed_csv

CENT = Decimal("0.01")


def portal_round(value: float) -> float:
    """Two decimals by the double's binary value, ties away from zero (the portal's way)."""
    return float(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def points(
    num: float | None, den: float | None, top: float, full_at: float = 1.0, zero: str = "zero"
) -> float | None:
    """The portal's points for num / den: linear, or full points at ``full_at``."""
    if num is None or den is None:
        return None
    if den == 0:
        return {"zero": 0.0, "full": top, "none": None}[zero]
    percent = portal_round((num / den) * 100)
    return min(top, portal_round((percent * (top * 100 / (full_at * 100))) / 100))


def payment_points(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    """6·A + min(2, 2.5·B) + min(2, 2.5·C), each term rounded; a 0 denominator gives 0."""
    terms = [points(*a, 6), points(*b, 2, 0.8), points(*c, 2, 0.8)]
    return float(sum(Decimal(str(t or 0.0)) for t in terms))


# the counts of a unit's dossiers in a period, from the portal's copy (latest versions). A
# dossier is in time when it closed (finished, or returned, withdrawn or rejected: the update's
# time) by its due time, or was still open and not yet due at the period's end (the export is
# captured after it; spec/index766.md §1).
COUNTS_SQL = """
with latest as (
    select
        *,
        coalesce(
            finished_at,
            case when status in ('returned', 'withdrawn', 'rejected') then updated_at end
        ) as closed_at
    from portal
    qualify row_number() over (partition by dossier_id order by updated_at desc) = 1
),
judged as (
    select
        *,
        least(coalesce(closed_at, $period_after), $period_after) <= due_at as in_time,
        status = 'finished' and finished_at is not null and has_e_result as e_result
    from latest
)
select
    agency_code,
    count(*) as received,
    count(*) filter (where in_time) as on_time,
    count(*) filter (where in_time and satisfaction is distinct from 'dissatisfied')
        as satisfied_in_time,
    count(*) filter (where e_result) as e_result,
    count(*) filter (where is_digitized and e_result) as digitized_e_result,
    count(*) filter (where reused_data) as reused,
    count(*) filter (where identity_verified) as population_data,
    count(*) filter (where fee_amount > 0) as with_obligation,
    count(*) filter (where fee_amount > 0 and payment_channel = 'online') as paid_online,
    count(*) filter (where channel = 'online') as online,
    count(*) filter (where channel = 'direct') as direct,
    count(*) filter (where channel = 'postal') as postal
from judged
where received_at >= $period_start and received_at < $period_after
group by agency_code
"""


@dataclass
class Unit:
    code: str  # the warehouse's
    name: str  # as the portal writes it
    kind: str  # PROVINCE | PROVINCIAL_DEPARTMENT | COMMUNE_PEOPLE_COMMITTEE
    portal_id: int
    counts: dict[str, int]
    provincial_received: int


class PortalExport:
    """The six pages of one province for one period."""

    def __init__(
        self, ref: Reference, seeds_dir: Path, province: str, rng: np.random.Generator
    ) -> None:
        self.ref, self.province, self.rng = ref, province, rng
        units = seeds_dir / "admin_units"
        (row,) = [
            r for r in read_seed_csv(units / "admin_provinces_2025_07.csv") if r["code"] == province
        ]
        # "Tỉnh" or "Thành phố", as the province's full name has it
        self.kind = row["full_name"].removesuffix(row["name"]).strip()
        self.province_name = row["name"]
        self.communes = sorted(c for c, p in ref.communes_new.items() if p == province)
        self.commune_names = {
            r["code"]: r["full_name"]
            for r in read_seed_csv(units / "admin_communes_2025_07.csv")
            if r["province_code"] == province
        }
        # the portal's procedures: published by the province for all its units
        self.procedures = {"publish": (373, 400), "update": (57, 60), "content": (118, 120)}

    def units(self, portal: pa.Table, provincial: pa.Table, period: Period) -> list[Unit]:
        con = duckdb.connect()
        try:
            after = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time())
            params = {"period_start": period.start, "period_after": after}
            con.register("portal", portal)
            counted = con.execute(COUNTS_SQL, params).fetch_arrow_table().to_pylist()
            con.register("portal", provincial)
            local = {
                r["agency_code"]: r["received"]
                for r in con.execute(COUNTS_SQL, params).fetch_arrow_table().to_pylist()
            }
        finally:
            con.close()
        by_agency = {r["agency_code"]: r for r in counted if self._province_of(r["agency_code"])}
        units: list[Unit] = []
        for n, code in enumerate(sorted(by_agency), start=1):
            kind = "PROVINCIAL_DEPARTMENT" if "." in code else "COMMUNE_PEOPLE_COMMITTEE"
            units.append(
                Unit(code, self._name(code), kind, 2000 + n, by_agency[code], local.get(code, 0))
            )
        # a commune of the province with no dossiers in the period: the 0-received case
        quiet = next((c for c in self.communes if c not in by_agency), None)
        if quiet is not None:
            units.append(Unit(quiet, self._name(quiet), "COMMUNE_PEOPLE_COMMITTEE", 3999, {}, 0))
        total = {k: sum(int(u.counts.get(k, 0)) for u in units) for k in _COUNT_KEYS}
        province = Unit(
            self.province,
            self._name(self.province),
            "PROVINCE",
            1000,
            total,
            sum(u.provincial_received for u in units),
        )
        return [province, *units]

    def _province_of(self, agency: str) -> bool:
        if "." in agency:
            return agency.split(".", 1)[0] == self.province
        return self.ref.communes_new.get(agency) == self.province

    def _name(self, code: str) -> str:
        """The name the portal gives a unit: "UBND tỉnh Phú Thọ", "Sở Tư pháp - Tỉnh Phú
        Thọ", "UBND Phường Việt Trì"."""
        if code == self.province:
            kind = self.kind.lower() if self.kind == "Tỉnh" else self.kind
            return f"UBND {kind} {self.province_name}"
        if "." in code:
            dept = next(d for d in self.ref.departments if d["dept_code"] == code.split(".")[1])
            return f"{dept['name_vi']} - {self.kind} {self.province_name}"
        # the old placement of a tone mark, as some portal names are typed
        return "UBND " + self.commune_names[code].replace("òa", "oà").replace("óa", "oá")

    def pages(self, units: list[Unit]) -> dict[str, dict[str, Any]]:
        """The six answers: page -> the portal's JSON."""
        draws = {u.code: self._draws(u) for u in units}
        parent, children = units[0], units[1:]
        return {
            "transparency": _metric_page(parent, children, lambda u: self._transparency(u)),
            "handling-satisfaction": _metric_page(
                parent, children, lambda u: _satisfaction(u, draws[u.code])
            ),
            "dossier-digitized": _metric_page(parent, children, _digitised),
            "dvc-progress-tree": _tree_page(parent, children, _progress),
            "provide-online-tree": _tree_page(
                parent, children, lambda u: _online(u, draws[u.code])
            ),
            "formality-online-payment-tree": _tree_page(
                parent, children, lambda u: _payment(u, draws[u.code])
            ),
        }

    def _draws(self, unit: Unit) -> dict[str, float]:
        r = self.rng
        petitions = int(r.integers(0, 4)) if r.random() < 0.5 else 0
        fee_procedures = int(r.integers(0, 12))
        return {
            "petitions": petitions,
            "petitions_on_time": petitions - int(r.integers(0, petitions + 1) // 2),
            "petitions_satisfied": petitions - int(r.integers(0, petitions + 1) // 3),
            "fee_procedures": fee_procedures,
            "paying_online": int(r.integers(0, fee_procedures + 1)),
            "fee_synced": int(r.integers(0, fee_procedures + 1)),
            "online_points": portal_round(12 * float(r.uniform(0.55, 0.95))),
        }

    def _transparency(self, unit: Unit) -> list[dict[str, Any]]:
        received = unit.counts.get("received", 0)
        denominator = max(received, unit.provincial_received)
        sync = _metric("DOSSIER_SYNC", "Đồng bộ hồ sơ", received, denominator, 6, zero="none")
        if denominator == 0:
            sync |= {
                "dataQualityStatus": "NO_NATIONAL_REPORT_DATA",
                "dataQualityMessage": "Không có số liệu báo cáo năm trước",
            }
        return [
            _metric("PUBLISH_ON_TIME", "Công bố TTHC đúng hạn", *self.procedures["publish"], 6),
            _metric(
                "PUBLIC_UPDATE_ON_TIME", "Công khai TTHC đúng hạn", *self.procedures["update"], 4
            ),
            _metric("PUBLIC_CONTENT_FULL", "Công khai đầy đủ", *self.procedures["content"], 2),
            sync,
        ]


_COUNT_KEYS = (
    "received",
    "on_time",
    "e_result",
    "digitized_e_result",
    "reused",
    "population_data",
    "with_obligation",
    "paid_online",
    "satisfied_in_time",
    "online",
    "direct",
    "postal",
)


def _metric(
    code: str,
    name: str,
    num: float | None,
    den: float | None,
    top: float,
    full_at: float = 1.0,
    zero: str = "zero",
) -> dict[str, Any]:
    score = points(num, den, top, full_at, zero)
    ratio = None if not den or num is None else portal_round(num / den * 100)
    return {
        "code": code,
        "name": name,
        "numerator": num,
        "denominator": den,
        "ratio": ratio,
        "score": score,
        "maxScore": top,
    }


def _satisfaction(unit: Unit, draws: dict[str, float]) -> list[dict[str, Any]]:
    c = unit.counts
    received = c.get("received", 0)
    # received less those overdue or rated dissatisfied (no complaints in the sample)
    good = c.get("satisfied_in_time", 0)
    p = draws["petitions"]
    return [
        _metric(
            "DOSSIER_RECEIVING_SATISFACTION",
            "Hài lòng tiếp nhận, giải quyết",
            good,
            received,
            6,
            0.9,
        ),
        _metric(
            "PETITION_PROCESSING_ON_TIME",
            "PAKN xử lý đúng hạn",
            draws["petitions_on_time"],
            p,
            6,
            zero="full",
        ),
        _metric(
            "PETITION_HANDLING_SATISFACTION",
            "Hài lòng xử lý PAKN",
            draws["petitions_satisfied"],
            p,
            6,
            zero="full",
        ),
        _metric("PETITION_CLASSIFICATION_TTHC", "PAKN về TTHC", p, p, 0),
        _metric("PETITION_CLASSIFICATION_STAFF", "PAKN về cán bộ", 0, p, 0),
    ]


def _digitised(unit: Unit) -> list[dict[str, Any]]:
    c = unit.counts
    received = c.get("received", 0)
    return [
        _metric(
            "ORIGINAL_RESULT_AVAILABLE", "Cấp kết quả điện tử", c.get("e_result", 0), received, 6
        ),
        _metric(
            "SO_HOA_GIAY_TO_GIAI_QUYET", "Số hóa hồ sơ", c.get("digitized_e_result", 0), received, 4
        ),
        _metric(
            "REUSED_DIGITIZED_DATA", "Tái sử dụng dữ liệu", c.get("reused", 0), received, 2, 0.8
        ),
        _metric(
            "SYNCED_WITH_DVCQG_PERSONAL_STORAGE",
            "Kho dữ liệu cá nhân",
            c.get("online", 0),
            received,
            4,
        ),
        _metric(
            "CITIZEN_DATA_CONNECTED_DOSSIER",
            "Khai thác dữ liệu dân cư",
            c.get("population_data", 0),
            received,
            2,
        ),
        _metric("CITIZEN_DATA_CONNECTED_FORMALITY", "Thủ tục khai thác dữ liệu dân cư", 45, 60, 2),
        # published as 2 points everywhere, its counts empty
        {
            "code": "ELECTRONIC_CERTIFIED_COPY",
            "name": "Chứng thực điện tử",
            "numerator": None,
            "denominator": None,
            "ratio": None,
            "score": 2.0,
            "maxScore": 2,
        },
    ]


def _progress(unit: Unit) -> dict[str, Any]:
    c = unit.counts
    received, on_time = c.get("received", 0), c.get("on_time", 0)
    return {
        "totalReceived": received,
        "totalOnTime": on_time,
        "totalOverdue": received - on_time,
        "score": points(on_time, received, 20),
        "maxScore": 20,
        "ratio": None if not received else portal_round(on_time / received * 100),
    }


def _online(unit: Unit, draws: dict[str, float]) -> dict[str, Any]:
    c = unit.counts
    return {
        "score": draws["online_points"],
        "maxScore": 12,
        "channelOnlineSum": c.get("online", 0),
        "channelDirectSum": c.get("direct", 0),
        "channelPostalSum": c.get("postal", 0),
        "channelTotalSum": c.get("received", 0),
    }


def _payment(unit: Unit, draws: dict[str, float]) -> dict[str, Any]:
    c = unit.counts
    a = (c.get("paid_online", 0), c.get("with_obligation", 0))
    b = (draws["paying_online"], draws["fee_procedures"])
    fee_synced = (draws["fee_synced"], draws["fee_procedures"])
    return {
        "totalDossierOnlinePaymentSuccess": a[0],
        "totalDossierFinancialObligation": a[1],
        "totalDossierOnlineFormalityPaymentSuccess": b[0],
        "totalFeeDossierFormality": fee_synced[0],
        "totalFeeFormality": b[1],
        "score": payment_points(a, b, fee_synced),
        "maxScore": 10,
    }


def _unit_head(unit: Unit) -> dict[str, Any]:
    return {"departmentId": unit.portal_id, "departmentName": unit.name}


def _metric_page(parent: Unit, children: list[Unit], metrics: Any) -> dict[str, Any]:
    def entry(unit: Unit) -> dict[str, Any]:
        ms = metrics(unit)
        total = sum((Decimal(str(m["score"] or 0.0)) for m in ms), Decimal(0))
        return {
            **_unit_head(unit),
            "departmentType": unit.kind,
            "departmentLevel": 1 if unit.kind == "PROVINCE" else 2,
            "totalScore": float(total),
            "totalMaxScore": sum(m["maxScore"] for m in ms),
            "metrics": ms,
        }

    return {"overview": entry(parent), "evaluation": [entry(u) for u in children]}


def _tree_page(parent: Unit, children: list[Unit], counts: Any) -> dict[str, Any]:
    def entry(unit: Unit, n: int) -> dict[str, Any]:
        code = f"H{parent.code}" if unit is parent else f"H{parent.code}.{n}"
        level = "PROVINCE" if unit.kind != "COMMUNE_PEOPLE_COMMITTEE" else "COMMUNE"
        return {**_unit_head(unit), "departmentCode": code, "level": level, **counts(unit)}

    head = entry(parent, 0)
    head["totalScore"], head["totalMaxScore"] = head.pop("score"), head.pop("maxScore")
    return {"parent": head, "children": [entry(u, n) for n, u in enumerate(children, start=1)]}


def export_periods(months: list[dt.date], reform: dt.date) -> list[Period]:
    """The months after the reorganisation, and the quarters they fully cover."""
    after = [m for m in months if m >= reform]
    periods = [parse_period(f"{m:%Y-%m}") for m in after]
    quarters = sorted({f"{m.year}-Q{(m.month - 1) // 3 + 1}" for m in after})
    for q in quarters:
        period = parse_period(q)
        if all(dt.date(period.start.year, period.start.month + i, 1) in after for i in range(3)):
            periods.append(period)
    return periods


def write_exports(
    ref: Reference,
    seeds_dir: Path,
    province: str,
    tables: dict[dt.date, tuple[pa.Table, pa.Table]],
    out: Path,
    seed: int,
    today: dt.date,
    monthly: bool = True,
) -> list[Path]:
    """Write the six pages of ``province`` for every period the months in ``tables`` cover
    (provincial and portal dossiers per month; ``monthly``: the months too, else the quarters
    only), captured five days after each period (a capture still in the future is not
    written). Returns the files."""
    rng = np.random.default_rng(seed + 766)
    export = PortalExport(ref, seeds_dir, province, rng)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for period in export_periods(sorted(tables), ref.reform_date):
        if period.grain == "month" and not monthly:
            continue
        captured = period.end + dt.timedelta(days=5)
        if captured > today:
            continue
        months = [m for m in tables if period.start <= m <= period.end]
        provincial = pa.concat_tables([tables[m][0] for m in months], promote_options="default")
        portal = pa.concat_tables([tables[m][1] for m in months], promote_options="default")
        units = export.units(portal, provincial, period)
        for page, data in export.pages(units).items():
            path = out / f"portal766__{page}__{period.code}__{captured.isoformat()}.json"
            answer = {"code": "OK", "message": "Thành công", "data": data}
            path.write_text(json.dumps(answer, ensure_ascii=False, indent=1), encoding="utf-8")
            written.append(path)
    return written
