"""Running the lab tests: Li||Cu (repeated, reservoir) and Li||Li, each half-cycle one
exact integration from the end of the previous one."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import pandas as pd

from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.test_cells.cell import _Stepper, electrolyte_mass_kg_m2
from twin.test_cells.protocols import (
    LiCuResult, LiCuTest, ReservoirResult, ReservoirTest, SymmetricResult, SymmetricTest, TestCellSolverError,
    mAh_cm2,
)
from twin.units import A_M2_PER_MA_CM2, C_PER_M2_PER_MAH_PER_CM2

# ---------------------------------------------------------------------------------------
# Running the tests


def _time_s(capacity_mAh_cm2: float, current_A_m2: float) -> float:
    return capacity_mAh_cm2 * C_PER_M2_PER_MAH_PER_CM2 / current_A_m2


def _test_parameters(current_density_mA_cm2: float, parameters: Mapping[str, float] | None) -> dict[str, float]:
    """The test's plating current density sets the deposit morphology (dead-Li law);
    a strategy's own "Plating current density" (3D hosts: local current) wins."""
    values = {P.plating_current_density: current_density_mA_cm2 * A_M2_PER_MA_CM2}
    values.update(parameters or {})
    return values


def run_li_cu(test: LiCuTest = LiCuTest(), parameters: Mapping[str, float] | None = None,
              options: Mapping[str, str] | None = None) -> LiCuResult:
    """Simulate the repeated Li||Cu CE test. `parameters` overrides any test-cell
    parameter by name (a strategy's changes)."""
    start = time.perf_counter()
    values = _test_parameters(test.current_density_mA_cm2, parameters)
    stepper = _Stepper("li-cu", values, options)
    j = test.current_density_mA_cm2 * A_M2_PER_MA_CM2
    t_plate = _time_s(test.capacity_mAh_cm2, j)
    rows = []
    plated_before = stripped_before = 0.0
    for cycle in range(1, test.cycles + 1):
        stepper.step(-j, t_plate, test.cutoff_V)
        plated_thickness_um = stepper.value("Anode thickness [m]") * 1e6
        # Stripping can return at most what is on Cu (plus revived dead Li): 3x is ample.
        termination = stepper.step(j, 3 * t_plate, test.cutoff_V)
        if "cut-off" not in termination:
            raise TestCellSolverError(f"cycle {cycle}: stripping did not reach the {test.cutoff_V} V cut-off")
        plated = stepper.value("Cumulative lithium plated [mol.m-2]")
        stripped = stepper.value("Cumulative lithium stripped [mol.m-2]")
        d_plated, d_stripped = plated - plated_before, stripped - stripped_before
        plated_before, stripped_before = plated, stripped
        rows.append({
            "cycle": cycle,
            "plated_mAh_cm2": mAh_cm2(d_plated),
            "stripped_mAh_cm2": mAh_cm2(d_stripped),
            "coulombic_efficiency": d_stripped / d_plated,
            "active_li_mAh_cm2": mAh_cm2(stepper.value("Active lithium metal [mol.m-2]")),
            "dead_li_mAh_cm2": mAh_cm2(stepper.value("Dead lithium [mol.m-2]")),
            "sei_li_mAh_cm2": mAh_cm2(stepper.value("Li-metal SEI lithium [mol.m-2]")),
            "surface_area_factor": stepper.value("Li-metal surface area factor"),
            # Li (deposit + dead Li + SEI) on Cu at the end of plating: the swelling a
            # plated capacity causes (dense Li: 4.85 um per mAh/cm2)
            "plated_thickness_um": plated_thickness_um,
            "time_h": stepper.time_s / 3600,
        })
    cycles = pd.DataFrame(rows)
    average = float(cycles["coulombic_efficiency"].iloc[test.discard_cycles:].mean())
    return LiCuResult(test, cycles, average, time.perf_counter() - start, dict(values))


def run_reservoir(test: ReservoirTest = ReservoirTest(), parameters: Mapping[str, float] | None = None,
                  options: Mapping[str, str] | None = None) -> ReservoirResult:
    """Simulate the Adams et al. (2018) reservoir Li||Cu protocol."""
    start = time.perf_counter()
    values = _test_parameters(test.current_density_mA_cm2, parameters)
    stepper = _Stepper("li-cu", values, options)
    j = test.current_density_mA_cm2 * A_M2_PER_MA_CM2
    q_t, q_c, n = test.reservoir_mAh_cm2, test.cycled_capacity_mAh_cm2, test.cycles
    formation_ce = None
    if test.formation_cycle:
        stepper.step(-j, _time_s(q_t, j), test.cutoff_V)
        stepper.step(j, 3 * _time_s(q_t, j), test.cutoff_V)
        formation_ce = (stepper.value("Cumulative lithium stripped [mol.m-2]")
                        / stepper.value("Cumulative lithium plated [mol.m-2]"))
    plated_0 = stepper.value("Cumulative lithium plated [mol.m-2]")
    stripped_0 = stepper.value("Cumulative lithium stripped [mol.m-2]")
    stepper.step(-j, _time_s(q_t, j), test.cutoff_V)
    exhausted = False
    for _ in range(n):
        if "cut-off" in stepper.step(j, _time_s(q_c, j), test.cutoff_V):
            exhausted = True  # the reservoir ran out: Adams' formula no longer applies
            break
        stepper.step(-j, _time_s(q_c, j), test.cutoff_V)
    before_final = stepper.value("Cumulative lithium stripped [mol.m-2]")
    if not exhausted:
        stepper.step(j, 3 * _time_s(q_t + q_c, j), test.cutoff_V)
    q_s = mAh_cm2(stepper.value("Cumulative lithium stripped [mol.m-2]") - before_final)
    plated = stepper.value("Cumulative lithium plated [mol.m-2]") - plated_0
    stripped = stepper.value("Cumulative lithium stripped [mol.m-2]") - stripped_0
    # Equal to (n Q_C + Q_S) / (n Q_C + Q_T) when every step completed.
    average = stripped / plated
    return ReservoirResult(test, q_s, float(average), formation_ce, exhausted,
                           time.perf_counter() - start, dict(values))


def run_symmetric(test: SymmetricTest = SymmetricTest(), parameters: Mapping[str, float] | None = None,
                  options: Mapping[str, str] | None = None) -> SymmetricResult:
    """Simulate a symmetric Li||Li cell (mirror assumption) until its overpotential
    passes the limit; the lifespan is the time [h] at which it does."""
    start = time.perf_counter()
    values = _test_parameters(test.current_density_mA_cm2, {
        P.initial_active_li: test.foil_thickness_um * 1e-6
        / lithium_metal_anode_parameter_values()[P.li_partial_molar_volume],
        P.initial_electrolyte_mass: electrolyte_mass_kg_m2(test.electrolyte_uL_cm2),
        **(parameters or {}),
    })
    stepper = _Stepper("li-li", values, options)
    j = test.current_density_mA_cm2 * A_M2_PER_MA_CM2
    t_half = _time_s(test.capacity_mAh_cm2, j)
    rows = []
    lifespan_h = None
    reason = "max_cycles"
    completed = 0
    for cycle in range(1, test.max_cycles + 1):
        overpotentials = []
        for current in (j, -j):  # the working electrode strips first, then plates
            termination = stepper.step(current, t_half, test.overpotential_limit_V)
            overpotentials.append(stepper.value("Test cell overpotential [V]"))
            if "Overpotential limit" in termination:
                lifespan_h = stepper.time_s / 3600
                break
        rows.append({
            "cycle": cycle,
            "overpotential_strip_mV": overpotentials[0] * 1000,
            "overpotential_plate_mV": overpotentials[1] * 1000 if len(overpotentials) > 1 else math.nan,
            "active_li_mAh_cm2": mAh_cm2(stepper.value("Active lithium metal [mol.m-2]")),
            "dead_li_mAh_cm2": mAh_cm2(stepper.value("Dead lithium [mol.m-2]")),
            "sei_li_mAh_cm2": mAh_cm2(stepper.value("Li-metal SEI lithium [mol.m-2]")),
            "porous_layer_resistance_ohm_cm2": stepper.value("Lithium metal porous layer resistance [Ohm.m2]") * 1e4,
            "wetting_fraction": stepper.value("Electrolyte wetting fraction"),
            "time_h": stepper.time_s / 3600,
        })
        if lifespan_h is not None:
            reason = _symmetric_failure(rows[-1])
            break
        completed = cycle
    return SymmetricResult(test, lifespan_h, completed, reason, pd.DataFrame(rows),
                           time.perf_counter() - start, dict(values))


def _symmetric_failure(row: Mapping[str, float]) -> str:
    """Why the overpotential passed the limit, judged from the electrode state."""
    if row["wetting_fraction"] < 0.95:
        return "electrolyte_dry_out"
    if row["active_li_mAh_cm2"] < 0.02:
        return "lithium_depleted"
    return "porous_layer_resistance"
