"""Running the lab tests: Li||Cu (repeated, reservoir) and Li||Li, each half-cycle one
exact integration from the end of the previous one."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from dataclasses import dataclass

import pandas as pd

from twin.dendrite import (
    anion_transference_number, limiting_current_density_A_m2, sands_time_s, separator_short_threshold,
)

from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.test_cells.cell import _Stepper, coin_cell_parameter_values, electrolyte_mass_kg_m2
from twin.test_cells.protocols import (
    LiCuResult, LiCuTest, ReservoirResult, ReservoirTest, SymmetricResult, SymmetricTest, TestCellError,
    TestCellSolverError, mAh_cm2,
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
                  options: Mapping[str, str] | None = None, separator_coating_factor: float = 1.0) -> SymmetricResult:
    """Simulate a symmetric Li||Li cell (mirror assumption) until its overpotential
    passes the limit or it shorts; the lifespan is the time [h] at which it does.

    The overpotential rises as the porous dead-Li/SEI layers grow (their tortuous salt
    transport, `PorousLayerTransport`, and resistance), as salt is lost and the
    electrolyte dries, and as the foils run out of Li. The cell shorts when its dead-Li
    layer reaches the layer of `twin.dendrite.separator_short_threshold` (the full
    cells' rule) for the separator, the current density against the limiting current
    (which falls with the salt concentration) and `separator_coating_factor` (a coated
    separator strategy's dendrite threshold factor, which raises the limiting current
    and scales the layer); checked at the end of every half-cycle, or at Sand's time
    when the current density is above the (coated) limiting current (a hard short)."""
    start = time.perf_counter()
    if isinstance(separator_coating_factor, bool) or not isinstance(separator_coating_factor, (int, float)) \
            or not 0 < separator_coating_factor < math.inf:
        raise TestCellError("separator_coating_factor",
                            f"must be a positive finite number, got {separator_coating_factor!r}")
    values = _test_parameters(test.current_density_mA_cm2, {
        P.initial_active_li: test.foil_thickness_um * 1e-6
        / lithium_metal_anode_parameter_values()[P.li_partial_molar_volume],
        P.initial_electrolyte_mass: electrolyte_mass_kg_m2(test.electrolyte_uL_cm2),
        **(parameters or {}),
    })
    stepper = _Stepper("li-li", values, options)
    j = test.current_density_mA_cm2 * A_M2_PER_MA_CM2
    t_half = _time_s(test.capacity_mAh_cm2, j)
    fresh = _fresh_electrolyte_transport(stepper.inputs)
    rows = []
    lifespan_h = None
    reason = "max_cycles"
    completed = 0
    for cycle in range(1, test.max_cycles + 1):
        overpotentials = []
        shorted = False
        for current in (j, -j):  # the working electrode strips first, then plates
            start_h = stepper.time_s / 3600
            termination = stepper.step(current, t_half, test.overpotential_limit_V)
            overpotentials.append(stepper.value("Test cell overpotential [V]"))
            # J* falls with the salt concentration (J* ~ c0 D / t_a); the full cells' rule
            threshold = separator_short_threshold(
                stepper.inputs["Separator thickness [m]"], stepper.inputs["Separator porosity"], j,
                fresh.limiting_current_A_m2 * stepper.value("Relative electrolyte salt concentration"),
                separator_coating_factor)
            critical_m = threshold.layer_thickness_m
            if threshold.hard:  # dendrites from Sand's time on (raised f^2 as J* is by f: DendriteRisk)
                sand_s = fresh.sand_time_s(j) * separator_coating_factor**2
                shorted, lifespan_h = True, start_h + min(sand_s, t_half) / 3600
                break
            if stepper.value("Dead lithium layer thickness [m]") >= critical_m:
                shorted, lifespan_h = True, stepper.time_s / 3600
                break
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
            "dead_li_layer_um": stepper.value("Dead lithium layer thickness [m]") * 1e6,
            "short_layer_um": critical_m * 1e6,
            "layer_concentration_drop": stepper.value("Porous layer salt concentration drop ratio"),
            "relative_salt_concentration": stepper.value("Relative electrolyte salt concentration"),
            "wetting_fraction": stepper.value("Electrolyte wetting fraction"),
            # what is left of the cell's electrolyte (both electrodes have consumed it)
            "electrolyte_uL_cm2": stepper.value("Electrolyte mass [kg.m-2]")
            / stepper.inputs[P.electrolyte_density] * 1e5,
            "time_h": stepper.time_s / 3600,
        })
        if lifespan_h is not None:
            reason = "short" if shorted else _symmetric_failure(rows[-1])
            break
        completed = cycle
    return SymmetricResult(test, lifespan_h, completed, reason, pd.DataFrame(rows),
                           time.perf_counter() - start, dict(values))


@dataclass(frozen=True)
class _FreshTransport:
    """The coin cell's fresh electrolyte in Chazalviel's terms: J* and Sand's time."""

    concentration_mol_m3: float
    diffusivity_m2_s: float
    anion_transference: float
    limiting_current_A_m2: float

    def sand_time_s(self, current_A_m2: float) -> float:
        return sands_time_s(self.concentration_mol_m3, self.diffusivity_m2_s, self.anion_transference, current_A_m2)


def _fresh_electrolyte_transport(inputs: Mapping[str, float]) -> _FreshTransport:
    """J* [A/m2] of the coin cell's fresh electrolyte across its separator (the twin's
    dendrite criterion, `twin.dendrite`) at the cell temperature."""
    import pybamm

    base = coin_cell_parameter_values()
    c0 = inputs["Initial concentration in electrolyte [mol.m-3]"]
    c, T = pybamm.Scalar(c0), pybamm.Scalar(inputs["Ambient temperature [K]"])

    def law(name: str) -> float:  # a number, or a function of (c_e, T)
        value = base[name]
        return float(value(c, T).evaluate()) if callable(value) else float(value)

    D = law("Electrolyte diffusivity [m2.s-1]")
    t_a = anion_transference_number(law("Cation transference number"))
    j_star = limiting_current_density_A_m2(c0, D, t_a, inputs["Separator thickness [m]"])
    return _FreshTransport(c0, D, t_a, j_star)


# End reasons of a Li||Li cell whose overpotential passed the limit (or that shorted).
SYMMETRIC_END_REASONS = ("electrolyte_dry_out", "lithium_depleted", "salt_depletion", "porous_layer_transport",
                         "porous_layer_resistance", "short", "max_cycles")
# The layers' salt concentration drop (fraction of the bulk) past which their transport,
# not their resistance, set the overpotential; a salt concentration below this fraction
# of the fresh one is salt depletion.
TRANSPORT_LIMITED_DROP = 0.5
SALT_DEPLETED_FRACTION = 0.5
# The drop at the layers' limiting current: the depleted side reaches zero when the drop
# is twice the bulk concentration's half (`PorousLayerTransport`), and its overpotential
# diverges (the 0.5 % margin: the event fires on the way there).
LIMITING_CURRENT_DROP = 1.99


def _symmetric_failure(row: Mapping[str, float]) -> str:
    """Why the overpotential passed the limit, judged from the electrode state. At the
    porous layers' limiting current their transport is what diverged, whatever else
    (a partly dried cell, a concentrated electrolyte) brought it nearer."""
    if row["layer_concentration_drop"] >= LIMITING_CURRENT_DROP:
        return "porous_layer_transport"
    if row["wetting_fraction"] < 0.95:
        return "electrolyte_dry_out"
    if row["active_li_mAh_cm2"] < 0.02:
        return "lithium_depleted"
    if row["relative_salt_concentration"] < SALT_DEPLETED_FRACTION:
        return "salt_depletion"
    if row["layer_concentration_drop"] > TRANSPORT_LIMITED_DROP:
        return "porous_layer_transport"
    return "porous_layer_resistance"
