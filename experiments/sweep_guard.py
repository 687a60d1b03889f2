"""A sweep never loses finished rows: an earlier table or journal with rows outside
this sweep is refused (naming what differs) unless the user asks to overwrite it,
and a damaged table or journal is refused, never rewritten."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from twin.errors import TwinInputError

# Columns every sweep row has: its key and everything that determines its result.
REQUIRED_COLUMNS = (
    "design_key", "cathode", "np_ratio", "areal_capacity_mAh_cm2", "electrolyte_g_per_Ah", "charge_rate_C",
    "discharge_rate_C", "temperature_degC", "strategy", "cell_model", "mode", "eol_fraction", "max_cycles",
)
# Settings and design columns compared to name what an earlier sweep did differently.
DIFFERENCE_COLUMNS = REQUIRED_COLUMNS[1:]


class SweepDataError(TwinInputError):
    """A sweep output or journal that cannot be used as it is (message says why)."""


def check_columns(columns: Iterable[str], where: str) -> None:
    """Refuse a table or journal line that lacks a column of a sweep row."""
    missing = [name for name in REQUIRED_COLUMNS if name not in set(columns)]
    if missing:
        raise SweepDataError(f"{where} lacks the sweep column(s) {', '.join(missing)} (edited?); it is left "
                             "as it is: restore it, or choose another --out")


def describe_difference(earlier: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]) -> str:
    """'max_cycles 300 (this run: 3)': the columns whose earlier values this run does not ask for."""
    parts = []
    for name in DIFFERENCE_COLUMNS:
        asked = {_plain(row.get(name)) for row in current}
        before = sorted({_plain(row.get(name)) for row in earlier} - asked, key=str)
        if before:
            parts.append(f"{name} {', '.join(map(str, before[:3]))} (this run: "
                         f"{', '.join(map(str, sorted(asked, key=str)[:3]))})")
    return "; ".join(parts) if parts else "designs or --set values outside this grid"


def refuse_foreign_rows(out: str, foreign: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]],
                        journal_only: bool) -> None:
    """Raise a one-line SweepDataError: rerunning would drop `foreign` finished rows."""
    where = "its journal" if journal_only else out
    raise SweepDataError(
        f"{where} holds {len(foreign)} finished row(s) of another sweep ({describe_difference(foreign, current)}); "
        "nothing was changed: use the same settings to resume, another --out, or --overwrite to replace them")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
