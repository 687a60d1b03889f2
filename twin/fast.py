"""Fast long-cycle prediction: simulate representative cycles, skip the ones between.

What degrades a Li-metal cell (active Li, porous deposit, dead Li, SEI Li, surface
area, electrolyte mass, and the Li held by the cathode) changes little from one cycle
to the next. Write S_n for these slow states at the end of cycle n and
g(S_n) = S_{n+1} - S_n for what one full-model cycle started from S_n does to them.
Fast mode follows the cycle map S_{n+1} = S_n + g(S_n) with cycle skipping:

* Representative cycles: one discretised PyBaMM simulation of a single cycle, with
  the initial condition of every slow state an "[input]" parameter, is set up once
  and re-solved from any state. The cathode's initial concentration follows from its
  Li content (a uniform particle: the rests at the end of a cycle let it relax).
* Accumulating states (dead Li, SEI Li, surface area, electrolyte mass) are stepped
  h cycles at once with the discrete second-order Adams-Bashforth sum
  S_{n+h} = S_n + h g_n + h (h - 1) / 2 s, s the per-cycle change of g between the
  last two representative cycles (exact while g changes linearly); after the cycle
  at S_{n+h} is simulated, the trapezoidal corrector replaces s by the change of g
  actually seen over the step.
* Relaxing states (the cathode's Li, fixed at the end of a discharge by the cut-off;
  the porous deposit, stripped first) end each cycle where the cycle puts them,
  whatever they started at; their increment holds -state, so integrating them with
  h > 2 is unstable. Their end-of-cycle values are extrapolated linearly instead.
  Active Li follows from Li conservation: before the knee it takes what the cathode
  does not hold; after the knee (anode emptied every discharge) the cathode keeps
  the rest. A state extrapolated past a physical bound is projected back (active Li
  below zero: the cell became anode-limited during the step, the shortfall never
  returned to the cathode).
* Error control, per step: (a) the local error of the accumulating states, the
  difference between predictor and corrector, against `tolerance` (fraction of the
  cathode capacity for Li, of the area range, of the initial electrolyte mass);
  (b) how far the new cycle and the skipped cycles lie from what the step assumed
  and from the straight line through the simulated cycles around them (active and
  cathode Li, capacities, wetting) against `interpolation_tolerance`. A step that
  fails is rejected and retried shorter; the next step grows with error^(-1/3).
* Events: steps land on the last cycle before the knee (active Li running out) and
  on the last cycle above the end-of-life threshold (predicted from the cathode's
  Li past the knee, from the capacity trend otherwise); then single cycles are
  simulated, each from the exact end state of the one before, until the first one
  below eol x the first capacity. The end-of-life cycle and the cycle before it are
  always simulated. A step that still lands below the threshold is rejected.
* Check-up cycles are always simulated (their own slow-cycle simulation), from the
  exact end state of the simulated cycle before them; no step jumps over one.

Every cycle is reported: skipped cycles are linear interpolations between simulated
cycles (`simulated` False). Thickness and swelling are measured against the true cell
start (the model's own "initial" would be the start of the representative cycle).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pybamm

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.errors import SimulationError
from twin.protocol import Protocol
from twin.simulation import (
    MAH_CM2_PER_MOL_M2,
    SUMMARY_COLUMNS,
    CellSimulator,
    Prediction,
    dendrite_risk_of,
    end_of_life_reason,
)
from twin.units import mol_per_m2_from_mAh_per_cm2

# Slow states: the model variable at the end of a cycle -> the parameter that sets it
# at the start of the next. The cathode's Li is handled apart (a concentration).
STATE_PARAMETERS: dict[str, str] = {
    "Active lithium metal [mol.m-2]": "Initial active lithium metal [mol.m-2]",
    "Plated lithium deposit [mol.m-2]": "Initial plated lithium deposit [mol.m-2]",
    "Dead lithium [mol.m-2]": "Initial dead lithium [mol.m-2]",
    "Li-metal SEI lithium [mol.m-2]": "Initial Li-metal SEI lithium [mol.m-2]",
    "Li-metal surface area factor": "Initial Li-metal surface area factor",
    "Electrolyte mass [kg.m-2]": "Initial electrolyte mass [kg.m-2]",
    "Porous foil lithium [mol.m-2]": "Initial porous foil lithium [mol.m-2]",
}
CATHODE_LITHIUM = "Lithium in positive electrode [mol.m-2]"
CATHODE_CONCENTRATION = "Initial concentration in positive electrode [mol.m-3]"
STATE_NAMES = (*STATE_PARAMETERS, CATHODE_LITHIUM)
# What the per-cycle row needs from the end of a cycle.
END_OF_CYCLE_VARIABLES = (
    *STATE_NAMES, "Cumulative lithium plated [mol.m-2]", "Cumulative lithium stripped [mol.m-2]",
    "Total lithium [mol.m-2]", "Anode thickness [m]", "Electrolyte wetting fraction",
)
ACTIVE, DEPOSIT, DEAD, SEI, AREA, ELECTROLYTE, POROUS_FOIL, CATHODE = range(len(STATE_NAMES))
# Accumulating states: what a cycle adds depends smoothly on the state, so they are
# integrated (Adams-Bashforth predictor, trapezoidal corrector on the increments).
ACCUMULATING = [DEAD, SEI, AREA, ELECTROLYTE, POROUS_FOIL]
# Relaxing states: their end-of-cycle value is set by the cycle itself (the discharge
# cut-off fixes the cathode's Li; the porous deposit is stripped first), whatever they
# started at. Integrating them with steps > 2 would be unstable (the increment holds
# -state), so their end-of-cycle values are extrapolated instead.
RELAXING = [DEPOSIT, CATHODE]
# Active Li follows from Li conservation.

# Local error of the accumulating states per step, as a fraction of the cathode
# capacity (Li), of the surface-area range and of the initial electrolyte mass; the
# corrector then removes most of it.
DEFAULT_TOLERANCE = 1e-2
# Largest deviation of a skipped cycle from the straight line through the simulated
# cycles around it, for what sets the capacity (active and cathode Li, fraction of
# the cathode capacity; capacities, fraction of the first capacity).
DEFAULT_INTERPOLATION_TOLERANCE = 2.5e-3
MAX_STEP_GROWTH = 3.0
SAFETY = 0.8
# Cycle 1 (first charge of a fresh cathode) is not representative: so many single
# cycles are simulated before the first jump.
WARM_UP_CYCLES = 2
# The chord through an accumulating state misses it by h^2/8 times its curvature, and
# the porous deposit only shows in the thickness: these count at this weight in the
# interpolation error.
SMOOTH_INTERPOLATION_WEIGHT = 0.2
# Electrolyte errors count against this fraction of the initial electrolyte mass:
# near dry-out the capacity hangs on the little that is left.
ELECTROLYTE_SCALE = 0.1
# Active Li below this fraction of the cathode capacity at the end of a cycle: the
# cell is past its knee (anode-limited discharge).
KNEE_ACTIVE_FRACTION = 1e-3


class _Feasibility(pybamm.callbacks.Callback):
    """Notes whether PyBaMM found a step of the cycle infeasible."""

    def __init__(self) -> None:
        self.feasible = True

    def on_experiment_error(self, logs: dict) -> None:
        self.feasible = False

    def on_experiment_infeasible_time(self, logs: dict) -> None:
        self.feasible = False

    def on_experiment_infeasible_event(self, logs: dict) -> None:
        self.feasible = False


@dataclass
class CycleResult:
    """One simulated cycle: its summary row and the slow states at its end."""

    row: dict[str, Any]
    end_state: np.ndarray


class RepresentativeCycler(CellSimulator):
    """A CellSimulator whose slow states start from "[input]" values: one discretised
    single-cycle simulation re-solved from any degradation state."""

    def __init__(
        self,
        design: CellDesign,
        protocol: Protocol,
        cell_model: str = "spm",
        options: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        inputs: Mapping[str, float] | None = None,
    ) -> None:
        user_overrides = dict(overrides or {})
        as_inputs = {name: "[input]" for name in (*STATE_PARAMETERS.values(), CATHODE_CONCENTRATION)}
        super().__init__(design, protocol, cell_model, options, {**user_overrides, **as_inputs})
        self.user_overrides = user_overrides
        self.user_inputs = dict(inputs or {})
        true_values = parameter_values(design, protocol, user_overrides)
        self.cathode_m3_per_m2 = self._cathode_solid_volume(true_values)
        self.initial_state = self._initial_state(true_values)
        self.cathode_full_mol_m2 = (
            self._number(true_values, "Maximum concentration in positive electrode [mol.m-3]")
            * self.cathode_m3_per_m2
        )
        self.maximum_area_factor = self._number(true_values, "Maximum Li-metal surface area factor")
        # Set by the first cycle from the true start: thickness/swelling reference.
        self.initial_anode_thickness_m: float | None = None
        self.initial_stack_thickness_m: float | None = None

    def _number(self, values: pybamm.ParameterValues, name: str) -> float:
        if name in self.user_inputs:
            return float(self.user_inputs[name])
        return float(values.evaluate(pybamm.Parameter(name)))

    def _cathode_solid_volume(self, values: pybamm.ParameterValues) -> float:
        """Active cathode volume per electrode area [m3/m2]: mol/m2 of cathode Li over
        its mean concentration (uniform active material fraction)."""
        eps_s = values["Positive electrode active material volume fraction"]
        if callable(eps_s):
            raise SimulationError("fast mode needs a uniform positive electrode active material volume fraction")
        return self._number(values, "Positive electrode active material volume fraction") * self._number(
            values, "Positive electrode thickness [m]"
        )

    def _initial_state(self, values: pybamm.ParameterValues) -> np.ndarray:
        state = [self._number(values, parameter) for parameter in STATE_PARAMETERS.values()]
        state.append(self._number(values, CATHODE_CONCENTRATION) * self.cathode_m3_per_m2)
        return np.array(state, dtype=float)

    def state_inputs(self, state: np.ndarray) -> dict[str, float]:
        inputs = dict(self.user_inputs)
        inputs.update({parameter: float(state[i]) for i, parameter in enumerate(STATE_PARAMETERS.values())})
        inputs[CATHODE_CONCENTRATION] = float(state[CATHODE] / self.cathode_m3_per_m2)
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
        state[CATHODE] = min(max(state[CATHODE], 0.0), self.cathode_full_mol_m2)
        return state

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        """Simulate one cycle (a check-up cycle if `checkup`) from `state`; None when the
        cell cannot complete it."""
        first_cycle = self.protocol.checkup_every if checkup else 1
        sim = self._simulation(1, first_cycle)
        feasibility = _Feasibility()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                solution = sim.solve(
                    save_at_cycles=10**9, calc_esoh=False, inputs=self.state_inputs(state),
                    callbacks=[feasibility],
                )
        except pybamm.SolverError:
            return None
        if not feasibility.feasible or not solution.cycles:
            return None
        if self.initial_anode_thickness_m is None and np.array_equal(state, self.initial_state):
            first = solution.first_state
            self.initial_anode_thickness_m = float(first["Anode thickness [m]"].entries.ravel()[0])
            self.initial_stack_thickness_m = float(first["Stack thickness [m]"].entries.ravel()[0])
        # Only the end of the cycle is needed: reading it from the last state costs a
        # fraction of PyBaMM's per-cycle summary variables.
        last = solution.last_state
        end = {name: float(last[name].entries.ravel()[-1]) for name in END_OF_CYCLE_VARIABLES}
        end_state = np.array([end[name] for name in STATE_NAMES])
        row = self._row(state, end)
        row["checkup"] = checkup
        return CycleResult(row, end_state)

    def _row(self, start: np.ndarray, end: Mapping[str, float]) -> dict[str, Any]:
        """The per-cycle summary row (twin.simulation.SUMMARY_COLUMNS, as
        CellSimulator._summary computes it) of a cycle from `start` to `end`."""
        plated = end["Cumulative lithium plated [mol.m-2]"]  # both start the cycle at 0
        stripped = end["Cumulative lithium stripped [mol.m-2]"]
        lost = (end["Dead lithium [mol.m-2]"] - start[DEAD]) + (end["Li-metal SEI lithium [mol.m-2]"] - start[SEI])
        q_Ah_m2 = self.design.areal_capacity_mAh_cm2 * 10.0
        thickness_m = end["Anode thickness [m]"]
        return {
            "cycle": 1,
            "charge_capacity_mAh_cm2": plated * MAH_CM2_PER_MOL_M2,
            "discharge_capacity_mAh_cm2": stripped * MAH_CM2_PER_MOL_M2,
            "coulombic_efficiency": stripped / plated if plated > 0 else math.nan,
            "li_coulombic_efficiency": 1 - lost / plated if plated > 0 else math.nan,
            "active_li_mAh_cm2": end["Active lithium metal [mol.m-2]"] * MAH_CM2_PER_MOL_M2,
            "dead_li_mAh_cm2": end["Dead lithium [mol.m-2]"] * MAH_CM2_PER_MOL_M2,
            "sei_li_mAh_cm2": end["Li-metal SEI lithium [mol.m-2]"] * MAH_CM2_PER_MOL_M2,
            "cathode_li_mAh_cm2": end[CATHODE_LITHIUM] * MAH_CM2_PER_MOL_M2,
            "total_li_mAh_cm2": end["Total lithium [mol.m-2]"] * MAH_CM2_PER_MOL_M2,
            "anode_thickness_um": thickness_m * 1e6,
            "swelling_pct": self.swelling_pct(thickness_m),
            "electrolyte_g_per_Ah": end["Electrolyte mass [kg.m-2]"] * 1000.0 / q_Ah_m2,
            "wetting_fraction": end["Electrolyte wetting fraction"],
            "surface_area_factor": end["Li-metal surface area factor"],
            "simulated": True,
        }

    def swelling_pct(self, anode_thickness_m: float) -> float:
        """Stack swelling [%] relative to the true cell start (known once a cycle from
        the initial state has been simulated)."""
        if self.initial_anode_thickness_m is None:
            return math.nan
        return 100.0 * (anode_thickness_m - self.initial_anode_thickness_m) / self.initial_stack_thickness_m


@dataclass
class _Point:
    """The slow states at the end of cycle n, and cycle n+1 simulated from them."""

    n: int
    state: np.ndarray
    increment: np.ndarray  # g(state): what cycle n+1 did to the slow states
    row: dict[str, Any]    # cycle n+1


class _Integrator:
    """Cycle skipping with adaptive steps; collects the simulated rows."""

    def __init__(self, cycler: RepresentativeCycler, eol_fraction: float, max_cycles: int,
                 tolerance: float, interpolation_tolerance: float,
                 progress: Callable[[int], None] | None) -> None:
        self.cycler, self.eol_fraction, self.max_cycles = cycler, eol_fraction, max_cycles
        self.tolerance, self.interpolation_tolerance = tolerance, interpolation_tolerance
        self.progress = progress
        self.rows: dict[int, dict[str, Any]] = {}
        self.points: list[_Point] = []
        self.simulated = 0
        self.rejected = 0
        self.life: int | None = None
        self.failed_cycle: int | None = None
        q_ref = mol_per_m2_from_mAh_per_cm2(cycler.design.areal_capacity_mAh_cm2)
        area_range = max(cycler.maximum_area_factor - 1.0, 1e-3)
        self.state_scale = np.array([
            q_ref, q_ref, q_ref, q_ref, area_range, ELECTROLYTE_SCALE * cycler.initial_state[ELECTROLYTE], q_ref,
            q_ref,
        ])
        self.threshold_mAh_cm2 = math.nan
        self.first_capacity_mAh_cm2 = math.nan

    # -- simulation and bookkeeping ---------------------------------------------------
    def _simulate(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        self.simulated += 1
        return self.cycler.cycle(state, checkup)

    def _record(self, cycle: int, result: CycleResult, skipped: int = 0) -> None:
        row = dict(result.row)
        row["cycle"] = cycle
        self.rows[cycle] = row
        if self.progress is not None:
            self.progress(1 + skipped)

    def _below(self, row: Mapping[str, Any]) -> bool:
        return not row["checkup"] and row["discharge_capacity_mAh_cm2"] < self.threshold_mAh_cm2

    def last_cycle(self) -> int:
        return max(self.rows)

    @staticmethod
    def _end(point: _Point) -> np.ndarray:
        """Slow states at the end of the simulated cycle n+1."""
        return point.state + point.increment

    def _past_knee(self, end_state: np.ndarray) -> bool:
        """Whether a cycle ending in `end_state` emptied the anode (anode-limited)."""
        return end_state[ACTIVE] <= KNEE_ACTIVE_FRACTION * self.state_scale[ACTIVE]

    # -- the integration ----------------------------------------------------------------
    def run(self) -> None:
        cycler = self.cycler
        first = self._simulate(cycler.initial_state)
        if first is None:
            raise SimulationError("the cell did not complete a single cycle")
        self._record(1, first)
        self.first_capacity_mAh_cm2 = first.row["discharge_capacity_mAh_cm2"]
        self.threshold_mAh_cm2 = self.eol_fraction * self.first_capacity_mAh_cm2
        self.points.append(_Point(0, cycler.initial_state, first.end_state - cycler.initial_state, first.row))
        h_next = 1
        while self.life is None and self.failed_cycle is None and self.last_cycle() < self.max_cycles:
            point = self.points[-1]
            if self.cycler.protocol.is_checkup(point.n + 2):
                self._checkup(point)
                continue
            if len(self.points) < WARM_UP_CYCLES:
                h_next = 1
            h_next = self._step(point, min(h_next, self._step_limit(point)))

    def _increment_slope(self, point: _Point) -> np.ndarray:
        """Change of g per cycle between the last two representative cycles (none across
        the unrepresentative first cycle)."""
        if len(self.points) < 2 or self.points[-2].n == 0:
            return np.zeros_like(point.increment)
        before = self.points[-2]
        return (point.increment - before.increment) / (point.n - before.n)

    def _end_state_trend(self, point: _Point) -> np.ndarray:
        """Per-cycle change of the end-of-cycle states between the last two simulated
        regular cycles."""
        if len(self.points) < 2:
            return np.zeros_like(point.state)
        before = self.points[-2]
        if self._past_knee(self._end(point)) and not self._past_knee(self._end(before)):
            # no trend across the knee: the relaxing states change regime there
            return np.zeros_like(point.state)
        return (self._end(point) - self._end(before)) / (point.n - before.n)

    def _predict(self, point: _Point, k: int, slope: np.ndarray, project: bool = True) -> np.ndarray:
        """Slow states at the end of cycle n + k (k >= 1), from the end of cycle n."""
        end = self._end(point)  # end of cycle n+1: simulated, exact
        if k == 1:
            return end
        predicted = end.copy()
        predicted[ACCUMULATING] = (point.state + k * point.increment + k * (k - 1) / 2 * slope)[ACCUMULATING]
        linear = end + (k - 1) * self._end_state_trend(point)
        predicted[RELAXING] = linear[RELAXING]
        # Li conservation fixes active Li + cathode Li. Before the knee the discharge
        # cut-off fixes the cathode's share and active Li takes the rest; after it the
        # anode runs empty every cycle and the cathode keeps what is left.
        cyclable = (end[ACTIVE] + end[DEAD] + end[SEI] + end[CATHODE]) - predicted[DEAD] - predicted[SEI]
        if self._past_knee(end):
            predicted[ACTIVE] = max(linear[ACTIVE], 0.0)
            predicted[CATHODE] = cyclable - predicted[ACTIVE]
        else:
            predicted[ACTIVE] = cyclable - predicted[CATHODE]
        return self.cycler.project(predicted) if project else predicted

    def _predicted_capacity(self, point: _Point, k: int, slope: np.ndarray) -> float:
        """Discharge capacity [mAh/cm2] of cycle n + k: a discharge refills the cathode
        from the top of the window, so it moves with the cathode's end-of-cycle Li."""
        change = self._predict(point, k, slope)[CATHODE] - self._end(point)[CATHODE]
        return point.row["discharge_capacity_mAh_cm2"] + change * MAH_CM2_PER_MOL_M2

    def _step_limit(self, point: _Point) -> int:
        """Longest step: land no later than the cycle before a check-up, max_cycles, the
        last cycle before the knee, or the last cycle above the end-of-life threshold."""
        last = point.n + 1
        limit = self.max_cycles - last
        every = self.cycler.protocol.checkup_every
        if every:
            next_checkup = (last // every + 1) * every
            limit = min(limit, next_checkup - 1 - last)
        limit = max(1, limit)
        slope = self._increment_slope(point)
        end = self._end(point)
        # The knee: land on the last cycle that ends with active Li, so no
        # interpolation spans the change from cathode- to anode-limited discharge.
        if self._end_state_trend(point)[ACTIVE] < 0 and not self._past_knee(end):
            h = 1
            while h < limit and self._predict(point, h + 2, slope, project=False)[ACTIVE] > 0:
                h += 1
            limit = h
        # End of life: land on the last cycle above the threshold, by the capacity
        # trend and, past the knee, by the predicted cathode Li.
        capacity_slope = self._capacity_slope(point)
        if capacity_slope < 0:
            to_threshold = (point.row["discharge_capacity_mAh_cm2"] - self.threshold_mAh_cm2) / -capacity_slope
            limit = min(limit, max(1, math.ceil(to_threshold) - 1))
        if self._past_knee(end):
            h = 1
            while h < limit and self._predicted_capacity(point, h + 2, slope) >= self.threshold_mAh_cm2:
                h += 1
            limit = h
        return max(1, limit)

    def _capacity_slope(self, point: _Point) -> float:
        """Discharge capacity change per cycle between the last two regular simulated cycles."""
        if len(self.points) < 2:
            return 0.0
        before = self.points[-2]
        return (point.row["discharge_capacity_mAh_cm2"] - before.row["discharge_capacity_mAh_cm2"]) / (
            point.n - before.n)

    def _step(self, point: _Point, h: int) -> int:
        """Try steps from `point` until one is accepted; returns the next step's size."""
        slope = self._increment_slope(point)
        rejected = False
        while True:
            predicted = self._predict(point, h, slope)
            result = self._simulate(predicted)
            if result is None:
                if h == 1:
                    self.failed_cycle = point.n + 2
                    return 1
                self.rejected, rejected = self.rejected + 1, True
                h = max(1, h // 3)
                continue
            # A single cycle is exact; its error still says how well the trend holds.
            error, factor = self._error(point, h, slope, predicted, result)
            if error > 1.0 and h > 1:
                self.rejected, rejected = self.rejected + 1, True
                h = max(1, min(h - 1, int(h * max(0.2, factor))))
                continue
            if self._below(result.row) and h > 1:
                # The threshold lies inside the step: land just before the crossing.
                self.rejected += 1
                h = self._landing_step(point, h, result.row)
                continue
            increment = result.end_state - predicted
            state = self._correct(point, h, slope, predicted, increment)
            self.points.append(_Point(point.n + h, state, increment, result.row))
            self._record(point.n + h + 1, result, skipped=h - 1)
            if self._below(result.row):
                self.life = point.n + h + 1
            growth = min(MAX_STEP_GROWTH, factor)
            if rejected:  # no growth right after a rejection
                growth = min(growth, 1.0)
            return max(1, int(h * growth), h + 1 if growth > 1 else 1)

    def _error(self, point: _Point, h: int, slope: np.ndarray, predicted: np.ndarray,
               result: CycleResult) -> tuple[float, float]:
        """Local error of a step of h cycles over its tolerance (accept at <= 1) and the
        factor to scale the step by, from how far the simulated end of cycle n+h+1 lies
        from the same extrapolation one cycle further: the accumulating states by the
        change of the increment seen, times (h-1)/2 (the AB2 error, ~h^3); the
        capacity-setting states, the capacities and the wetting by their deviation from
        the trend and by how far the skipped cycles lie from the chord through the
        simulated ones (interpolation error, ~h^2)."""
        expected = self._predict(point, h + 1, slope)
        deviation = np.abs(result.end_state - expected) / self.state_scale
        integration = float(((h - 1) / 2 * deviation)[ACCUMULATING].max())
        interpolation = [float(0.5 * deviation[[ACTIVE, CATHODE]].max()),
                         0.5 * SMOOTH_INTERPOLATION_WEIGHT * float(deviation[DEPOSIT]),
                         self._interpolation_error(point, h, slope, result)]
        # A discharge ends with the cathode refilled to the cut-off, a charge empties it
        # to the top of the window: capacities move with the cathode's end-of-cycle Li.
        end = self._end(point)
        q_expected = {
            "discharge_capacity_mAh_cm2": point.row["discharge_capacity_mAh_cm2"]
            + (expected[CATHODE] - end[CATHODE]) * MAH_CM2_PER_MOL_M2,
            "charge_capacity_mAh_cm2": point.row["charge_capacity_mAh_cm2"]
            + (predicted[CATHODE] - point.state[CATHODE]) * MAH_CM2_PER_MOL_M2,
        }
        for column, value in q_expected.items():
            interpolation.append(0.5 * abs(result.row[column] - value) / self.first_capacity_mAh_cm2)
        if len(self.points) >= 2:
            before = self.points[-2]
            trend = point.row["wetting_fraction"] + h * (
                point.row["wetting_fraction"] - before.row["wetting_fraction"]) / (point.n - before.n)
            interpolation.append(0.5 * abs(result.row["wetting_fraction"] - trend))
        ratios = (integration / self.tolerance, max(interpolation) / self.interpolation_tolerance)
        factor = min(SAFETY * ratio ** -exponent if ratio > 0 else math.inf
                     for ratio, exponent in zip(ratios, (1 / 3, 1 / 2)))
        return max(ratios), factor

    def _interpolation_error(self, point: _Point, h: int, slope: np.ndarray, result: CycleResult) -> float:
        """How far the skipped cycles n+2 .. n+h, interpolated linearly between the
        simulated cycles n+1 and n+h+1, lie from the step's own prediction of them
        (large across a kink)."""
        end = self._end(point)
        weights = np.ones(len(STATE_NAMES))
        weights[[*ACCUMULATING, DEPOSIT]] = SMOOTH_INTERPOLATION_WEIGHT
        error = 0.0
        for i in range(1, h):
            chord = end + (result.end_state - end) * i / h
            predicted = self._predict(point, i + 1, slope)
            error = max(error, float((weights * np.abs(predicted - chord) / self.state_scale).max()))
        return error

    def _correct(self, point: _Point, h: int, slope: np.ndarray, predicted: np.ndarray,
                 increment: np.ndarray) -> np.ndarray:
        """Corrector: the accumulating states summed with the change of g actually seen
        over the step (trapezoidal in g) instead of the extrapolated one; Li
        conservation moves the difference to active Li (before the knee) or the cathode
        (after it). The simulated cycle n+h+1 keeps the row it had."""
        if h == 1:
            return predicted
        seen = (increment - point.increment) / h
        correction = np.zeros_like(predicted)
        correction[ACCUMULATING] = (h * (h - 1) / 2 * (seen - slope))[ACCUMULATING]
        lost = correction[DEAD] + correction[SEI]
        if self._past_knee(self._end(point)):
            correction[CATHODE] = -lost
        else:
            correction[ACTIVE] = -lost
        return self.cycler.project(predicted + correction)

    def _landing_step(self, point: _Point, h: int, row: Mapping[str, Any]) -> int:
        """Step that lands the next simulated cycle just before the threshold crossing,
        interpolating capacity between cycle n+1 (above) and cycle n+h+1 (below)."""
        q_above = point.row["discharge_capacity_mAh_cm2"]
        q_below = row["discharge_capacity_mAh_cm2"]
        crossing = (q_above - self.threshold_mAh_cm2) / max(q_above - q_below, 1e-12) * h
        return max(1, min(h - 1, math.ceil(crossing) - 1))

    def _checkup(self, point: _Point) -> None:
        """Simulate the check-up cycle after the last simulated cycle, then the regular
        cycle after it (the next representative cycle)."""
        last = point.n + 1
        checkup = self._simulate(self._end(point), checkup=True)
        if checkup is None:
            self.failed_cycle = last + 1
            return
        self._record(last + 1, checkup)
        if last + 1 >= self.max_cycles:
            return
        regular = self._simulate(checkup.end_state)
        if regular is None:
            self.failed_cycle = last + 2
            return
        self.points.append(_Point(last + 1, checkup.end_state, regular.end_state - checkup.end_state,
                                  regular.row))
        self._record(last + 2, regular)
        if self._below(regular.row):
            self.life = last + 2


def fill_skipped_cycles(rows: Mapping[int, Mapping[str, Any]], last_cycle: int,
                        protocol: Protocol) -> pd.DataFrame:
    """Every cycle 1..last_cycle: simulated rows as they are, skipped regular cycles
    linearly interpolated between the simulated regular cycles around them."""
    simulated = pd.DataFrame([dict(row) for _, row in sorted(rows.items())])
    regular = simulated[~simulated["checkup"].astype(bool)]
    cycles = np.arange(1, last_cycle + 1)
    missing = [k for k in cycles if k not in rows]
    table = simulated
    if missing:
        filled = pd.DataFrame({"cycle": missing})
        anchors = regular["cycle"].to_numpy(dtype=float)
        for column in SUMMARY_COLUMNS:
            if column in ("cycle", "simulated", "checkup"):
                continue
            filled[column] = np.interp(np.asarray(missing, dtype=float), anchors,
                                       regular[column].to_numpy(dtype=float))
        filled["simulated"] = False
        filled["checkup"] = [protocol.is_checkup(int(k)) for k in missing]
        table = pd.concat([simulated, filled], ignore_index=True)
    table = table.sort_values("cycle").reset_index(drop=True)
    table["cycle"] = table["cycle"].astype(int)
    table["simulated"] = table["simulated"].astype(bool)
    table["checkup"] = table["checkup"].astype(bool)
    return table[SUMMARY_COLUMNS]


def predict_cycle_life_fast(
    design: CellDesign,
    protocol: Protocol,
    eol_fraction: float = 0.8,
    max_cycles: int = 1000,
    cell_model: str = "spm",
    options: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    inputs: Mapping[str, float] | None = None,
    stop_on_dendrite_risk: bool = False,
    cycler: CellSimulator | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    interpolation_tolerance: float = DEFAULT_INTERPOLATION_TOLERANCE,
) -> Prediction:
    """Cycle life of `design` by cycle skipping (see the module docstring); use it via
    `twin.simulation.predict_cycle_life(..., mode="fast")`."""
    if not (tolerance > 0 and interpolation_tolerance > 0):
        raise SimulationError(f"tolerances must be positive, got {tolerance}, {interpolation_tolerance}")
    start = time.perf_counter()
    if cycler is None:
        cycler = RepresentativeCycler(design, protocol, cell_model, options, overrides, inputs)
    elif not isinstance(cycler, RepresentativeCycler):
        raise SimulationError("fast mode needs a twin.fast.RepresentativeCycler as its simulator")
    elif (cycler.design, cycler.protocol) != (design, protocol):
        raise SimulationError("the simulator given was set up for another design or protocol")
    risk = dendrite_risk_of(cycler, inputs)
    stop_now = stop_on_dendrite_risk and risk is not None and risk.flag
    integrator = _Integrator(cycler, eol_fraction, 1 if stop_now else max_cycles, tolerance,
                             interpolation_tolerance, progress)
    integrator.run()
    last_cycle = integrator.last_cycle()
    cycles = fill_skipped_cycles(integrator.rows, last_cycle, protocol)
    notes = [f"fast mode: {integrator.simulated} cycles simulated "
             f"({integrator.rejected} rejected steps) for {last_cycle} cycles"]
    if stop_now:
        life, reason = 1, "dendrite_risk"
        notes.append(f"dendrite risk: {risk.reason}")
    elif integrator.life is not None:
        life = integrator.life
        reason = end_of_life_reason(cycles.iloc[-1], design.areal_capacity_mAh_cm2)
    elif integrator.failed_cycle is not None:
        # The cell could not finish the next cycle: that cycle delivered ~0 capacity.
        life = integrator.failed_cycle
        reason = end_of_life_reason(cycles.iloc[-1], design.areal_capacity_mAh_cm2)
        notes.append(f"the cell could not complete cycle {life}")
    else:
        life, reason = None, "max_cycles"
    return Prediction(
        design=design, protocol=protocol, cell_model=cell_model, eol_fraction=eol_fraction,
        max_cycles=max_cycles, cycles=cycles, cycle_life=life, end_of_life_reason=reason,
        elapsed_s=time.perf_counter() - start, mode="fast", notes=notes,
        extra={
            "dendrite_risk": None if risk is None else risk.to_dict(),
            # full-model cycle solves, including those of steps the error control rejected
            "simulated_cycles": integrator.simulated,
        },
    )
