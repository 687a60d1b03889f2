"""When and why a cell's life ends: one rule for full and cycle-skipping runs.

No PyBaMM, so the rules are unit-tested on hand-made cycle tables. The cycles are a
pandas DataFrame (full mode) or a `twin.cycle_table.CycleTable` (fast mode, which runs
without pandas); a verdict holds the same kind as the run's outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from twin.cycle_table import CycleTable, column_of

if TYPE_CHECKING:
    import pandas as pd

    # Per-cycle rows: a DataFrame, or a CycleTable in a process without pandas.
    Cycles = Union[pd.DataFrame, CycleTable]

END_OF_LIFE_REASONS = ("capacity_fade", "lithium_depleted", "electrolyte_dry_out", "max_cycles",
                       "dendrite_risk", "short")
# A discharge that ends with less active Li than this fraction of the cathode
# capacity was limited by the anode: the Li inventory ran out.
LI_DEPLETED_FRACTION = 0.02
# Below this wetting fraction at end of life, the cell died of dry-out (below the
# severe one even if its Li ran out too).
DRY_OUT_WETTING = 0.95
SEVERE_DRY_OUT_WETTING = 0.5


def _up_to_cycle(cycles: Cycles, cycle: int) -> Cycles:
    """The rows whose cycle is at most `cycle` (a DataFrame re-indexed from 0)."""
    if isinstance(cycles, CycleTable):
        return cycles.up_to_cycle(cycle)
    return cycles[cycles["cycle"] <= cycle].reset_index(drop=True)


def _last_row(cycles: Cycles) -> Any:
    """The last row: a dict (CycleTable) or a Series (DataFrame)."""
    return cycles.last() if isinstance(cycles, CycleTable) else cycles.iloc[-1]


def first_cycle_below(summary: Cycles, eol_fraction: float) -> int | None:
    """First cycle whose discharge capacity is below eol x the first cycle's.
    Check-up cycles (slow, so higher capacity) take no part in the test."""
    q = column_of(summary, "discharge_capacity_mAh_cm2")
    cycle = column_of(summary, "cycle")
    if "checkup" in summary.columns:
        regular = ~column_of(summary, "checkup").astype(bool)
        q, cycle = q[regular], cycle[regular]
    if len(q) == 0:
        return None
    below = np.nonzero(q < eol_fraction * q[0])[0]
    return int(cycle[below[0]]) if len(below) else None


def end_of_life_reason(row: Any, cathode_capacity_mAh_cm2: float) -> str:
    """Why a cell reached end of life, judged from its state in the end-of-life cycle.

    An anode-limited discharge (no active Li left) is Li depletion unless the cell had
    also lost much of its electrolyte; otherwise a wetting deficit is dry-out, and a
    cathode-limited fade with electrolyte left is capacity fade (resistance growth).
    """
    depleted = row["active_li_mAh_cm2"] < LI_DEPLETED_FRACTION * cathode_capacity_mAh_cm2
    wetting = row["wetting_fraction"]
    if wetting < SEVERE_DRY_OUT_WETTING or (wetting < DRY_OUT_WETTING and not depleted):
        return "electrolyte_dry_out"
    return "lithium_depleted" if depleted else "capacity_fade"


@dataclass
class LifeOutcome:
    """What a run (full or cycle-skipping) produced, before end of life is judged.

    ``cycles``: one row per cycle (`twin.cycle_rows.SUMMARY_COLUMNS`);
    ``below_cycle``: the first regular cycle below the end-of-life capacity (None: none);
    ``failed_cycle``: the first cycle the cell could not complete (None: all did);
    ``notes``: what the run has to say; ``simulated_cycles``: full-model cycle solves
    (cycle-skipping runs only).
    """

    cycles: Cycles
    below_cycle: int | None
    failed_cycle: int | None = None
    notes: list[str] = field(default_factory=list)
    time_series: pd.DataFrame | None = None
    simulated_cycles: int | None = None


@dataclass(frozen=True)
class EndOfLife:
    """The verdict: cycle life (None: alive at the last cycle), why, and the cycles up
    to it."""

    cycle_life: int | None
    reason: str
    cycles: Cycles
    notes: list[str]


def first_cycle_shorted(cycles: Cycles, short_dead_li_mAh_cm2: float | None) -> int | None:
    """First cycle whose dead Li reached the amount at which the cell shorts
    (`twin.dendrite.short_dead_li_limit_mAh_cm2`); None: none did, or no limit."""
    if short_dead_li_mAh_cm2 is None or len(cycles) == 0:
        return None
    reached = np.nonzero(column_of(cycles, "dead_li_mAh_cm2") >= short_dead_li_mAh_cm2)[0]
    return int(column_of(cycles, "cycle")[reached[0]]) if len(reached) else None


def judge_end_of_life(outcome: LifeOutcome, cathode_capacity_mAh_cm2: float,
                      dendrite_stop: str | None = None, extra_notes: Sequence[str] = (),
                      short_dead_li_mAh_cm2: float | None = None) -> EndOfLife:
    """End of life of a run, the same rule for every kind of run.

    * ``dendrite_stop`` (the dendrite-risk reason, when the run was stopped for it): life
      ends at cycle 1, "dendrite_risk";
    * a cycle below the end-of-life capacity: life ends there (later cycles dropped), the
      reason read from the cell's state in that cycle;
    * a cycle the cell could not complete: life ends at that cycle (it delivered ~0), the
      reason read from the last completed cycle;
    * a cycle whose dead Li reached ``short_dead_li_mAh_cm2`` (the porous dead-Li layer
      bridged the separator, `twin.dendrite`) before either of those: life ends there,
      "short";
    * otherwise the cell is alive at the last cycle: "max_cycles".

    ``extra_notes`` (a strategy's) follow the run's and the dendrite note.
    """
    cycles = outcome.cycles
    notes = list(outcome.notes)
    if dendrite_stop is not None:
        life, reason = 1, "dendrite_risk"
        cycles = cycles.head(1)  # a DataFrame's head and a CycleTable's alike
        notes.append(f"dendrite risk: {dendrite_stop}")
    elif outcome.below_cycle is not None:
        life = outcome.below_cycle
        cycles = _up_to_cycle(cycles, life)
        reason = end_of_life_reason(_last_row(cycles), cathode_capacity_mAh_cm2)
    elif outcome.failed_cycle is not None:
        life = outcome.failed_cycle
        reason = end_of_life_reason(_last_row(cycles), cathode_capacity_mAh_cm2)
    else:
        life, reason = None, "max_cycles"
    shorted = None if dendrite_stop is not None else first_cycle_shorted(cycles, short_dead_li_mAh_cm2)
    if shorted is not None and (life is None or shorted < life):
        life, reason = shorted, "short"
        cycles = _up_to_cycle(cycles, life)
        notes.append(f"short: the dead-Li layer reached {short_dead_li_mAh_cm2:.3g} mAh/cm2 of dead Li, "
                     f"enough to bridge the separator")
    notes.extend(extra_notes)
    return EndOfLife(life, reason, cycles, notes)
