"""The test cell around one Li-metal working electrode: its voltage submodel, the
PyBaMM model of a Li||Cu or Li||Li cell, the coin cell's parameters, and the stepper
that integrates one half-cycle at a time."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pybamm
from pybamm.input.parameters.lithium_ion import Chen2020

from twin.errors import raise_if_interrupted
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.submodels import (
    ActivationTransient,
    AnodeThickness,
    DeadLithium,
    DepositMorphology,
    ElectrolyteConsumption,
    LithiumInventory,
    LithiumMetalOptions,
    LithiumMetalSEI,
    LithiumMetalUtilisation,
    PorousFoil,
    PorousLayerTransport,
    SaltDepletion,
    SEIFormation,
    SurfaceRoughening,
)
from twin.test_cells.protocols import (
    CURRENT_INPUT, ELECTROLYTE_DENSITY_KG_M3, FIXED_PARAMETERS, FLOODED_ELECTROLYTE_UL_CM2, SEPARATOR_POROSITY,
    SEPARATOR_THICKNESS_M, TEST_CELLS, VOLTAGE_LIMIT_INPUT, TestCellError, TestCellSolverError, mol_m2,
)

# ---------------------------------------------------------------------------------------
# The cell around the working electrode


class TestCellVoltage(pybamm.BaseSubModel):
    """Electrode potentials, cell voltage and the voltage-limit event of a test cell.

    Electrode potential vs its own equilibrium at current density j (> 0 strips Li):
    E(j) = 2RT/F asinh(j / (2 j0 u)) + j R_layer, the inverse Butler-Volmer of
    `LithiumMetalKinetics` with the Li utilisation u (availability x wetting on
    stripping, wetting on plating) plus the porous dead-Li/SEI layer resistance.
    Cell voltage = E_working(j) - E_counter(-j) + j (R_separator + R_salt) + eta_c:
    the separator's resistance grows as salt is lost (`SaltDepletion`), and eta_c is the
    concentration overpotential of salt diffusion through the porous layers and the
    separator (`PorousLayerTransport`), which diverges at the layers' limiting current.

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
        # the separator's resistance at the fresh conductivity, plus what salt depletion adds
        r_sep = (pybamm.Parameter("Separator thickness [m]") / (kappa * eps_sep**b_sep)
                 + variables["Salt depletion resistance [Ohm.m2]"])
        eta_transport = variables["Porous layer concentration overpotential [V]"]
        voltage = e_working - e_counter + j * r_sep + eta_transport
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
        # mirror Li||Li: the counter electrode consumes electrolyte and fills pores alike
        ElectrolyteConsumption(param, options, electrodes=2 if cell == "li-li" else 1),
        SaltDepletion(param, options),
        SurfaceRoughening(param, options),
        DepositMorphology(param, options),
        ActivationTransient(param, options),
        SEIFormation(param, options),
        LithiumMetalSEI(param, options),
        DeadLithium(param, options),
        LithiumMetalUtilisation(param, pb_options),
        AnodeThickness(param, pb_options),
        # mirror Li||Li: both electrodes carry the layer; Li||Cu: the counter is fresh Li
        PorousLayerTransport(param, options, layers=2 if cell == "li-li" else 1),
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
                 "Electrolyte diffusivity [m2.s-1]", "Cation transference number",
                 "Separator Bruggeman coefficient (electrolyte)"):
        values[name] = electrolyte[name]
    pore_volume_m3_m2 = SEPARATOR_THICKNESS_M * SEPARATOR_POROSITY
    values.update({
        "Ambient temperature [K]": 298.15,
        "Separator thickness [m]": SEPARATOR_THICKNESS_M,
        "Separator porosity": SEPARATOR_POROSITY,
        P.initial_deposit: 0.0,
        P.initial_active_li: 0.0,
        P.reference_li_amount: mol_m2(1.0),
        P.wetted_pore_volume: pore_volume_m3_m2,
        P.stack_thickness_excluding_anode: SEPARATOR_THICKNESS_M + 2 * 8e-6,
        P.initial_electrolyte_mass: electrolyte_mass_kg_m2(FLOODED_ELECTROLYTE_UL_CM2),
        P.electrolyte_density: ELECTROLYTE_DENSITY_KG_M3,
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
                raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
                raise TestCellSolverError(f"the test-cell solver failed: {err}") from err
        self.solution = new
        self.time_s = float(new.t[-1])
        return new.termination

    def value(self, name: str) -> float:
        sol = self.solution
        y = sol.y[:, -1] if sol.y.ndim == 2 else sol.y
        return float(np.asarray(self.compiled.model.get_processed_variable(name).evaluate(
            sol.t[-1], y, inputs=sol.all_inputs[-1])).ravel()[0])
