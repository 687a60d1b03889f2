"""The twin's cycle map for cycle skipping, without PyBaMM: the slow states, their
"[input]" parameters, the per-cycle row of a cycle and the bounds an extrapolated state
is projected back into.

Shared by `twin.fast.RepresentativeCycler` (cycles solved through PyBaMM's built step
models) and `twin.compiled.CompiledCycler` (the same cycles from a compiled artefact, in
a process that never imports PyBaMM).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from twin.cycle_rows import cycle_rows
from twin.cycle_skipping import (
    ACTIVE, AREA, CATHODE, CATHODE_MATERIAL, CATHODE_MATERIAL_LI, DEAD, DEFAULT_INTERPOLATION_TOLERANCE,
    DEFAULT_TOLERANCE, DEPOSIT, ELECTROLYTE, PLATED_SINCE_ASSEMBLY, POROUS_FOIL, SALT, SEI, STATE_COUNT, CycleResult,
    run_cycle_skipping,
)
from twin.end_of_life import LifeOutcome
from twin.errors import OptionError
from twin.parameters.activation import ActivationParameters as ACT
from twin.parameters.cathode_fade import CathodeFadeParameters as F
from twin.parameters.li_metal import LithiumMetalParameters as P

# Slow states: the model variable at the end of a cycle -> the parameter that sets it
# at the start of the next. The cathode's Li is handled apart (a concentration).
STATE_PARAMETERS: dict[str, str] = {
    "Active lithium metal [mol.m-2]": P.initial_active_li,
    "Plated lithium deposit [mol.m-2]": P.initial_deposit,
    "Dead lithium [mol.m-2]": P.initial_dead_li,
    "Li-metal SEI lithium [mol.m-2]": P.initial_sei_li,
    "Li-metal surface area factor": P.initial_area_factor,
    "Electrolyte mass [kg.m-2]": P.initial_electrolyte_mass,
    "Porous foil lithium [mol.m-2]": P.initial_porous_foil_li,
    "Electrolyte salt [mol.m-2]": P.initial_salt,
}
CATHODE_LITHIUM = "Lithium in positive electrode [mol.m-2]"
CATHODE_CONCENTRATION = "Initial concentration in positive electrode [mol.m-3]"
# The cathode fade's states (twin.submodels.cathode_fade), after the cathode's Li.
CATHODE_FADE_PARAMETERS: dict[str, str] = {
    "Positive electrode active material retained fraction": F.initial_retained_fraction,
    "Lithium lost with positive electrode active material [mol.m-2]": F.initial_lost_lithium,
}
# The activation transient's clock (twin.submodels.activation), after the cathode fade's.
ACTIVATION_PARAMETERS: dict[str, str] = {
    "Lithium plated since assembly [mol.m-2]": ACT.initial_plated_since_assembly,
}
STATE_NAMES = (*STATE_PARAMETERS, CATHODE_LITHIUM, *CATHODE_FADE_PARAMETERS, *ACTIVATION_PARAMETERS)
# The parameters a representative cycle takes as "[input]": the slow states' initial values.
STATE_INPUT_PARAMETERS = (*STATE_PARAMETERS.values(), CATHODE_CONCENTRATION, *CATHODE_FADE_PARAMETERS.values(),
                          *ACTIVATION_PARAMETERS.values())
# The other parameters the cycle map reads once per design.
ACTIVE_MATERIAL_FRACTION = "Positive electrode active material volume fraction"
CATHODE_THICKNESS = "Positive electrode thickness [m]"
CATHODE_MAXIMUM_CONCENTRATION = "Maximum concentration in positive electrode [mol.m-3]"
SCALAR_PARAMETERS = (*STATE_INPUT_PARAMETERS, ACTIVE_MATERIAL_FRACTION, CATHODE_THICKNESS,
                     CATHODE_MAXIMUM_CONCENTRATION, P.maximum_area_factor, P.dead_li_revival_rate)
# What the per-cycle row needs from the end of a cycle.
END_OF_CYCLE_VARIABLES = (
    *STATE_NAMES, "Cumulative lithium plated [mol.m-2]", "Cumulative lithium stripped [mol.m-2]",
    "Total lithium [mol.m-2]", "Anode thickness [m]", "Electrolyte wetting fraction",
)
# swelling is measured from these at the start of the first cycle
THICKNESS_NAMES = ("Anode thickness [m]", "Stack thickness [m]")
assert len(STATE_NAMES) == STATE_COUNT  # in twin.cycle_skipping's order (ACTIVE ... CATHODE)


class SlowStateCycleMap:
    """What a representative-cycle simulator does with the slow states, whatever solves
    its cycles. Subclasses set `design`, `protocol`, `user_inputs` (values of "[input]"
    parameters), `cathode_m3_per_m2` (fresh active cathode volume per area [m3/m2]),
    `cathode_full_mol_m2`, `maximum_area_factor`, `dead_li_revival_rate_per_s` [1/s],
    `initial_state` and the thickness reference (None until the first cycle)."""

    design: Any
    protocol: Any
    user_inputs: dict[str, float]
    cathode_m3_per_m2: float
    cathode_full_mol_m2: float
    maximum_area_factor: float
    dead_li_revival_rate_per_s: float
    initial_state: np.ndarray
    initial_anode_thickness_m: float | None = None
    initial_stack_thickness_m: float | None = None

    def _set_scalars(self, number: Callable[[str], float]) -> None:
        """The design's initial state and bounds from `number(name)`, the value of a
        parameter of `SCALAR_PARAMETERS` (KeyError: not in the parameter set)."""
        # Active cathode volume per electrode area [m3/m2] of the fresh cathode: mol/m2 of
        # cathode Li over its mean concentration (uniform active material fraction; a
        # faded cathode holds the retained fraction of it)
        self.cathode_m3_per_m2 = number(ACTIVE_MATERIAL_FRACTION) * number(CATHODE_THICKNESS)
        state = [number(parameter) for parameter in STATE_PARAMETERS.values()]
        retained, lost_li = (number(parameter) for parameter in CATHODE_FADE_PARAMETERS.values())
        state.append(number(CATHODE_CONCENTRATION) * self.cathode_m3_per_m2 * retained)
        state.extend((retained, lost_li))
        state.extend(number(parameter) for parameter in ACTIVATION_PARAMETERS.values())
        self.initial_state = np.array(state, dtype=float)
        self.cathode_full_mol_m2 = number(CATHODE_MAXIMUM_CONCENTRATION) * self.cathode_m3_per_m2
        self.maximum_area_factor = number(P.maximum_area_factor)
        try:
            self.dead_li_revival_rate_per_s = number(P.dead_li_revival_rate)
        except KeyError:  # a parameter set without revival
            self.dead_li_revival_rate_per_s = 0.0

    def state_inputs(self, state: np.ndarray) -> dict[str, float]:
        """The "[input]" values that start a representative cycle at `state`."""
        inputs = dict(self.user_inputs)
        inputs.update({parameter: float(state[i]) for i, parameter in enumerate(STATE_PARAMETERS.values())})
        # the Li sits in the active material left (a fraction of the fresh cathode's)
        inputs[CATHODE_CONCENTRATION] = float(state[CATHODE] / (self.cathode_m3_per_m2 * state[CATHODE_MATERIAL]))
        inputs.update({parameter: float(state[i]) for i, parameter in
                       zip((CATHODE_MATERIAL, CATHODE_MATERIAL_LI), CATHODE_FADE_PARAMETERS.values())})
        inputs.update({parameter: float(state[i]) for i, parameter in
                       zip((PLATED_SINCE_ASSEMBLY,), ACTIVATION_PARAMETERS.values())})
        return inputs

    def project(self, state: np.ndarray) -> np.ndarray:
        """Bring an extrapolated state back inside physical bounds, conserving Li."""
        state = state.copy()
        if state[ACTIVE] < 0:
            # The cell ran out of active Li during the step: the shortfall is Li the
            # cathode never got back.
            state[CATHODE] += state[ACTIVE]
            state[ACTIVE] = 0.0
        state[DEPOSIT] = max(state[DEPOSIT], 0.0)
        state[DEAD] = max(state[DEAD], 0.0)
        state[SEI] = max(state[SEI], 0.0)
        state[POROUS_FOIL] = max(state[POROUS_FOIL], 0.0)
        state[AREA] = min(max(state[AREA], 1.0), self.maximum_area_factor)
        state[ELECTROLYTE] = max(state[ELECTROLYTE], 1e-9)
        state[SALT] = max(state[SALT], 0.0)
        state[CATHODE_MATERIAL] = min(max(state[CATHODE_MATERIAL], 1e-3), 1.0)
        state[CATHODE_MATERIAL_LI] = max(state[CATHODE_MATERIAL_LI], 0.0)
        state[PLATED_SINCE_ASSEMBLY] = max(state[PLATED_SINCE_ASSEMBLY], 0.0)
        state[CATHODE] = min(max(state[CATHODE], 0.0), self.cathode_full_mol_m2 * state[CATHODE_MATERIAL])
        return state

    def _needs_initial_thickness(self, state: np.ndarray) -> bool:
        """Whether this cycle, from the initial state, is the first to be solved (its
        start gives the thickness swelling is measured from)."""
        return self.initial_anode_thickness_m is None and np.array_equal(state, self.initial_state)

    def _note_initial_thickness(self, start: Mapping[str, float]) -> None:
        """Keep the anode and stack thickness [m] at the start of the first cycle."""
        self.initial_anode_thickness_m = start["Anode thickness [m]"]
        self.initial_stack_thickness_m = start["Stack thickness [m]"]

    def _result(self, state: np.ndarray, end: Mapping[str, float], checkup: bool, duration_s: float) -> CycleResult:
        """The cycle's row and end state from the END_OF_CYCLE_VARIABLES at its end."""
        row = self._row(state, end)
        row["checkup"] = checkup
        return CycleResult(row, np.array([end[name] for name in STATE_NAMES]), duration_s)

    def retention_per_cycle(self, first: CycleResult) -> dict[int, float]:
        """Fraction of the dead Li at the start of a cycle still dead at its end by
        revival alone, exp(-k_revive t_cycle) (the integrator treats dead Li as relaxing
        when it is small; see `twin.cycle_skipping.classify_states`)."""
        duration_s = first.duration_s if math.isfinite(first.duration_s) else 0.0
        return {DEAD: math.exp(-max(self.dead_li_revival_rate_per_s, 0.0) * duration_s)}

    def _row(self, start: np.ndarray, end: Mapping[str, float]) -> dict[str, Any]:
        """The per-cycle summary row (twin.cycle_rows) of a cycle from `start` to `end`."""
        thickness_m = end["Anode thickness [m]"]
        return {"cycle": 1, **cycle_rows(
            areal_capacity_mAh_cm2=self.design.areal_capacity_mAh_cm2,
            plated_mol_m2=end["Cumulative lithium plated [mol.m-2]"],  # both start the cycle at 0
            stripped_mol_m2=end["Cumulative lithium stripped [mol.m-2]"],
            lost_mol_m2=(end["Dead lithium [mol.m-2]"] - start[DEAD])
            + (end["Li-metal SEI lithium [mol.m-2]"] - start[SEI]),
            active_li_mol_m2=end["Active lithium metal [mol.m-2]"],
            dead_li_mol_m2=end["Dead lithium [mol.m-2]"],
            sei_li_mol_m2=end["Li-metal SEI lithium [mol.m-2]"],
            cathode_li_mol_m2=end[CATHODE_LITHIUM],
            total_li_mol_m2=end["Total lithium [mol.m-2]"],
            anode_thickness_m=thickness_m,
            swelling_pct=self.swelling_pct(thickness_m),
            electrolyte_kg_m2=end["Electrolyte mass [kg.m-2]"],
            wetting_fraction=end["Electrolyte wetting fraction"],
            surface_area_factor=end["Li-metal surface area factor"],
        ), "simulated": True}

    def run_life(self, eol_fraction: float, max_cycles: int, *, progress: Callable[[int], None] | None = None,
                 inputs: Mapping[str, float] | None = None, keep_time_series: bool = False,
                 tolerance: float = DEFAULT_TOLERANCE,
                 interpolation_tolerance: float = DEFAULT_INTERPOLATION_TOLERANCE) -> LifeOutcome:
        """The cycle-skipping run (`twin.cycle_skipping`). The slow states start from
        "[input]" values, so `inputs` were given when the cycler was made."""
        if keep_time_series:
            raise OptionError("time series are kept in full mode only (mode 'fast' skips cycles)")
        return run_cycle_skipping(self, eol_fraction, max_cycles, tolerance=tolerance,
                                  interpolation_tolerance=interpolation_tolerance, progress=progress)

    def swelling_pct(self, anode_thickness_m: float) -> float:
        """Stack swelling [%] relative to the true cell start (known once a cycle from
        the initial state has been simulated)."""
        if self.initial_anode_thickness_m is None:
            return math.nan
        return 100.0 * (anode_thickness_m - self.initial_anode_thickness_m) / self.initial_stack_thickness_m
