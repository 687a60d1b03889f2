"""Physical invariants every simulated cycle must satisfy.

A summary row that breaks one (a negative electrolyte mass, a Li CE above 1 by more than
revived dead Li explains, lithium
created or destroyed) is not a result: it is a solver or input failure, reported as
a `SimulationError` naming the cycle and the quantity, never written as a row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from twin.cycle_table import records_of
from twin.errors import SimulationError

if TYPE_CHECKING:
    from twin.end_of_life import Cycles

# Amounts [mAh/cm2, g/Ah, um] that can never be negative or infinite.
NON_NEGATIVE_COLUMNS = (
    "charge_capacity_mAh_cm2", "discharge_capacity_mAh_cm2", "active_li_mAh_cm2", "dead_li_mAh_cm2",
    "sei_li_mAh_cm2", "cathode_li_mAh_cm2", "total_li_mAh_cm2", "anode_thickness_um", "electrolyte_g_per_Ah",
)
# Solver overshoot allowed below zero, relative to the cell's total Li (amounts) or to
# the quantity's cycle-1 value (electrolyte, thickness): a dry-out event lands a little
# past zero (-0.03 % of the electrolyte seen), a broken input far past it (-120 %).
NEGATIVE_TOLERANCE = 1e-3
# The Li CE of the anode, 1 - (dead + SEI Li formed) / Li plated, is a fraction, except
# that dead Li revived in a cycle (a reviving host or electrolyte) counts against what the
# cycle formed: it may exceed 1, by at most the dead Li there was at the cycle's start.
CE_TOLERANCE = 1e-6
# Total Li (active + dead + SEI + cathode) may drift this much relative to cycle 1:
# the fast mode interpolates skipped cycles linearly, which conserves it exactly too.
LI_CONSERVATION_TOLERANCE = 1e-3


def check_cycles(summary: Cycles, context: str = "") -> Cycles:
    """Return `summary` (twin.simulation.SUMMARY_COLUMNS; a DataFrame or a
    `twin.cycle_table.CycleTable`) unchanged if every cycle is
    physical; raise SimulationError naming the first cycle and quantity that is not.

    Checked per cycle: amounts [mAh/cm2], anode thickness [um] and electrolyte [g/Ah]
    finite and non-negative; the anode's Li Coulombic efficiency within [0, 1], or above 1
    by no more than the dead Li at the cycle's start could give back when revived (NaN
    only when nothing was plated); total Li within 0.1 % of cycle 1's.
    """
    if summary is None or len(summary) == 0:
        return summary
    where = f" ({context})" if context else ""
    rows = records_of(summary)  # read once (a CycleTable's records are built, not viewed)
    first = rows[0]
    total_first = float(first["total_li_mAh_cm2"]) if "total_li_mAh_cm2" in summary else math.nan
    scale = abs(total_first) if math.isfinite(total_first) and total_first != 0 else 1.0
    # per-column scale of the solver's overshoot below zero (e.g. electrolyte at dry-out)
    first_abs = {name: max(abs(float(first[name])), 1e-12) if math.isfinite(float(first[name]))
                 else 1.0 for name in NON_NEGATIVE_COLUMNS if name in summary}
    dead_at_start_mAh_cm2 = 0.0  # before cycle 1 (a table starting later: no revival allowed)
    for values in rows:
        cycle = int(values["cycle"])
        for name in _present(NON_NEGATIVE_COLUMNS, values):
            value = float(values[name])
            if not math.isfinite(value):
                raise SimulationError(f"cycle {cycle}: {name} is {value}, not a finite number{where}")
            floor = -NEGATIVE_TOLERANCE * (scale if name.endswith("mAh_cm2") else first_abs[name])
            if value < floor:
                raise SimulationError(f"cycle {cycle}: {name} = {value:.6g} is negative, which is not physical"
                                      f"{where}")
        if "li_coulombic_efficiency" in values:
            ce = float(values["li_coulombic_efficiency"])
            plated = float(values.get("charge_capacity_mAh_cm2", math.nan))
            revivable = dead_at_start_mAh_cm2 / plated if plated > 0 else 0.0
            upper = 1 + max(revivable, 0.0)
            if math.isnan(ce) and not plated > 0:
                pass  # nothing plated: no efficiency to speak of
            elif not -CE_TOLERANCE <= ce <= upper + CE_TOLERANCE:
                raise SimulationError(f"cycle {cycle}: anode Li Coulombic efficiency {ce:.6g} lies outside "
                                      f"[0, {upper:.6g}]{where}")
        if "dead_li_mAh_cm2" in values and math.isfinite(float(values["dead_li_mAh_cm2"])):
            dead_at_start_mAh_cm2 = float(values["dead_li_mAh_cm2"])
        if "total_li_mAh_cm2" in values and math.isfinite(total_first):
            total = float(values["total_li_mAh_cm2"])
            if abs(total - total_first) > LI_CONSERVATION_TOLERANCE * scale:
                raise SimulationError(f"cycle {cycle}: total Li {total:.6g} mAh/cm2 differs from cycle 1's "
                                      f"{total_first:.6g} mAh/cm2: lithium is not conserved{where}")
    return summary


def _present(names: Iterable[str], values: dict) -> list[str]:
    return [name for name in names if name in values]
