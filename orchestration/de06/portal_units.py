"""The national portal's units matched to the warehouse's by name (spec/index766.md §2).

The portal names a unit, not by our code: "UBND tỉnh Phú Thọ" (province 25), "UBND Phường
Việt Trì" (the ward of that name in province 25), "Sở Công Thương - Tỉnh Phú Thọ" (25.SCT).
A name is matched within its province after Unicode NFC, case folding, the old and new
placements of a tone mark ("hoá" and "hóa"), reading "UBND" as "Ủy ban nhân dân" (dropped
before a commune's or province's name), and dropping a trailing " - Tỉnh <province>" or
the province's name; a commune's type word (Phường, Xã, Đặc khu) is matched as part of its
full name. The override seed (``seeds/index_766/index_766_unit_overrides.csv``) settles what
names cannot. A name that matches no unit, or more than one, is not matched: the ingest
quarantines it with its name, never guesses.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from de06.project_vars import reform_date
from de06.reference import read_seed_csv

# the old placement of a tone mark on "oa", "oe", "uy" -> the new (as the unit lists spell it)
_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip
_COMMITTEE = "ủy ban nhân dân"
_PROVINCE_WORDS = ("tỉnh", "thành phố")


def fold(name: str) -> str:
    """A name as compared: NFC, case-folded, one space between words, the new tone placement,
    "UBND" spelt out, dashes spaced."""
    text = unicodedata.normalize("NFC", name).casefold()
    text = re.sub(r"[\u2010-\u2015]", "-", text)
    text = re.sub(r"\s*-\s*", " - ", text)
    text = re.sub(r"\s+", " ", text).strip()
    for old, new in _TONES.items():
        text = text.replace(old, new)
    text = re.sub(r"\bubnd\b", _COMMITTEE, text)
    return re.sub(r"\bq\.", "quận ", text).strip()


def _without_province_words(text: str) -> str:
    for word in _PROVINCE_WORDS:
        if text.endswith(f" {word}"):
            return text[: -len(word) - 1]
    return text


@dataclass(frozen=True)
class Unit:
    code: str
    level: str  # province | agency | district | commune


@dataclass
class _Province:
    code: str
    names: set[str]
    units: dict[str, set[Unit]] = field(default_factory=dict)  # folded name -> units

    def add(self, name: str, unit: Unit) -> None:
        self.units.setdefault(name, set()).add(unit)


@dataclass(frozen=True)
class Override:
    province_code: str  # empty for a province's own name
    portal_name: str  # folded
    unit_code: str


class UnitNames:
    """The units of each province by name, in the 34-province era and before it."""

    def __init__(self, seeds_dir: Path) -> None:
        self.reform_date = reform_date(seeds_dir.parent)
        units = seeds_dir / "admin_units"
        departments = read_seed_csv(seeds_dir / "agencies" / "agency_departments.csv")
        self._eras: dict[bool, dict[str, _Province]] = {}
        for after in (False, True):
            suffix = "2025_07" if after else "2025_03"
            provinces: dict[str, _Province] = {}
            for row in read_seed_csv(units / f"admin_provinces_{suffix}.csv"):
                names = {fold(row["full_name"]), fold(row["name"])}
                province = provinces[row["code"]] = _Province(row["code"], names)
                province.add(fold(row["full_name"]), Unit(row["code"], "province"))
                for dept in departments:
                    valid_to = dept["valid_to"]
                    if after and valid_to and dt.date.fromisoformat(valid_to) < self.reform_date:
                        continue  # retired before the era
                    if not after and dt.date.fromisoformat(dept["valid_from"]) >= self.reform_date:
                        continue
                    unit = Unit(f"{row['code']}.{dept['dept_code']}", "agency")
                    name = fold(dept["name_vi"])
                    province.add(name, unit)
                    province.add(_without_province_words(name), unit)
            district_province: dict[str, str] = {}
            if not after:
                for row in read_seed_csv(units / "admin_districts_2025_03.csv"):
                    district_province[row["code"]] = row["province_code"]
                    provinces[row["province_code"]].add(
                        fold(row["full_name"]), Unit(row["code"], "district")
                    )
            for row in read_seed_csv(units / f"admin_communes_{suffix}.csv"):
                code = row.get("province_code") or district_province[row["district_code"]]
                provinces[code].add(fold(row["full_name"]), Unit(row["code"], "commune"))
            self._eras[after] = provinces
        overrides = seeds_dir / "index_766" / "index_766_unit_overrides.csv"
        self.overrides = [
            Override(r["province_code"].strip(), fold(r["portal_name"]), r["unit_code"].strip())
            for r in (read_seed_csv(overrides) if overrides.exists() else [])
        ]

    def _era(self, period_end: dt.date) -> dict[str, _Province]:
        return self._eras[period_end >= self.reform_date]

    def _override(self, province_code: str, name: str) -> str | None:
        found = {
            o.unit_code
            for o in self.overrides
            if o.portal_name == name and o.province_code == province_code
        }
        return found.pop() if len(found) == 1 else None

    def province(self, name: str, period_end: dt.date) -> str | None:
        """The province a page's overview or parent names ("UBND tỉnh Phú Thọ")."""
        text = fold(name)
        override = self._override("", text)
        if override is not None:
            return override
        text = text.removeprefix(f"{_COMMITTEE} ")
        found = {p.code for p in self._era(period_end).values() if text in p.names}
        return found.pop() if len(found) == 1 else None

    def unit(self, province_code: str, name: str, period_end: dt.date) -> Unit | None:
        """The unit of ``province_code`` that ``name`` names; None when no unit, or more than
        one, has it."""
        province = self._era(period_end).get(province_code)
        if province is None:
            return None
        text = fold(name)
        override = self._override(province_code, text)
        if override is not None:
            return Unit(override, _level(override, province))
        for candidate in _candidates(text, province):
            units = province.units.get(candidate, set())
            if len(units) == 1:
                return next(iter(units))
            if len(units) > 1:
                return None  # two units of the name: settled by the override seed only
        return None


def _level(code: str, province: _Province) -> str:
    for units in province.units.values():
        for unit in units:
            if unit.code == code:
                return unit.level
    return "agency" if "." in code else "commune"


def _candidates(text: str, province: _Province) -> list[str]:
    """The forms of a portal name tried in turn: as written, without a trailing
    " - Tỉnh <province>", without a leading "Ủy ban nhân dân", without the province's name
    (and "tỉnh" or "thành phố" before it) at its end."""
    forms = [text]
    for name in sorted(province.names, key=len, reverse=True):
        for word in ("", *(f"{w} " for w in _PROVINCE_WORDS)):
            suffix = f" - {word}{name}"
            if text.endswith(suffix):
                forms.append(text[: -len(suffix)])
    forms += [f.removeprefix(f"{_COMMITTEE} ") for f in list(forms)]
    for form in list(forms):
        for name in sorted(province.names, key=len, reverse=True):
            if form.endswith(f" {name}"):
                stripped = form[: -len(name) - 1]
                forms += [stripped, _without_province_words(stripped)]
    return list(dict.fromkeys(f for f in forms if f))  # in order, each once


def unit_names(seeds_dir: Path) -> UnitNames:
    """The names of ``seeds_dir``'s units, read again when the override seed changes (a
    long-running process, Dagster's, sees an override added while it runs)."""
    overrides = seeds_dir / "index_766" / "index_766_unit_overrides.csv"
    stamp = overrides.stat().st_mtime_ns if overrides.exists() else 0
    return _unit_names(seeds_dir, stamp)


@cache
def _unit_names(seeds_dir: Path, _overrides_stamp: int) -> UnitNames:
    return UnitNames(seeds_dir)
