"""Li||Cu and Li||Li test cells: the twin's Li-metal submodels in the cells papers report.

Papers report a protection strategy as a Li||Cu Coulombic efficiency or a symmetric
Li||Li lifetime. These are configurations of the twin: the same Li-metal submodels
(`LithiumInventory`, `LithiumMetalSEI`, `DeadLithium`, `SurfaceRoughening`,
`ElectrolyteConsumption`, `LithiumMetalUtilisation`, `AnodeThickness`) around one
Li-metal working electrode, with a different cell around it (`TestCellVoltage`):

* **Li||Cu**: the Cu working electrode holds the finite Li inventory (none at the
  start); the thick Li counter electrode is an unlimited source of fresh Li. The
  current density is an input: plate a fixed areal capacity (time-controlled), then
  strip until the cell voltage reaches a cut-off (+0.5 V by default): the Li
  availability on Cu collapses and the inverse Butler-Volmer overpotential with that
  utilisation diverges. Two protocols:
  - the repeated test (plate Q, strip to the cut-off, repeat; the CE reported is the
    mean of the per-cycle CEs after the first few cycles, as labs report);
  - the reservoir protocol of Adams, Zheng, Cao, Xu, Zhang, Adv. Energy Mater. 8,
    1702097 (2018): a formation cycle (plate Q_T, strip to the cut-off), plate a
    reservoir Q_T, cycle Q_C = Q_T / 5 n times, strip everything to the cut-off (Q_S);
    CE_avg = (n Q_C + Q_S) / (n Q_C + Q_T).
* **Li||Li** (symmetric): a Li foil of finite thickness cycled at a current density
  and areal capacity until the cell overpotential passes a limit (lifespan in hours).
  **Mirror assumption**: both electrodes have the same state at all times (one is
  stripped while the other is plated by the same charge, so after every full cycle
  both have plated and stripped the same amount); the one simulated electrode carries
  the submodels, and the counter electrode's overpotential is that electrode's own
  kinetics and porous-layer resistance at the opposite current. The state lag of half
  a cycle between the two electrodes is neglected. The overpotential grows as dead Li
  and SEI build the porous layer, as the electrolyte is consumed (wetting falls) and,
  finally, as the foil's active Li runs out. Soft shorts are not modelled.

Every test is an exact ODE integration: each half-cycle is one IDAKLU step from the end
state of the previous one (time-controlled or ended by a voltage event); the
discretised model is built once per cell kind and all parameters are inputs, so a
20-cycle Li||Cu test takes about 0.1 s.

The coin cell around the electrodes: a 25 um, 39 % porous polyolefin separator
(Celgard 2400-like), flooded with 20 uL/cm2 of electrolyte whose transport properties
are those of the twin's baseline LiPF6 EC:EMC (Chen2020/Nyman2008) electrolyte; Li
metal kinetics from Xu et al., J. Electrochem. Soc. 166, A3456 (2019).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pybamm
from pybamm.input.parameters.lithium_ion import Chen2020

from twin.errors import TwinError
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.submodels import (
    AnodeThickness,
    DeadLithium,
    DepositMorphology,
    ElectrolyteConsumption,
    LithiumInventory,
    LithiumMetalOptions,
    LithiumMetalSEI,
    LithiumMetalUtilisation,
    PorousFoil,
    SEIFormation,
    SurfaceRoughening,
)
from twin.units import C_PER_M2_PER_MAH_PER_CM2, FARADAY_C_PER_MOL, dense_li_thickness_m

TEST_CELLS: tuple[str, ...] = ("li-cu", "li-li")
CURRENT_INPUT = "Working electrode current density [A.m-2]"
VOLTAGE_LIMIT_INPUT = "Test cell voltage limit [V]"
# Parameters held fixed in the discretised model (variable scales); all others are inputs.
FIXED_PARAMETERS = ("Reference lithium amount [mol.m-2]",)
# Coin-cell defaults (see the module docstring).
SEPARATOR_THICKNESS_M = 25e-6
SEPARATOR_POROSITY = 0.39
FLOODED_ELECTROLYTE_UL_CM2 = 20.0
ELECTROLYTE_DENSITY_KG_M3 = 1200.0
# 1 mA/cm2 = 10 A/m2
A_M2_PER_MA_CM2 = 10.0


class TestCellError(TwinError, ValueError):
    """An invalid test-cell protocol or parameter; the message names the field."""

    __test__ = False  # not a pytest test class

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"invalid test cell: {field_name}: {message}")


def mol_m2(capacity_mAh_cm2: float) -> float:
    """Li amount [mol/m2] carrying an areal capacity [mAh/cm2]."""
    return capacity_mAh_cm2 * C_PER_M2_PER_MAH_PER_CM2 / FARADAY_C_PER_MOL


def mAh_cm2(amount_mol_m2: float) -> float:
    """Areal capacity [mAh/cm2] carried by a Li amount [mol/m2]."""
    return amount_mol_m2 * FARADAY_C_PER_MOL / C_PER_M2_PER_MAH_PER_CM2


# ---------------------------------------------------------------------------------------
# The cell around the working electrode


class TestCellVoltage(pybamm.BaseSubModel):
    """Electrode potentials, cell voltage and the voltage-limit event of a test cell.

    Electrode potential vs its own equilibrium at current density j (> 0 strips Li):
    E(j) = 2RT/F asinh(j / (2 j0 u)) + j R_layer, the inverse Butler-Volmer of
    `LithiumMetalKinetics` with the Li utilisation u (availability x wetting on
    stripping, wetting on plating) plus the porous dead-Li/SEI layer resistance.
    Cell voltage = E_working(j) - E_counter(-j) + j R_separator.

    "li-cu": the counter is fresh, unlimited Li (u = 1, no porous layer); the event
    ends a strip when the voltage rises to the cut-off.
    "li-li": mirror assumption, the counter has the working electrode's state; the
    event ends the test when |voltage| passes the overpotential limit.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, param, cell: str, options=None):
        super().__init__(param, "negative", options=options)
        self.cell = cell

    def _potential(self, j, utilisation, resistance, T):
        param = self.param
        j0 = param.j0_Li_metal(param.c_e_init, 1 / param.V_bar_Li, T)
        return 2 * param.R * T / param.F * pybamm.arcsinh(j / (2 * j0 * utilisation)) + j * resistance

    def get_coupled_variables(self, variables):
        j = variables["Current collector current density [A.m-2]"]
        T = variables["X-averaged cell temperature [K]"]
        u = variables["Lithium metal interface utilisation"]
        r_layer = variables["Lithium metal porous layer resistance [Ohm.m2]"]
        e_working = self._potential(j, u, r_layer, T)
        if self.cell == "li-cu":
            e_counter = self._potential(-j, pybamm.Scalar(1), pybamm.Scalar(0), T)
        else:
            # The counter plates while the working electrode strips, and vice versa.
            wetting = variables["Electrolyte wetting fraction"]
            availability = variables["Lithium metal availability"]
            counter_plating = pybamm.sigmoid(0, j, 20)
            u_counter = pybamm.maximum(
                wetting * (counter_plating + (1 - counter_plating) * availability), 1e-12
            )
            e_counter = self._potential(-j, u_counter, r_layer, T)
        kappa = self.param.kappa_e(self.param.c_e_init, T)
        eps_sep = pybamm.Parameter("Separator porosity")
        b_sep = pybamm.Parameter("Separator Bruggeman coefficient (electrolyte)")
        r_sep = pybamm.Parameter("Separator thickness [m]") / (kappa * eps_sep**b_sep)
        voltage = e_working - e_counter + j * r_sep
        variables.update({
            "Working electrode potential [V]": e_working,
            "Counter electrode potential [V]": e_counter,
            "Separator resistance [Ohm.m2]": r_sep,
            "Test cell voltage [V]": voltage,
            "Test cell overpotential [V]": pybamm.AbsoluteValue(voltage),
        })
        return variables

    def add_events_from(self, variables):
        limit = pybamm.InputParameter(VOLTAGE_LIMIT_INPUT)
        if self.cell == "li-cu":
            # "[experiment]" lets the solver step on after the event (PyBaMM's own
            # convention for protocol cut-offs): the next plating follows the strip.
            expression = limit - variables["Test cell voltage [V]"]
            name = "Stripping cut-off [experiment]"
        else:
            expression = limit - variables["Test cell overpotential [V]"]
            name = "Overpotential limit"
        self.events.append(pybamm.Event(name, pybamm.min(expression)))


@dataclass
class _CompiledCell:
    """A test-cell model discretised once, with its solver and input names."""

    model: pybamm.BaseModel
    solver: pybamm.BaseSolver
    input_names: tuple[str, ...]


def _submodels(param, cell: str, options: LithiumMetalOptions) -> list[pybamm.BaseSubModel]:
    pb_options = pybamm.BatteryModelOptions({"working electrode": "positive"})
    # Order matters for coupled variables: each needs only what comes before it.
    return [
        LithiumInventory(param, pb_options),
        PorousFoil(param, options),
        ElectrolyteConsumption(param, options),
        SurfaceRoughening(param, options),
        DepositMorphology(param, options),
        SEIFormation(param, options),
        LithiumMetalSEI(param, options),
        DeadLithium(param, options),
        LithiumMetalUtilisation(param, pb_options),
        AnodeThickness(param, pb_options),
        TestCellVoltage(param, cell, pb_options),
    ]


def build_test_cell_model(cell: str, options: Mapping[str, str] | None = None) -> pybamm.BaseModel:
    """The (undiscretised) PyBaMM model of test cell `cell` ("li-cu" or "li-li"):
    the twin's Li-metal submodels on one working electrode, driven by the input
    current density "Working electrode current density [A.m-2]" (> 0 strips Li)."""
    if cell not in TEST_CELLS:
        raise TestCellError("cell", f"unknown test cell {cell!r} (known: {', '.join(TEST_CELLS)})")
    li_options = LithiumMetalOptions(options)
    param = pybamm.LithiumIonParameters(pybamm.BatteryModelOptions({"working electrode": "positive"}))
    model = pybamm.BaseModel(f"Li-metal twin {cell} test cell")
    variables: dict[str, pybamm.Symbol] = {
        "Current collector current density [A.m-2]": pybamm.PrimaryBroadcast(
            pybamm.InputParameter(CURRENT_INPUT), "current collector"
        ),
        "X-averaged cell temperature [K]": pybamm.Parameter("Ambient temperature [K]"),
        "Time [s]": pybamm.t,
        "Time [h]": pybamm.t / 3600,
    }
    submodels = _submodels(param, cell, li_options)
    for submodel in submodels:
        variables.update(submodel.get_fundamental_variables())
    for submodel in submodels:
        variables.update(submodel.get_coupled_variables(variables))
    for submodel in submodels:
        submodel.set_rhs(variables)
        submodel.set_algebraic(variables)
        submodel.set_initial_conditions(variables)
        submodel.add_events_from(variables)
        model.rhs.update(submodel.rhs)
        model.algebraic.update(submodel.algebraic)
        model.initial_conditions.update(submodel.initial_conditions)
        model.events.extend(submodel.events)
    model.variables = variables
    return model


def coin_cell_parameter_values() -> dict[str, Any]:
    """Parameter values of the coin test cells: the twin's Li-metal anode parameters,
    the baseline electrolyte's transport properties and the coin-cell separator."""
    values = lithium_metal_anode_parameter_values()
    electrolyte = Chen2020.get_parameter_values()
    for name in ("Initial concentration in electrolyte [mol.m-3]", "Electrolyte conductivity [S.m-1]",
                 "Separator Bruggeman coefficient (electrolyte)"):
        values[name] = electrolyte[name]
    pore_volume_m3_m2 = SEPARATOR_THICKNESS_M * SEPARATOR_POROSITY
    values.update({
        "Ambient temperature [K]": 298.15,
        "Separator thickness [m]": SEPARATOR_THICKNESS_M,
        "Separator porosity": SEPARATOR_POROSITY,
        "Initial plated lithium deposit [mol.m-2]": 0.0,
        "Initial active lithium metal [mol.m-2]": 0.0,
        "Reference lithium amount [mol.m-2]": mol_m2(1.0),
        "Wetted pore volume excluding anode [m3.m-2]": pore_volume_m3_m2,
        "Stack thickness excluding anode [m]": SEPARATOR_THICKNESS_M + 2 * 8e-6,
        "Initial electrolyte mass [kg.m-2]": electrolyte_mass_kg_m2(FLOODED_ELECTROLYTE_UL_CM2),
        "Electrolyte density [kg.m-3]": ELECTROLYTE_DENSITY_KG_M3,
    })
    return values


def electrolyte_mass_kg_m2(electrolyte_uL_cm2: float) -> float:
    """Electrolyte mass per electrode area [kg/m2] of a volume per area [uL/cm2]."""
    return electrolyte_uL_cm2 * 1e-9 / 1e-4 * ELECTROLYTE_DENSITY_KG_M3


@lru_cache(maxsize=8)
def _compiled(cell: str, options: tuple[tuple[str, str], ...]) -> _CompiledCell:
    model = build_test_cell_model(cell, dict(options))
    values = coin_cell_parameter_values()
    inputs = tuple(
        name for name, value in values.items()
        if isinstance(value, (int, float)) and name not in FIXED_PARAMETERS
    )
    pv = pybamm.ParameterValues({**values, **{name: "[input]" for name in inputs}})
    pv.process_model(model)
    geometry = {"current collector": {"z": {"position": 1}}}
    mesh = pybamm.Mesh(geometry, {"current collector": pybamm.SubMesh0D}, {})
    # The 0D method does not size broadcasts; the finite-volume methods of full models do.
    mesh["current collector"].npts_for_broadcast_to_nodes = 1
    pybamm.Discretisation(mesh, {"current collector": pybamm.ZeroDimensionalSpatialMethod()}).process_model(model)
    solver = pybamm.IDAKLUSolver(rtol=1e-8, atol=1e-10)
    return _CompiledCell(model, solver, inputs)


class _Stepper:
    """Steps one test cell half-cycle by half-cycle and reads its state."""

    def __init__(self, cell: str, parameters: Mapping[str, float], options: Mapping[str, str] | None):
        self.compiled = _compiled(cell, tuple(sorted((options or {}).items())))
        base = coin_cell_parameter_values()
        unknown = sorted(set(parameters) - set(self.compiled.input_names))
        if unknown:
            raise TestCellError("parameters", f"unknown or fixed parameter {unknown[0]!r}")
        self.inputs = {name: float(base[name]) for name in self.compiled.input_names}
        self.inputs.update({name: float(value) for name, value in parameters.items()})
        self.solution: pybamm.Solution | None = None
        self.time_s = 0.0

    def step(self, current_A_m2: float, duration_s: float, limit_V: float) -> str:
        """Run `duration_s` at `current_A_m2` (> 0 strips the working electrode) unless
        the voltage event at `limit_V` fires first; returns the termination."""
        inputs = dict(self.inputs, **{CURRENT_INPUT: current_A_m2, VOLTAGE_LIMIT_INPUT: limit_V})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                new = self.compiled.solver.step(self.solution, self.compiled.model, duration_s,
                                                inputs=inputs, save=False)
            except pybamm.SolverError as err:
                raise TestCellSolverError(f"the test-cell solver failed: {err}") from err
        self.solution = new
        self.time_s = float(new.t[-1])
        return new.termination

    def value(self, name: str) -> float:
        sol = self.solution
        y = sol.y[:, -1] if sol.y.ndim == 2 else sol.y
        return float(np.asarray(self.compiled.model.get_processed_variable(name).evaluate(
            sol.t[-1], y, inputs=sol.all_inputs[-1])).ravel()[0])


class TestCellSolverError(TwinError, RuntimeError):
    """The solver failed on a test cell (not a user mistake)."""

    __test__ = False


# ---------------------------------------------------------------------------------------
# Protocols and results


def _positive(name: str, value: float, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TestCellError(name, f"must be a finite number, got {value!r}")
    if not 0 < value <= maximum:
        raise TestCellError(name, f"must lie in (0, {maximum}], got {value}")


def _count(name: str, value: int, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise TestCellError(name, f"must be a whole number from {minimum} to {maximum}, got {value!r}")


@dataclass(frozen=True)
class LiCuTest:
    """Repeated Li||Cu CE test: plate `capacity_mAh_cm2` at `current_density_mA_cm2`,
    strip to `cutoff_V`, `cycles` times; the CE is the mean of the per-cycle CEs after
    the first `discard_cycles` (conditioning) cycles (default: 3, fewer for short tests)."""

    current_density_mA_cm2: float = 0.5
    capacity_mAh_cm2: float = 1.0
    cycles: int = 20
    discard_cycles: int | None = None
    cutoff_V: float = 0.5

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("capacity_mAh_cm2", self.capacity_mAh_cm2, 20.0)
        _count("cycles", self.cycles, 1, 10_000)
        if self.discard_cycles is None:
            object.__setattr__(self, "discard_cycles", min(3, self.cycles - 1))
        _count("discard_cycles", self.discard_cycles, 0, self.cycles - 1)
        _positive("cutoff_V", self.cutoff_V, 3.0)


@dataclass(frozen=True)
class ReservoirTest:
    """Adams et al. (2018) reservoir CE test: optional formation cycle, plate Q_T, cycle
    Q_C (default Q_T / 5) `cycles` times, strip all to the cut-off."""

    current_density_mA_cm2: float = 0.5
    reservoir_mAh_cm2: float = 5.0
    cycled_mAh_cm2: float | None = None
    cycles: int = 10
    cutoff_V: float = 0.5
    formation_cycle: bool = True

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("reservoir_mAh_cm2", self.reservoir_mAh_cm2, 50.0)
        if self.cycled_mAh_cm2 is not None:
            _positive("cycled_mAh_cm2", self.cycled_mAh_cm2, self.reservoir_mAh_cm2)
        _count("cycles", self.cycles, 1, 10_000)
        _positive("cutoff_V", self.cutoff_V, 3.0)

    @property
    def cycled_capacity_mAh_cm2(self) -> float:
        return self.cycled_mAh_cm2 if self.cycled_mAh_cm2 is not None else self.reservoir_mAh_cm2 / 5


@dataclass(frozen=True)
class SymmetricTest:
    """Li||Li cycling: strip then plate `capacity_mAh_cm2` at `current_density_mA_cm2`
    until the overpotential passes `overpotential_limit_V` or `max_cycles`."""

    current_density_mA_cm2: float = 1.0
    capacity_mAh_cm2: float = 1.0
    foil_thickness_um: float = 50.0
    electrolyte_uL_cm2: float = FLOODED_ELECTROLYTE_UL_CM2
    overpotential_limit_V: float = 0.1
    max_cycles: int = 1000

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("capacity_mAh_cm2", self.capacity_mAh_cm2, 20.0)
        _positive("foil_thickness_um", self.foil_thickness_um, 1000.0)
        _positive("electrolyte_uL_cm2", self.electrolyte_uL_cm2, 1000.0)
        _positive("overpotential_limit_V", self.overpotential_limit_V, 5.0)
        _count("max_cycles", self.max_cycles, 1, 100_000)
        if dense_li_thickness_m(self.capacity_mAh_cm2) * 1e6 >= self.foil_thickness_um:
            raise TestCellError("foil_thickness_um", f"a {self.foil_thickness_um} um foil cannot deliver "
                                f"{self.capacity_mAh_cm2} mAh/cm2 per half-cycle")


@dataclass
class LiCuResult:
    """Per-cycle Li||Cu results and the CE a lab would report."""

    test: LiCuTest
    cycles: pd.DataFrame
    average_coulombic_efficiency: float
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-cu",
            "protocol": "repeated",
            "average_coulombic_efficiency": self.average_coulombic_efficiency,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
            "cycles": _records(self.cycles),
        }


@dataclass
class ReservoirResult:
    """Adams reservoir test: the charges and CE_avg = (n Q_C + Q_S) / (n Q_C + Q_T)."""

    test: ReservoirTest
    stripped_final_mAh_cm2: float
    average_coulombic_efficiency: float
    formation_coulombic_efficiency: float | None
    reservoir_exhausted: bool
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-cu",
            "protocol": "reservoir",
            "average_coulombic_efficiency": self.average_coulombic_efficiency,
            "stripped_final_mAh_cm2": self.stripped_final_mAh_cm2,
            "formation_coulombic_efficiency": self.formation_coulombic_efficiency,
            "reservoir_exhausted": self.reservoir_exhausted,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
        }


@dataclass
class SymmetricResult:
    """Li||Li lifespan: hours until the overpotential passed the limit (None if it did not
    within max_cycles), and the overpotential at the end of every half-cycle."""

    test: SymmetricTest
    lifespan_h: float | None
    cycles_completed: int
    end_reason: str
    cycles: pd.DataFrame
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-li",
            "lifespan_h": self.lifespan_h,
            "cycles_completed": self.cycles_completed,
            "end_reason": self.end_reason,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
            "cycles": _records(self.cycles),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(value: Any) -> Any:
        if isinstance(value, (float, np.floating)):
            return None if math.isnan(value) else float(value)
        if isinstance(value, np.integer):
            return int(value)
        return value

    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


# ---------------------------------------------------------------------------------------
# Running the tests


def _time_s(capacity_mAh_cm2: float, current_A_m2: float) -> float:
    return capacity_mAh_cm2 * C_PER_M2_PER_MAH_PER_CM2 / current_A_m2


def _test_parameters(current_density_mA_cm2: float, parameters: Mapping[str, float] | None) -> dict[str, float]:
    """The test's plating current density sets the deposit morphology (dead-Li law);
    a strategy's own "Plating current density" (3D hosts: local current) wins."""
    values = {"Plating current density [A.m-2]": current_density_mA_cm2 * A_M2_PER_MA_CM2}
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
        "Initial active lithium metal [mol.m-2]": test.foil_thickness_um * 1e-6
        / lithium_metal_anode_parameter_values()["Lithium metal partial molar volume [m3.mol-1]"],
        "Initial electrolyte mass [kg.m-2]": electrolyte_mass_kg_m2(test.electrolyte_uL_cm2),
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
