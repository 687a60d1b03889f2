"""Fast long-cycle prediction: simulate representative cycles, skip the ones between.

What degrades a Li-metal cell (active Li, porous deposit, dead Li, SEI Li, surface
area, electrolyte mass, the Li held by the cathode, the cathode's active material and
the Li lost with it) changes little from one cycle
to the next. Write S_n for these slow states at the end of cycle n and
g(S_n) = S_{n+1} - S_n for what one full-model cycle started from S_n does to them.
Fast mode follows the cycle map S_{n+1} = S_n + g(S_n) with cycle skipping:

* Representative cycles: one discretised PyBaMM simulation of a single cycle, with
  the initial condition of every slow state an "[input]" parameter, is set up once
  and re-solved from any state. The cathode's initial concentration follows from its
  Li content (a uniform particle: the rests at the end of a cycle let it relax).
* Accumulating states (dead Li, SEI Li, surface area, electrolyte mass, the cathode's
  active material and the Li lost with it, the Li plated since assembly that clocks the
  activation transient) are stepped
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
* Per design, an accumulating state that relaxes within a cycle is classified as
  relaxing: dead Li revived at a first-order rate k keeps exp(-k t_cycle) of itself over
  a cycle (`RepresentativeCycler.retention_per_cycle`, from the first cycle's duration);
  below `twin.cycle_skipping.RELAXING_RETENTION` its increment holds -(1 - r) x state,
  the map is stiff for the predictor, and its end-of-cycle value is extrapolated like
  the cathode's Li. Without revival (r = 1) nothing changes.
* A cell whose capacity trend reaches the end-of-life threshold within
  `SHORT_LIFE_CYCLES` cycles is simulated cycle by cycle.
* Error control, per step: (a) the local error of the accumulating states, the
  difference between predictor and corrector, against `tolerance` (fraction of the
  cathode capacity for Li, of the area range, of the electrolyte mass left);
  (b) how far the new cycle and the skipped cycles lie from what the step assumed
  and from the straight line through the simulated cycles around them (active and
  cathode Li, capacities, wetting) against `interpolation_tolerance`; the capacities
  and the wetting, outputs rather than states carried on, count by the chord's error
  over the skipped cycles (`twin.cycle_skipping.chord_error_weight`). Near dry-out
  (electrolyte left for fewer than `twin.cycle_skipping.DRY_OUT_WINDOW_CYCLES` cycles) the electrolyte's
  error counts against a small fraction of one cycle's consumption, and over the last
  `DRY_OUT_SINGLE_CYCLES` every cycle is simulated: the capacity of the cycle that runs
  dry hangs on the electrolyte left to a hundredth of a cycle's consumption. A step that
  fails is rejected and retried shorter; the next step grows with error^(-1/3).
* Events: steps land on the last cycle before the knee (active Li running out) and
  on the last cycle above the end-of-life threshold (predicted from the cathode's
  Li past the knee, from the capacity trend otherwise; the longest such step is found
  by bisection); then single cycles are simulated, each from the end state of the
  one before, until the first one
  below eol x the first capacity. The end-of-life cycle and the cycle before it are
  always simulated. A step that still lands below the threshold is rejected.
* Check-up cycles are always simulated (their own slow-cycle simulation), from the
  exact end state of the simulated cycle before them; no step jumps over one.

Every cycle is reported: skipped cycles are linear interpolations between simulated
cycles (`simulated` False), except that a skipped cycle's charge is the discharge
before it and its cell Coulombic efficiency Q_n / charge_n, as in simulated cycles. Thickness and swelling are measured against the true cell
start (the model's own "initial" would be the start of the representative cycle).

The integrator itself lives in `twin.cycle_skipping` (no PyBaMM); this module is the
twin's cycle map for it.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import casadi
import numpy as np
import pybamm

from twin.cell_parameters import parameter_values
from twin.cycle_map import (  # noqa: F401 - the cycle map's names, importable from here as before
    ACTIVATION_PARAMETERS, CATHODE_CONCENTRATION, CATHODE_FADE_PARAMETERS, CATHODE_LITHIUM, END_OF_CYCLE_VARIABLES,
    STATE_INPUT_PARAMETERS, STATE_NAMES, STATE_PARAMETERS, THICKNESS_NAMES, SlowStateCycleMap,
)
from twin.cycle_skipping import (  # noqa: F401 - the integrator's names, importable from here as before
    ACCUMULATING, ACTIVE, AREA, CATHODE, CATHODE_MATERIAL, CATHODE_MATERIAL_LI, DEAD, DEFAULT_INTERPOLATION_TOLERANCE,
    DEFAULT_TOLERANCE, DEPOSIT,
    ELECTROLYTE, KNEE_ACTIVE_FRACTION, PLATED_SINCE_ASSEMBLY, POROUS_FOIL, RELAXING, SALT, SEI, STATE_COUNT,
    CycleResult,
    CycleSkippingIntegrator,
    fill_skipped_cycles, run_cycle_skipping,
)
from twin.cycling import CellSimulator
from twin.design import CellDesign
from twin.errors import SimulationError, raise_if_interrupted
from twin.protocol import Protocol
from twin.stepper import CyclePoint, LeanUnsupported, lean_cycle



# Per built PyBaMM model (a step of the shared cycle simulation): one casadi function of
# (t, y, inputs) returning the END_OF_CYCLE_VARIABLES, or None where a variable is not a
# plain expression of the state (then PyBaMM's own processed variables are read).
_END_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _end_function(model: pybamm.BaseModel, names: Sequence[str], inputs: Mapping[str, Any],
                  n_states: int) -> casadi.Function | None:
    """casadi function (t, y, stacked inputs) -> the last entry of each variable named."""
    t = casadi.MX.sym("t")
    y = casadi.MX.sym("y", n_states)
    sizes = [np.asarray(value).size for value in inputs.values()]
    p = casadi.MX.sym("p", sum(sizes))
    offsets = np.cumsum([0, *sizes])
    p_by_name = {name: p[int(offsets[i]):int(offsets[i + 1])] for i, name in enumerate(inputs)}
    outputs = []
    for name in names:
        symbol = model.get_processed_variable_or_event(name)
        if (isinstance(symbol, pybamm.VectorField)
                or pybamm.ProcessedVariableTimeIntegral.from_pybamm_var(symbol, n_states) is not None):
            return None
        expression = symbol.to_casadi(t, y, inputs=p_by_name)
        outputs.append(expression[expression.numel() - 1])
    return casadi.Function("end_of_cycle", [t, y, p], [casadi.vertcat(*outputs)])


def end_of_solution(solution: pybamm.Solution, names: Sequence[str]) -> dict[str, float]:
    """The last value of each variable named at the end of `solution` (the last entry of
    a spatial variable), as `solution.last_state[name].entries.ravel()[-1]` gives it:
    evaluated by one casadi function per model, built on first use (PyBaMM's processed
    variables cost ~0.2 ms each per read, a tenth of a fast-mode cycle for 16 of them)."""
    y = np.asarray(solution.all_ys[-1])
    values = _end_values(solution.all_models[-1], names, solution.all_inputs[-1],
                         float(solution.all_ts[-1][-1]), y[:, -1])
    if values is None:
        last = solution.last_state
        return {name: float(last[name].entries.ravel()[-1]) for name in names}
    return values


def values_at(point: CyclePoint, names: Sequence[str]) -> dict[str, float] | None:
    """The last entry of each variable named at a state of a lean cycle (the casadi
    readers of `end_of_solution`); None where a variable is not a plain expression."""
    return _end_values(point.model, names, point.inputs, point.t_s, point.y)


def _end_values(model: pybamm.BaseModel, names: Sequence[str], inputs: Mapping[str, Any], t_s: float,
                y: np.ndarray) -> dict[str, float] | None:
    """The last entry of each variable named at state `y` of `model`, by its cached
    casadi reader (`_END_FUNCTIONS`); None where a variable is not a plain expression."""
    key = (tuple(names), tuple(inputs), y.shape[0])
    functions = _END_FUNCTIONS.setdefault(model, {})
    if key not in functions:
        functions[key] = _end_function(model, names, inputs, y.shape[0])
    function = functions[key]
    if function is None:
        return None
    p = np.concatenate([np.asarray(value, dtype=float).ravel() for value in inputs.values()]) if inputs \
        else np.zeros(0)
    return dict(zip(names, np.asarray(function(t_s, y, p)).ravel().tolist()))


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



class RepresentativeCycler(SlowStateCycleMap, CellSimulator):
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
        as_inputs = dict.fromkeys(STATE_INPUT_PARAMETERS, "[input]")
        super().__init__(design, protocol, cell_model, options, {**user_overrides, **as_inputs})
        self.user_overrides = user_overrides
        self.user_inputs = dict(inputs or {})
        true_values = parameter_values(design, protocol, user_overrides)
        if callable(true_values["Positive electrode active material volume fraction"]):
            raise SimulationError("fast mode needs a uniform positive electrode active material volume fraction")
        self._set_scalars(lambda name: self._number(true_values, name))
        # Set by the first cycle from the true start: thickness/swelling reference.
        self.initial_anode_thickness_m: float | None = None
        self.initial_stack_thickness_m: float | None = None

    def _number(self, values: pybamm.ParameterValues, name: str) -> float:
        if name in self.user_inputs:
            return float(self.user_inputs[name])
        return float(values.evaluate(pybamm.Parameter(name)))

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        """Simulate one cycle (a check-up cycle if `checkup`) from `state`; None when the
        cell cannot complete it."""
        first_cycle = self.protocol.checkup_every if checkup else 1
        sim = self._simulation(1, first_cycle)
        lean = self._lean_cycle(sim, state, checkup)
        if lean is not None:
            return lean
        feasibility = _Feasibility()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                solution = sim.solve(
                    save_at_cycles=10**9, calc_esoh=False, inputs=self.state_inputs(state),
                    callbacks=[feasibility],
                )
        except pybamm.SolverError:
            raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
            return None
        # PyBaMM ends an experiment quietly when its solver fails, Ctrl-C included
        raise_if_interrupted()
        if not feasibility.feasible or not solution.cycles:
            return None
        if self._needs_initial_thickness(state):
            first = solution.first_state
            self._note_initial_thickness({name: float(first[name].entries.ravel()[0]) for name in THICKNESS_NAMES})
        # Only the end of the cycle is needed: reading it from the last state costs a
        # fraction of PyBaMM's per-cycle summary variables.
        end = end_of_solution(solution, END_OF_CYCLE_VARIABLES)
        return self._result(state, end, checkup, float(solution.t[-1] - solution.t[0]))

    def _lean_cycle(self, sim: Any, state: np.ndarray, checkup: bool) -> CycleResult | None:
        """The cycle stepped directly (`twin.stepper`, the same numbers as PyBaMM's
        experiment solve); None when the lean stepper does not support it (then the
        caller solves it through `Simulation.solve`)."""
        simulation = getattr(sim, "simulation", sim)  # a shared simulation's wrapper
        inputs = {**getattr(sim, "inputs", {}), **self.state_inputs(state)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                first, last = lean_cycle(simulation, inputs)
        except LeanUnsupported:
            raise_if_interrupted()
            return None
        raise_if_interrupted()
        end = values_at(last, END_OF_CYCLE_VARIABLES)
        if end is None:
            return None
        if self._needs_initial_thickness(state):
            start = values_at(first, THICKNESS_NAMES)
            if start is None:
                return None
            self._note_initial_thickness(start)
        return self._result(state, end, checkup, last.t_s - first.t_s)
