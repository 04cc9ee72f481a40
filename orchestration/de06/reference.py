"""Reference data read from the project's seeds (administrative units, agencies, catalogue).

Used by the generator and by ingest validation; dbt reads the same files as seeds, so Python and
SQL agree on what a unit or an indicator is.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from de06.project_vars import history_start, reform_date
from de06.settings import PROJECT_DIR

# the dbt variables of the project (dbt_project.yml), as the models read them
REFORM_DATE = reform_date(PROJECT_DIR)  # two-level local government, 63 -> 34 provinces
HISTORY_START = history_start(PROJECT_DIR)  # the 1 March 2025 unit list is valid from here


def read_seed_csv(path: Path) -> list[dict[str, str]]:
    """A seed's rows (UTF-8, a byte-order mark or not), as text."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Validity:
    code: str
    level: str
    valid_from: dt.date
    valid_to: dt.date | None  # inclusive; None = still valid

    def overlaps(self, start: dt.date, end: dt.date) -> bool:
        return self.valid_from <= end and (self.valid_to is None or self.valid_to >= start)


@dataclass(frozen=True)
class Reference:
    """The unit lists before and after 1 July 2025 and the indicator catalogue."""

    provinces_old: dict[str, str]  # code -> name
    provinces_new: dict[str, str]
    districts: dict[str, str]  # code -> province code
    communes_old: dict[str, str]  # code -> district code
    communes_new: dict[str, str]  # code -> province code
    province_merger: dict[str, str]  # old province -> new province
    departments: list[dict[str, str]]
    indicators: dict[str, dict[str, str]]
    # the project's dbt variables, as int_units reads them
    history_start: dt.date = HISTORY_START
    reform_date: dt.date = REFORM_DATE

    def commune_province_old(self, commune: str) -> str:
        return self.districts[self.communes_old[commune]]

    def validities(self, code: str) -> list[Validity]:
        """Every unit that has carried ``code``, with its validity (a code may be reused)."""
        before_end = self.reform_date - dt.timedelta(days=1)
        found: list[Validity] = []
        if code == "VN":
            return [Validity(code, "nation", self.history_start, None)]
        if "." in code:
            province, dept = code.split(".", 1)
            for row in self.departments:
                if row["dept_code"] != dept:
                    continue
                d_from = dt.date.fromisoformat(row["valid_from"])
                d_to = dt.date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
                for prov in self.validities(province):
                    if prov.level != "province":
                        continue
                    start = max(d_from, prov.valid_from)
                    ends = [d for d in (d_to, prov.valid_to) if d is not None]
                    end = min(ends) if ends else None
                    if end is None or start <= end:
                        found.append(Validity(code, "agency", start, end))
            return found
        if code in self.provinces_old:
            unchanged = code in self.provinces_new and self._unchanged(code)
            found.append(
                Validity(code, "province", self.history_start, None if unchanged else before_end)
            )
        if code in self.provinces_new and not self._unchanged(code):
            found.append(Validity(code, "province", self.reform_date, None))
        if code in self.districts:
            found.append(Validity(code, "district", self.history_start, before_end))
        if code in self.communes_old:
            found.append(Validity(code, "commune", self.history_start, before_end))
        if code in self.communes_new:
            found.append(Validity(code, "commune", self.reform_date, None))
        return found

    def all_validities(self) -> list[Validity]:
        """Every code a dossier may name as its unit or agency, with its validity periods."""
        codes = {"VN"} | set(self.provinces_old) | set(self.provinces_new) | set(self.districts)
        codes |= set(self.communes_old) | set(self.communes_new)
        depts = {row["dept_code"] for row in self.departments}
        provinces = set(self.provinces_old) | set(self.provinces_new)
        codes |= {f"{p}.{d}" for p in provinces for d in depts}
        return [v for code in sorted(codes) for v in self.validities(code)]

    @cached_property
    def unit_validities(self) -> tuple[Validity, ...]:
        """What the ingest checks a unit or agency code against: every code's validity
        periods and the retired department codes (worked out once per reference: 0.08 s)."""
        return tuple(self.all_validities() + self.retired_agency_validities())

    def retired_agency_validities(self) -> list[Validity]:
        """Department codes retired by the 1 March 2025 merger, accepted on later dossiers.

        One-stop systems and the national portal kept filing dossiers under an old department's
        code for a while; such a code names its successor (``successor_dept_code``) without
        doubt, so it stays usable until the province itself ends. The warehouse counts those
        dossiers under the successor (``int_dossiers__enriched``).
        """
        found: list[Validity] = []
        for row in self.departments:
            if not (row["valid_to"] and row["successor_dept_code"]):
                continue
            retired = dt.date.fromisoformat(row["valid_to"]) + dt.timedelta(days=1)
            for province in self.provinces_old:
                for prov in self.validities(province):
                    if prov.level == "province" and prov.overlaps(retired, retired):
                        found.append(
                            Validity(f"{province}.{row['dept_code']}", "agency", retired,
                                     prov.valid_to)
                        )  # fmt: skip
        return found

    def _unchanged(self, province: str) -> bool:
        """A province that neither absorbed another nor was absorbed on 1 July 2025."""
        return self.province_merger.get(province) == province and not any(
            new == province and old != province for old, new in self.province_merger.items()
        )


@cache
def load_reference(seeds_dir: Path) -> Reference:
    units = seeds_dir / "admin_units"
    provinces_old = {
        r["code"]: r["name"] for r in read_seed_csv(units / "admin_provinces_2025_03.csv")
    }
    provinces_new = {
        r["code"]: r["name"] for r in read_seed_csv(units / "admin_provinces_2025_07.csv")
    }
    districts = {
        r["code"]: r["province_code"] for r in read_seed_csv(units / "admin_districts_2025_03.csv")
    }
    communes_old = {
        r["code"]: r["district_code"] for r in read_seed_csv(units / "admin_communes_2025_03.csv")
    }
    communes_new = {
        r["code"]: r["province_code"] for r in read_seed_csv(units / "admin_communes_2025_07.csv")
    }
    merger = {
        r["old_province_code"]: r["new_province_code"]
        for r in read_seed_csv(units / "admin_province_merger_2025.csv")
    }
    departments = read_seed_csv(seeds_dir / "agencies" / "agency_departments.csv")
    indicators = {
        r["indicator_code"]: r for r in read_seed_csv(seeds_dir / "catalogue" / "indicators.csv")
    }
    return Reference(
        provinces_old=provinces_old,
        provinces_new=provinces_new,
        districts=districts,
        communes_old=communes_old,
        communes_new=communes_new,
        province_merger=merger,
        departments=departments,
        indicators=indicators,
        # the seeds' project (Settings.seeds_dir: <project>/seeds)
        history_start=history_start(seeds_dir.parent),
        reform_date=reform_date(seeds_dir.parent),
    )
