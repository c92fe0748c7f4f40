"""The demo workspace's burden inventories: reporting requirements of five municipalities.

DEMO DATA. The requirements are realistic kinds of reporting and documentation in Swedish
home care, elderly care and schools (visit documentation and time registration in home
care, quality registers, deviation reports, national user surveys, purchaser follow-up,
systematic quality work reports, grade and absence reporting); the minutes, frequencies
and staff numbers are plausible guesses, not measurements. Each requirement links to the
demo indicators it feeds (``docs/demo.md``), so the signal audit can count hours saved.

:func:`demo_inventories` is deterministic for a seed: the same seed gives the same frames.
Stockholm (0180) has two inventories (2023 and 2025) so the change view has something to
show: the purchaser's per-visit time registration was removed, visit documentation was
slimmed, and a new digital follow-up was added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tillit.core.audit.template import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

__all__ = ["DEMO_INVENTORY_ORGS", "DemoInventory", "demo_inventories"]

DEMO_INVENTORY_ORGS = ("0180", "1480", "0380", "1280", "1980")

# size of each municipality's services relative to a mid-sized one (staff numbers scale)
_SIZE = {"0180": 9.0, "1480": 5.5, "0380": 2.2, "1280": 3.3, "1980": 1.6}

# id, title, demanded_by, staff_group, unit, frequency/yr, minutes, reporters at size 1,
# hourly cost (SEK incl. overheads), indicator ids (;), dimension
_REQUIREMENTS: tuple[tuple[str, str, str, str, str, float, float, float, float, str, str], ...] = (
    ("HT01", "Daily visit documentation in the care record (social documentation)", "state", "assistant nurse", "home care", 1760, 1.5, 120, 410, "", "continuity"),
    ("HT02", "Time registration per visit for the purchaser (phone time stamps)", "purchaser", "assistant nurse", "home care", 1760, 1.0, 120, 410, "N21826;N21006", "cost"),
    ("HT03", "Implementation plan updates per user", "municipal_board", "assistant nurse", "home care", 4, 45, 60, 410, "U21462", "user influence"),
    ("HT04", "Monthly deviation summary to the board", "municipal_board", "unit manager", "home care", 12, 90, 8, 650, "DEMO_004", "safety"),
    ("HT05", "Incident reports (avvikelserapporter)", "state", "assistant nurse", "home care", 6, 20, 120, 410, "DEMO_004", "safety"),
    ("HT06", "National user survey in home care: lists, reminders, follow-up", "state", "administrator", "home care", 1, 900, 2, 520, "U21454;U21466;U21461;U21467;U21475;U21477", "user experience"),
    ("HT07", "Fall and pressure-ulcer risk assessments (Senior alert)", "region", "nurse", "home care", 4, 40, 14, 520, "", "safety"),
    ("HT08", "Quarterly purchaser follow-up report", "purchaser", "unit manager", "home care", 4, 240, 8, 650, "N21006;N21826", "cost"),
    ("HT09", "Weekly staff continuity count for the board", "municipal_board", "planner", "home care", 52, 60, 6, 470, "U21401", "continuity"),
    ("HT10", "Quality report (kvalitetsberättelse), home care", "state", "unit manager", "home care", 1, 960, 8, 650, "", "quality"),
    ("HT11", "Documentation-time self-registration week", "municipal_board", "assistant nurse", "home care", 1, 20, 120, 410, "DEMO_001", "working conditions"),
    ("HT12", "Needs assessment decisions and follow-up (bistånd)", "state", "care manager", "home care", 300, 35, 10, 540, "N21701", "legal certainty"),
    ("ST01", "Monthly sick-leave and staffing report", "municipal_board", "unit manager", "all", 12, 45, 20, 650, "N00090;N20200", "staff"),
    ("ST02", "Managers' administration follow-up", "municipal_board", "unit manager", "all", 12, 30, 20, 650, "DEMO_002", "working conditions"),
    ("ST03", "Staff turnover and recruitment report", "municipal_board", "HR officer", "all", 12, 60, 3, 560, "DEMO_003", "staff"),
    ("ST04", "Employee engagement survey (HME)", "municipal_board", "all staff", "all", 1, 25, 400, 420, "U21200;U00200", "staff"),
    ("ST05", "Permanent employment statistics to SCB", "state", "HR officer", "all", 1, 480, 2, 560, "N00200", "staff"),
    ("AO01", "Daily social documentation in nursing homes", "state", "assistant nurse", "nursing homes", 250, 8, 90, 410, "", "continuity"),
    ("AO02", "Quality register BPSD (dementia symptoms)", "region", "nurse", "nursing homes", 6, 45, 10, 520, "", "dementia care"),
    ("AO03", "Palliative care register after each death", "region", "nurse", "nursing homes", 10, 30, 10, 520, "", "end of life"),
    ("AO04", "National user survey in nursing homes", "state", "administrator", "nursing homes", 1, 600, 2, 520, "U23463;U23471", "user experience"),
    ("AO05", "Waiting-list report for nursing-home places", "municipal_board", "care manager", "nursing homes", 12, 60, 3, 540, "U23401", "access"),
    ("AO06", "Decisions not carried out, report to IVO", "state", "administrator", "nursing homes", 4, 120, 2, 520, "", "access"),
    ("AO07", "Monthly cost follow-up, elderly care", "municipal_board", "unit manager", "nursing homes", 12, 120, 6, 650, "N20007;N23009", "cost"),
    ("AO08", "Lex Sarah reports and investigations", "state", "nurse", "nursing homes", 2, 240, 6, 520, "", "safety"),
    ("AO09", "Medication deviation reports", "region", "nurse", "nursing homes", 12, 15, 10, 520, "", "safety"),
    ("AO10", "Share of 80+ in nursing homes, statistics", "state", "administrator", "nursing homes", 1, 240, 1, 520, "N23801", "access"),
    ("SK01", "Grades and national test results registration", "state", "teacher", "compulsory school", 2, 120, 60, 480, "N15505;N15428", "learning"),
    ("SK02", "Individual development plans and written assessments", "state", "teacher", "compulsory school", 2, 300, 60, 480, "", "learning"),
    ("SK03", "Extra adaptations and action programmes", "state", "teacher", "compulsory school", 20, 45, 60, 480, "", "special support"),
    ("SK04", "Systematic quality work report, school", "municipal_board", "principal", "compulsory school", 2, 900, 6, 700, "", "quality"),
    ("SK05", "Daily absence registration", "municipal_board", "teacher", "compulsory school", 178, 4, 60, 480, "", "attendance"),
    ("SK06", "Reports of offensive treatment to the principal", "state", "teacher", "compulsory school", 6, 40, 60, 480, "", "safety"),
    ("SK07", "Cost per pupil reporting to SCB", "state", "administrator", "compulsory school", 1, 1200, 1, 520, "N15008", "cost"),
    ("SK08", "Teacher certification statistics", "state", "administrator", "compulsory school", 1, 240, 1, 520, "N15813", "staff"),
    ("SK09", "Follow-up of young people outside school (aktivitetsansvar)", "state", "counsellor", "upper secondary", 12, 60, 3, 500, "N17461", "learning"),
    ("SK10", "School survey administration", "state", "principal", "compulsory school", 1, 300, 6, 700, "", "safety"),
)  # fmt: skip

_STAFF_EXTRA = 1.15  # employees per reporter of the largest requirement of a group


@dataclass(frozen=True)
class DemoInventory:
    """One demo inventory: organisation code, label, date, requirements and staff."""

    organisation_code: str
    label: str
    inventory_date: str
    requirements: pd.DataFrame
    staff: pd.DataFrame


def _base(seed: int, code: str) -> pd.DataFrame:
    """The 2023 inventory of ``code`` in the template's columns."""
    rng = np.random.default_rng([seed, int(code)])
    rows = []
    size = _SIZE[code]
    for rid, title, dem, grp, unit, freq, mins, rep, cost, inds, dim in _REQUIREMENTS:
        jitter = float(rng.uniform(0.8, 1.25))
        reporters = max(1, round(rep * size * jitter)) if rep > 3 else round(rep)
        minutes = round(mins * float(rng.uniform(0.85, 1.2)), 1)
        rows.append(
            [rid, title, dem, grp, unit, freq, minutes, reporters, cost, inds, "", dim]
        )
    return pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS])


def _staff(req: pd.DataFrame) -> pd.DataFrame:
    """Employees per staff group: the most reporters of any requirement, plus margin."""
    top = req.groupby("staff_group")["reporters"].max()
    emp = np.ceil(top.to_numpy(float) * _STAFF_EXTRA)
    return pd.DataFrame({"staff_group": top.index, "employees": emp})


def _changed(base: pd.DataFrame) -> pd.DataFrame:
    """The 2025 inventory: per-visit time registration gone, visits slimmed, one new."""
    new = base[base["requirement_id"] != "HT02"].copy()
    new.loc[new["requirement_id"] == "HT01", "minutes_per_occurrence"] = 1.0
    new.loc[new["requirement_id"] == "AO09", "frequency_per_year"] = 6
    extra = new[new["requirement_id"] == "HT08"].copy()
    extra["requirement_id"] = "HT13"
    extra["title"] = "Digital follow-up dashboard for the board (monthly)"
    extra["demanded_by"] = "municipal_board"
    extra["frequency_per_year"] = 12
    extra["minutes_per_occurrence"] = 60.0
    extra["indicator_ids"] = "U21401"
    extra["dimension"] = "continuity"
    return pd.concat([new, extra], ignore_index=True)


def demo_inventories(seed: int = 2016) -> list[DemoInventory]:
    """The demo inventories (deterministic): one per demo municipality, two for 0180.

    Returns
    -------
    list of DemoInventory
        Requirements in the columns of ``docs/templates/burden_template.csv``
        (``inventory`` holds the label) and employees per staff group.
    """
    out: list[DemoInventory] = []
    for code in DEMO_INVENTORY_ORGS:
        base = _base(seed, code)
        versions = [("Inventering 2023", "2023-03-31", base)]
        if code == "0180":
            versions.append(("Inventering 2025", "2025-03-31", _changed(base)))
        for label, date, req in versions:
            req = req.assign(inventory=label).reset_index(drop=True)
            out.append(DemoInventory(code, label, date, req, _staff(req)))
    return out
