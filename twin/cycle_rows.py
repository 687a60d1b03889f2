"""The per-cycle row of a prediction, computed in one place for full and fast runs.

A run reports, for every cycle, what a lab would measure (capacities, Coulombic
efficiencies) and what only the twin sees (the Li inventory by kind, thickness,
electrolyte left). Both the full run (`twin.cycling.CellSimulator`, from PyBaMM's
per-cycle summary variables) and the cycle-skipping run (`twin.fast`, from the end
state of one representative cycle) hand the same end-of-cycle quantities to
`cycle_rows`; it works on scalars and on arrays (one entry per cycle) alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin.units import AH_M2_PER_MAH_CM2, MAH_CM2_PER_MOL_M2

SUMMARY_COLUMNS = [
    "cycle", "charge_capacity_mAh_cm2", "discharge_capacity_mAh_cm2", "coulombic_efficiency",
    "li_coulombic_efficiency", "active_li_mAh_cm2", "dead_li_mAh_cm2", "sei_li_mAh_cm2",
    "cathode_li_mAh_cm2", "total_li_mAh_cm2", "anode_thickness_um", "swelling_pct",
    "electrolyte_g_per_Ah", "wetting_fraction", "surface_area_factor", "simulated", "checkup",
]


def cycle_rows(
    *,
    areal_capacity_mAh_cm2: float,
    plated_mol_m2: Any,
    stripped_mol_m2: Any,
    lost_mol_m2: Any,
    active_li_mol_m2: Any,
    dead_li_mol_m2: Any,
    sei_li_mol_m2: Any,
    cathode_li_mol_m2: Any,
    total_li_mol_m2: Any,
    anode_thickness_m: Any,
    swelling_pct: Any,
    electrolyte_kg_m2: Any,
    wetting_fraction: Any,
    surface_area_factor: Any,
) -> dict[str, Any]:
    """The per-cycle columns (`SUMMARY_COLUMNS` but cycle, simulated and checkup) of
    one cycle (scalars) or of several (arrays of the same length).

    Parameters
    ----------
    areal_capacity_mAh_cm2
        The design's cathode areal capacity [mAh/cm2] (electrolyte per Ah refers to it).
    plated_mol_m2, stripped_mol_m2
        Li plated on charge and stripped on discharge during the cycle [mol/m2].
    lost_mol_m2
        Li that became dead Li or SEI during the cycle [mol/m2].
    active_li_mol_m2, dead_li_mol_m2, sei_li_mol_m2, cathode_li_mol_m2, total_li_mol_m2
        Li inventory at the end of the cycle [mol/m2].
    anode_thickness_m
        Anode thickness at the end of the cycle [m].
    swelling_pct
        Stack swelling against the cell's start [%].
    electrolyte_kg_m2, wetting_fraction, surface_area_factor
        Electrolyte mass [kg/m2], wetted fraction [-] and Li surface-area factor [-] at
        the end of the cycle.

    Returns
    -------
    dict
        Column name -> value (float, or array when the inputs are arrays). A cycle
        that plated nothing has NaN Coulombic efficiencies.
    """
    plated = np.asarray(plated_mol_m2, dtype=float)
    stripped = np.asarray(stripped_mol_m2, dtype=float)
    lost = np.asarray(lost_mol_m2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cell_ce = np.where(plated > 0, stripped / plated, np.nan)
        li_ce = np.where(plated > 0, 1 - lost / plated, np.nan)
    q_Ah_m2 = areal_capacity_mAh_cm2 * AH_M2_PER_MAH_CM2

    def out(value: Any) -> Any:
        value = np.asarray(value, dtype=float)
        return float(value) if value.ndim == 0 else value

    return {
        "charge_capacity_mAh_cm2": out(plated * MAH_CM2_PER_MOL_M2),
        "discharge_capacity_mAh_cm2": out(stripped * MAH_CM2_PER_MOL_M2),
        "coulombic_efficiency": out(cell_ce),
        "li_coulombic_efficiency": out(li_ce),
        "active_li_mAh_cm2": out(np.asarray(active_li_mol_m2, dtype=float) * MAH_CM2_PER_MOL_M2),
        "dead_li_mAh_cm2": out(np.asarray(dead_li_mol_m2, dtype=float) * MAH_CM2_PER_MOL_M2),
        "sei_li_mAh_cm2": out(np.asarray(sei_li_mol_m2, dtype=float) * MAH_CM2_PER_MOL_M2),
        "cathode_li_mAh_cm2": out(np.asarray(cathode_li_mol_m2, dtype=float) * MAH_CM2_PER_MOL_M2),
        "total_li_mAh_cm2": out(np.asarray(total_li_mol_m2, dtype=float) * MAH_CM2_PER_MOL_M2),
        "anode_thickness_um": out(np.asarray(anode_thickness_m, dtype=float) * 1e6),
        "swelling_pct": out(swelling_pct),
        "electrolyte_g_per_Ah": out(np.asarray(electrolyte_kg_m2, dtype=float) * 1000.0 / q_Ah_m2),
        "wetting_fraction": out(wetting_fraction),
        "surface_area_factor": out(surface_area_factor),
    }
