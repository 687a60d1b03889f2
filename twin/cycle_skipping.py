"""Cycle skipping: follow a cycle map S_{n+1} = S_n + g(S_n) with adaptive steps.

The integrator of fast mode (see `twin.fast` for the method). It knows nothing of
PyBaMM: it asks a *cycle map* (`CycleMap`: `twin.fast.RepresentativeCycler` for the
twin, any object with the same members in a test) to simulate one cycle from a state,
and collects the per-cycle rows of the cycles it simulated; `fill_skipped_cycles`
reports every cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol as TypingProtocol

import numpy as np

from twin.cycle_rows import SUMMARY_COLUMNS
from twin.cycle_table import CycleTable
from twin.design import CellDesign
from twin.end_of_life import LifeOutcome
from twin.errors import SimulationError
from twin.protocol import Protocol
from twin.units import MAH_CM2_PER_MOL_M2, mol_per_m2_from_mAh_per_cm2

if TYPE_CHECKING:
    import pandas as pd

# The slow states, in this order (twin.fast.STATE_NAMES names them): active Li, porous
# deposit, dead Li, SEI Li [mol/m2], Li surface-area factor [-], electrolyte mass
# [kg/m2], foil converted to porous Li [mol/m2], electrolyte salt [mol/m2], Li in the
# cathode [mol/m2], the cathode's retained active material fraction [-], Li lost with
# cathode material [mol/m2], Li plated since assembly [mol/m2] (the activation
# transient's clock, `twin.submodels.activation`).
(ACTIVE, DEPOSIT, DEAD, SEI, AREA, ELECTROLYTE, POROUS_FOIL, SALT, CATHODE, CATHODE_MATERIAL,
 CATHODE_MATERIAL_LI, PLATED_SINCE_ASSEMBLY) = range(12)
STATE_COUNT = 12
# Accumulating states: what a cycle adds depends smoothly on the state, so they are
# integrated (Adams-Bashforth predictor, trapezoidal corrector on the increments).
ACCUMULATING = [DEAD, SEI, AREA, ELECTROLYTE, POROUS_FOIL, SALT, CATHODE_MATERIAL, CATHODE_MATERIAL_LI,
                PLATED_SINCE_ASSEMBLY]
# Li lost for good (out of the cyclable inventory of active and cathode Li).
LOST = [DEAD, SEI, CATHODE_MATERIAL_LI]
# Relaxing states: their end-of-cycle value is set by the cycle itself (the discharge
# cut-off fixes the cathode's Li; the porous deposit is stripped first), whatever they
# started at. Integrating them with steps > 2 would be unstable (the increment holds
# -state), so their end-of-cycle values are extrapolated instead.
RELAXING = [DEPOSIT, CATHODE]
# Active Li follows from Li conservation.
# An accumulating state that also relaxes within a cycle (dead Li revived at a
# first-order rate) keeps less than this fraction of its start value over one cycle:
# it is then treated as relaxing for that design (its increment holds -(1 - r) state,
# so predictor steps longer than ~2 / (1 - r) cycles would be unstable). The cycle map
# says how much each state keeps (`CycleMap.retention_per_cycle`); states it does not
# name keep all (r = 1), so the classification changes nothing for other designs.
RELAXING_RETENTION = 0.8
# A cell whose capacity trend reaches the end-of-life threshold within this many
# cycles is simulated cycle by cycle: skipping would save few solves and cost accuracy
# where the capacity changes fastest.
SHORT_LIFE_CYCLES = 30

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
# Electrolyte errors count against this fraction of the electrolyte mass left at the
# start of the step: near dry-out the capacity hangs on the little that is left (an
# error of a fraction of a cycle's consumption moves a near-vertical capacity curve by
# percent), so the allowed error shrinks with what is left.
ELECTROLYTE_SCALE = 0.01
# The dry-out cliff: in the cycle the electrolyte runs out during the discharge the
# capacity falls by tens of percent, and how far it falls hangs on the electrolyte left
# at the start of that cycle: 0.01 of a cycle's consumption moves it by ~2 % of the first
# capacity (lean LFP, iodine-carbon-host), and the cycle map amplifies electrolyte errors
# over the last tens of cycles (consumption grows as the electrolyte runs out). So, once
# the electrolyte left is less than DRY_OUT_WINDOW_CYCLES cycles of the present
# consumption, its error counts against DRY_OUT_SCALE_CYCLES of one cycle's consumption
# (when that is tighter than ELECTROLYTE_SCALE of what is left), and within
# DRY_OUT_SINGLE_CYCLES cycles of consumption every cycle is simulated, in a design whose
# electrolyte lasts more than DRY_OUT_LONG_CYCLES cycles of its consumption in the first
# regular cycle: errors add up over its many steps (a lean iodine-carbon-host cell: ~650
# cycles). A shorter-lived lean cell (baseline NMC811 N:P 2 at 3 g/Ah: ~160 cycles) takes
# few steps and was within 0.03 % of the first capacity without it; a flooded cell, or one
# whose Li runs out first, never comes this close. Neither changes its steps.
# (Chosen on the lean iodine-carbon-host designs of benchmarks/bench_cycling.py: with
# a scale of 0.1 the LFP cliff stayed 1.3-1.4 % off; with a window of 150 cycles, 3.9 %.)
DRY_OUT_WINDOW_CYCLES = 400.0
DRY_OUT_SCALE_CYCLES = 0.03
DRY_OUT_SINGLE_CYCLES = 30.0
DRY_OUT_LONG_CYCLES = 300.0
# The dry-out control applies while the electrolyte left lasts fewer cycles than this
# many times the cycles the Li inventory lasts (plus DRY_OUT_SINGLE_CYCLES): a margin
# for a consumption that grows (a lean NMC811 cell's grows ~30 % over its life) and a
# Li loss that slows. A flooded NMC811 N:P 1 cell (Li gone at cycle ~100, electrolyte
# for ~330 more) was held to steps of 1-3 cycles by it for no gain in accuracy.
DRY_OUT_LI_MARGIN = 2.0
# The activation transient's clock (Li plated since assembly) grows by a whole cycle's
# charge per cycle, hundreds of times what the loss states gain; it only matters through
# exp(-Q / Q_act), settled after the first few cycles, and the losses it sets are
# controlled as states of their own. Its error counts against this many cycles' charge.
ACTIVATION_CLOCK_SCALE_CYCLES = 10.0
# Active Li below this fraction of the cathode capacity at the end of a cycle: the
# cell is past its knee (anode-limited discharge).
KNEE_ACTIVE_FRACTION = 1e-3

@dataclass
class CycleResult:
    """One simulated cycle: its summary row and the slow states at its end."""

    row: dict[str, Any]
    end_state: np.ndarray
    duration_s: float = math.nan  # how long the cycle took [s]



class CycleMap(TypingProtocol):
    """What the integrator needs of a cell: one cycle from any slow state."""

    design: CellDesign
    protocol: Protocol
    initial_state: np.ndarray
    maximum_area_factor: float

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        """Simulate one cycle from `state`; None when the cell cannot complete it."""

    def project(self, state: np.ndarray) -> np.ndarray:
        """Bring an extrapolated state back inside physical bounds."""


def retention_per_cycle(cycler: Any, first: CycleResult) -> np.ndarray:
    """Per slow state, the fraction of its start value that one cycle leaves in place
    by first-order relaxation alone (1: none). A cycle map may define
    `retention_per_cycle(first_cycle) -> {state index: fraction}`; without it every
    state keeps its value."""
    retention = np.ones(STATE_COUNT)
    method = getattr(cycler, "retention_per_cycle", None)
    if method is not None:
        for index, fraction in method(first).items():
            retention[index] = float(fraction)
    return retention


def classify_states(retention: np.ndarray) -> tuple[list[int], list[int]]:
    """The accumulating and relaxing states of a design: an accumulating state whose
    retention per cycle is below RELAXING_RETENTION relaxes within a few cycles and is
    extrapolated like the relaxing ones."""
    moved = [i for i in ACCUMULATING if retention[i] < RELAXING_RETENTION]
    return [i for i in ACCUMULATING if i not in moved], [*RELAXING, *moved]


@dataclass
class _Point:
    """The slow states at the end of cycle n, and cycle n+1 simulated from them."""

    n: int
    state: np.ndarray
    increment: np.ndarray  # g(state): what cycle n+1 did to the slow states
    row: dict[str, Any]    # cycle n+1


def chord_error_weight(h: int, spacing: int) -> float:
    """What a step's deviation of a smooth output becomes as interpolation error: cycle
    n+h+1 misses the line through the two simulated cycles before it (`spacing` cycles
    apart) by c'' h (h + spacing) / 2 for a curvature c'' per cycle^2; the chord between
    the simulated cycles n+1 and n+h+1 misses the skipped cycles by at most c'' h^2 / 8:
    the deviation times h / (4 (h + spacing)). (A flat 1/2 overstated it 4x at equal
    steps and kept the steps of a lean cell's dry-out cliff at 1-2 cycles.)"""
    return h / (4.0 * (h + max(spacing, 1)))


def _longest_step(limit: int, fits: Callable[[int], bool]) -> int:
    """Largest step h in [1, limit] that `fits`, for a condition that holds for steps up
    to some length and not beyond (bisection: log2(limit) predictions instead of one
    per cycle). A step of 1 is always allowed."""
    if limit <= 1 or fits(limit):
        return max(1, limit)
    good, bad = 1, limit  # fits(good) may be false only for good == 1
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return good


class CycleSkippingIntegrator:
    """Cycle skipping with adaptive steps; collects the simulated rows."""

    def __init__(self, cycler: CycleMap, eol_fraction: float, max_cycles: int,
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
            ELECTROLYTE_SCALE * max(cycler.initial_state[SALT], 1e-12), q_ref, 1.0, q_ref,
            ACTIVATION_CLOCK_SCALE_CYCLES * q_ref,
        ])
        self.threshold_mAh_cm2 = math.nan
        self.first_capacity_mAh_cm2 = math.nan
        # per design, set from the first cycle (classify_states)
        self.accumulating, self.relaxing = list(ACCUMULATING), list(RELAXING)

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
        self.accumulating, self.relaxing = classify_states(retention_per_cycle(cycler, first))
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
        accumulating = self.accumulating
        predicted[accumulating] = (point.state + k * point.increment + k * (k - 1) / 2 * slope)[accumulating]
        linear = end + (k - 1) * self._end_state_trend(point)
        predicted[self.relaxing] = linear[self.relaxing]
        # Li conservation fixes active Li + cathode Li. Before the knee the discharge
        # cut-off fixes the cathode's share and active Li takes the rest; after it the
        # anode runs empty every cycle and the cathode keeps what is left.
        cyclable = end[ACTIVE] + end[CATHODE] + end[LOST].sum() - predicted[LOST].sum()
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
        if self._near_dry_out(point, DRY_OUT_SINGLE_CYCLES):
            return 1  # the dry-out cliff: every cycle is simulated
        if self._near_dry_out(point):
            # land no later than where every cycle is simulated
            limit = min(limit, max(1, math.floor(self._electrolyte_cycles_left(point) - DRY_OUT_SINGLE_CYCLES)))
        slope = self._increment_slope(point)
        end = self._end(point)
        # The knee: land on the last cycle that ends with active Li, so no
        # interpolation spans the change from cathode- to anode-limited discharge.
        if self._end_state_trend(point)[ACTIVE] < 0 and not self._past_knee(end):
            to_knee = _longest_step(limit, lambda h: self._predict(point, h + 1, slope, project=False)[ACTIVE] > 0)
            # past the knee the capacity falls by the Li lost per cycle: the life ends
            # about (1 - eol) x the first capacity later
            lost_per_cycle = -self._end_state_trend(point)[ACTIVE] * MAH_CM2_PER_MOL_M2
            after_knee = (1 - self.eol_fraction) * self.first_capacity_mAh_cm2 / lost_per_cycle
            if to_knee < limit and last + to_knee + 1 + after_knee < SHORT_LIFE_CYCLES:
                return 1  # a short life: every cycle is simulated
            limit = to_knee
        # End of life: land on the last cycle above the threshold, by the capacity
        # trend and, past the knee, by the predicted cathode Li.
        capacity_slope = self._capacity_slope(point)
        if capacity_slope < 0:
            to_threshold = (point.row["discharge_capacity_mAh_cm2"] - self.threshold_mAh_cm2) / -capacity_slope
            if last + to_threshold < SHORT_LIFE_CYCLES:
                return 1  # a short life: every cycle is simulated
            limit = min(limit, max(1, math.ceil(to_threshold) - 1))
        if self._past_knee(end):
            limit = _longest_step(
                limit, lambda h: self._predicted_capacity(point, h + 1, slope) >= self.threshold_mAh_cm2)
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
        scale = self.state_scale.copy()
        scale[ELECTROLYTE] = self._electrolyte_scale(point)
        deviation = np.abs(result.end_state - expected) / scale
        integration = float(((h - 1) / 2 * deviation)[self.accumulating].max())
        # relaxing states other than the cathode's Li (the deposit, revived dead Li)
        # set the capacity only through active Li: they count at the smooth weight
        smooth_relaxing = [i for i in self.relaxing if i != CATHODE]
        interpolation = [float(0.5 * deviation[[ACTIVE, CATHODE]].max()),
                         0.5 * SMOOTH_INTERPOLATION_WEIGHT * float(deviation[smooth_relaxing].max()),
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
        # The capacities and the wetting are outputs of the cycle, not states carried on:
        # what matters is how far the skipped cycles, interpolated on the chord, lie from
        # the true curve (`chord_error_weight`).
        chord = chord_error_weight(h, point.n - self.points[-2].n if len(self.points) >= 2 else h)
        for column, value in q_expected.items():
            interpolation.append(chord * abs(result.row[column] - value) / self.first_capacity_mAh_cm2)
        if len(self.points) >= 2:
            before = self.points[-2]
            trend = point.row["wetting_fraction"] + h * (
                point.row["wetting_fraction"] - before.row["wetting_fraction"]) / (point.n - before.n)
            # the capacities it changes are checked above: the wetting itself counts
            # as a smooth column (it falls over the last tens of cycles of a lean cell)
            interpolation.append(chord * SMOOTH_INTERPOLATION_WEIGHT * abs(result.row["wetting_fraction"] - trend))
        ratios = (integration / self.tolerance, max(interpolation) / self.interpolation_tolerance)
        factor = min(SAFETY * ratio ** -exponent if ratio > 0 else math.inf
                     for ratio, exponent in zip(ratios, (1 / 3, 1 / 2)))
        return max(ratios), factor

    def _long_dry_out(self) -> bool:
        """Whether the initial electrolyte lasts more than DRY_OUT_LONG_CYCLES cycles of
        the consumption of cycle 2 (the first regular cycle; False before it is known)."""
        if len(self.points) < 2:
            return False
        per_cycle = -self.points[1].increment[ELECTROLYTE]
        return bool(per_cycle <= 0 or self.cycler.initial_state[ELECTROLYTE] > DRY_OUT_LONG_CYCLES * per_cycle)

    def _electrolyte_scale(self, point: _Point) -> float:
        """What an electrolyte error [kg/m2] counts against in a step from `point`: a
        fraction of what is left (ELECTROLYTE_SCALE), and near dry-out a fraction of one
        cycle's consumption (DRY_OUT_SCALE_CYCLES), whichever is smaller."""
        left = max(point.state[ELECTROLYTE], 1e-3 * self.cycler.initial_state[ELECTROLYTE])
        scale = ELECTROLYTE_SCALE * left
        if self._near_dry_out(point):
            scale = min(scale, DRY_OUT_SCALE_CYCLES * -point.increment[ELECTROLYTE])
        return scale

    def _near_dry_out(self, point: _Point, cycles: float | None = None) -> bool:
        """Whether the electrolyte left at the end of cycle n lasts less than `cycles`
        cycles (default DRY_OUT_WINDOW_CYCLES, read at call time so a study that sets
        the module constant is honoured) of the consumption of cycle n+1, in a design
        whose electrolyte lasts long (`_long_dry_out`)."""
        window = DRY_OUT_WINDOW_CYCLES if cycles is None else cycles
        left = self._electrolyte_cycles_left(point)
        return self._long_dry_out() and left < window and left < self._dry_out_horizon_cycles(point)

    def _dry_out_horizon_cycles(self, point: _Point) -> float:
        """How many cycles of electrolyte can be left before dry-out may end the life:
        DRY_OUT_LI_MARGIN times the cycles the Li inventory lasts at its present loss
        (`_li_cycles_left`) plus DRY_OUT_SINGLE_CYCLES. A cell whose Li runs out well
        before its electrolyte (a flooded cell) ends at the knee, where the electrolyte
        only sets the wetting of an intact cell: its electrolyte keeps the ordinary
        tolerance (ELECTROLYTE_SCALE of what is left)."""
        return DRY_OUT_LI_MARGIN * self._li_cycles_left(point) + DRY_OUT_SINGLE_CYCLES

    def _li_cycles_left(self, point: _Point) -> float:
        """Cycles from cycle n+1 to the end of life by Li loss alone (inf without a loss
        trend): to the knee at the present fall of active Li, then, anode-limited, the
        capacity above the threshold at the Li lost per cycle."""
        trend = self._end_state_trend(point)
        end = self._end(point)
        lost_mol_m2 = float(trend[LOST].sum())
        if lost_mol_m2 <= 0:
            return math.inf
        after_knee = (point.row["discharge_capacity_mAh_cm2"] - self.threshold_mAh_cm2) / (
            lost_mol_m2 * MAH_CM2_PER_MOL_M2)
        if self._past_knee(end):
            return max(after_knee, 0.0)
        if trend[ACTIVE] >= 0:
            return math.inf
        return float(end[ACTIVE] / -trend[ACTIVE]) + max(after_knee, 0.0)

    @staticmethod
    def _electrolyte_cycles_left(point: _Point) -> float:
        """Cycles the electrolyte left at the end of cycle n lasts at the consumption of
        cycle n+1 (inf when none is consumed)."""
        per_cycle = -point.increment[ELECTROLYTE]
        return float(point.state[ELECTROLYTE] / per_cycle) if per_cycle > 0 else math.inf

    def _interpolation_error(self, point: _Point, h: int, slope: np.ndarray, result: CycleResult) -> float:
        """How far the skipped cycles n+2 .. n+h, interpolated linearly between the
        simulated cycles n+1 and n+h+1, lie from the step's own prediction of them
        (large across a kink)."""
        end = self._end(point)
        weights = np.ones(STATE_COUNT)
        weights[[i for i in range(STATE_COUNT) if i not in (ACTIVE, CATHODE)]] = SMOOTH_INTERPOLATION_WEIGHT
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
        correction[self.accumulating] = (h * (h - 1) / 2 * (seen - slope))[self.accumulating]
        lost = correction[LOST].sum()
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
    """Every cycle 1..last_cycle as a DataFrame (`fill_skipped_table`)."""
    return fill_skipped_table(rows, last_cycle, protocol).to_frame()


def fill_skipped_table(rows: Mapping[int, Mapping[str, Any]], last_cycle: int,
                       protocol: Protocol) -> CycleTable:
    """Every cycle 1..last_cycle: simulated rows as they are, skipped regular cycles
    linearly interpolated between the simulated regular cycles around them."""
    simulated = CycleTable.from_rows([row for _, row in sorted(rows.items())])
    missing = np.array([k for k in range(1, last_cycle + 1) if k not in rows], dtype=np.int64)
    if len(missing) == 0:
        return simulated
    regular = ~simulated["checkup"]
    anchors = simulated["cycle"][regular].astype(float)
    filled: dict[str, Any] = {"cycle": missing}
    for column in SUMMARY_COLUMNS:
        if column in ("cycle", "simulated", "checkup"):
            continue
        filled[column] = np.interp(missing.astype(float), anchors, simulated[column][regular])
    filled["simulated"] = np.zeros(len(missing), dtype=bool)
    filled["checkup"] = [protocol.is_checkup(int(k)) for k in missing]
    filled_table = CycleTable({column: filled[column] for column in SUMMARY_COLUMNS})
    # every cycle once: the simulated ones and the missing ones, in cycle order
    order = np.argsort(np.concatenate((simulated["cycle"], missing)), kind="stable")
    table = CycleTable({column: np.concatenate((simulated[column], filled_table[column]))[order]
                        for column in SUMMARY_COLUMNS})
    return _consistent_efficiencies(table)


def _consistent_efficiencies(table: CycleTable) -> CycleTable:
    """Skipped cycles' charge capacity and cell Coulombic efficiency made consistent with
    the interpolated discharge capacities, as they are in simulated cycles: a charge
    takes out of the cathode what the discharge before put in, so charge_n =
    Q_(n-1) + d_n with d_n (~0; the charge's shortfall near dry-out) interpolated
    between pairs of consecutive simulated cycles, and CE_n = Q_n / charge_n (= Q_n / Q_(n-1) when d_n
    = 0). `table`: every cycle 1..N in order."""
    discharge = table["discharge_capacity_mAh_cm2"]
    charge = table["charge_capacity_mAh_cm2"].copy()
    skipped = ~table["simulated"]
    regular = ~skipped & ~table["checkup"]
    # d is measured where a simulated cycle follows a simulated one (an interpolated
    # Q_(n-1) would put the interpolation error into it)
    anchors = np.flatnonzero(regular[1:] & regular[:-1]) + 1
    if not skipped.any() or len(anchors) == 0:
        return table
    previous = np.concatenate(([np.nan], discharge[:-1]))  # Q_(n-1)
    cycles = table["cycle"].astype(float)
    shortfall = np.interp(cycles, cycles[anchors], charge[anchors] - previous[anchors])
    rows = np.flatnonzero(skipped)
    rows = rows[rows > 0]
    charge[rows] = previous[rows] + shortfall[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(charge > 0, discharge / charge, np.nan)
    coulombic = table["coulombic_efficiency"].copy()
    coulombic[rows] = efficiency[rows]
    return table.with_column("charge_capacity_mAh_cm2", charge).with_column("coulombic_efficiency", coulombic)


def run_cycle_skipping(cycler: CycleMap, eol_fraction: float, max_cycles: int, *,
                       tolerance: float = DEFAULT_TOLERANCE,
                       interpolation_tolerance: float = DEFAULT_INTERPOLATION_TOLERANCE,
                       progress: Callable[[int], None] | None = None) -> LifeOutcome:
    """Cycle `cycler` by cycle skipping until the first cycle below `eol_fraction` x the
    first capacity, a cycle it cannot complete, or `max_cycles`; every cycle reported
    (skipped ones interpolated, column simulated False)."""
    if not (tolerance > 0 and interpolation_tolerance > 0):
        raise SimulationError(f"tolerances must be positive, got {tolerance}, {interpolation_tolerance}")
    integrator = CycleSkippingIntegrator(cycler, eol_fraction, max_cycles, tolerance,
                                         interpolation_tolerance, progress)
    integrator.run()
    last_cycle = integrator.last_cycle()
    notes = [f"fast mode: {integrator.simulated} cycles simulated "
             f"({integrator.rejected} rejected steps) for {last_cycle} cycles"]
    if integrator.life is None and integrator.failed_cycle is not None:
        notes.append(f"the cell could not complete cycle {integrator.failed_cycle}")
    return LifeOutcome(
        cycles=fill_skipped_table(integrator.rows, last_cycle, cycler.protocol),
        below_cycle=integrator.life, failed_cycle=integrator.failed_cycle, notes=notes,
        # full-model cycle solves, including those of steps the error control rejected
        simulated_cycles=integrator.simulated,
    )
