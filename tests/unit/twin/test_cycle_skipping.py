"""The cycle-skipping integrator on a synthetic cycle map (no PyBaMM): it must find the
same end of life as cycling every cycle, while simulating far fewer."""

from __future__ import annotations

import numpy as np
import pytest

from twin.cycle_rows import SUMMARY_COLUMNS, cycle_rows
from twin.cycle_skipping import (
    ACCUMULATING, ACTIVE, AREA, CATHODE, DEAD, DRY_OUT_LONG_CYCLES, DRY_OUT_SINGLE_CYCLES, ELECTROLYTE, RELAXING, SEI,
    SHORT_LIFE_CYCLES, STATE_COUNT,
    CycleResult, _longest_step, chord_error_weight, classify_states, fill_skipped_cycles, run_cycle_skipping,
)
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.units import mol_per_m2_from_mAh_per_cm2


class LossyCell:
    """A cell whose every cycle plates all the cathode's Li and loses a fraction of a
    cycle's Li (2/3 dead, 1/3 SEI; the loss grows with the dead Li, so the map is not
    linear); the discharge strips back what the anode holds, up to the cathode's
    capacity. Capacity is flat while excess Li lasts, then fades: a knee."""

    def __init__(self, np_ratio: float = 1.0, loss_fraction: float = 0.01, checkup_every: int = 0) -> None:
        self.design = CellDesign(np_ratio=np_ratio)
        self.protocol = Protocol(checkup_every=checkup_every)
        self.q = mol_per_m2_from_mAh_per_cm2(self.design.areal_capacity_mAh_cm2)
        self.loss_fraction = loss_fraction
        # no porous foil; 0.1 mol/m2 of salt, untouched; the cathode keeps all its
        # material (the two states after the cathode's Li); no activation clock (the last)
        self.initial_state = np.array([np_ratio * self.q, 0.0, 0.0, 0.0, 1.0, 0.05, 0.0, 0.1, self.q, 1.0, 0.0,
                                       0.0])
        self.maximum_area_factor = 5.0
        self.calls = 0

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        self.calls += 1
        s = state
        plated = s[CATHODE]
        loss = self.loss_fraction * plated * (1 + 0.5 * s[DEAD] / self.q)
        on_anode = s[ACTIVE] + plated - loss
        if on_anode <= 0:
            return None
        stripped = min(self.q, on_anode)
        end = s.copy()
        end[ACTIVE] = on_anode - stripped
        end[DEAD] += 2 / 3 * loss
        end[SEI] += 1 / 3 * loss
        end[ELECTROLYTE] -= 1e-5
        end[CATHODE] = stripped
        row = {"cycle": 1, **cycle_rows(
            areal_capacity_mAh_cm2=self.design.areal_capacity_mAh_cm2, plated_mol_m2=plated,
            stripped_mol_m2=stripped, lost_mol_m2=loss, active_li_mol_m2=end[ACTIVE], dead_li_mol_m2=end[DEAD],
            sei_li_mol_m2=end[SEI], cathode_li_mol_m2=end[CATHODE], total_li_mol_m2=float(end[[0, 1, 2, 3, CATHODE]].sum()),
            anode_thickness_m=1e-5, swelling_pct=0.0, electrolyte_kg_m2=end[ELECTROLYTE], wetting_fraction=1.0,
            surface_area_factor=end[AREA]), "simulated": True, "checkup": checkup}
        return CycleResult(row, end)

    def project(self, state: np.ndarray) -> np.ndarray:
        state = state.copy()
        if state[ACTIVE] < 0:
            state[CATHODE] += state[ACTIVE]
            state[ACTIVE] = 0.0
        state[[DEAD, SEI]] = np.maximum(state[[DEAD, SEI]], 0.0)
        state[CATHODE] = min(max(state[CATHODE], 0.0), self.q)
        return state


def every_cycle(cell: LossyCell, eol_fraction: float, max_cycles: int) -> list[dict]:
    """Reference: cycle after cycle from the exact end state, until below eol."""
    rows, state = [], cell.initial_state
    for k in range(1, max_cycles + 1):
        result = cell.cycle(state)
        rows.append({**result.row, "cycle": k})
        state = result.end_state
        if result.row["discharge_capacity_mAh_cm2"] < eol_fraction * rows[0]["discharge_capacity_mAh_cm2"]:
            break
    return rows


@pytest.mark.parametrize(("np_ratio", "loss_fraction"), [(1.0, 0.01), (2.0, 0.004), (0.5, 0.005)])
def test_cycle_skipping_finds_the_end_of_life_of_cycling_every_cycle(np_ratio, loss_fraction):
    reference = every_cycle(LossyCell(np_ratio, loss_fraction), 0.8, 5000)
    cell = LossyCell(np_ratio, loss_fraction)
    outcome = run_cycle_skipping(cell, 0.8, 5000)
    life = reference[-1]["cycle"]
    assert outcome.below_cycle == life
    assert outcome.failed_cycle is None
    # far fewer cycles simulated than cycled (the knee and the end of life are resolved)
    assert outcome.simulated_cycles == cell.calls < life / 3
    table = outcome.cycles.to_frame()
    assert list(table.columns) == SUMMARY_COLUMNS
    assert table["cycle"].tolist() == list(range(1, outcome.below_cycle + 1))
    assert table["simulated"].iloc[0] and table["simulated"].iloc[-1] and not table["simulated"].all()
    # capacity at every cycle (interpolated ones too) within 1 % of the reference
    q_ref = np.array([r["discharge_capacity_mAh_cm2"] for r in reference])
    n = min(len(q_ref), len(table))
    assert np.abs(table["discharge_capacity_mAh_cm2"].to_numpy()[:n] - q_ref[:n]).max() < 0.01 * q_ref[0]


def test_cycle_skipping_stops_at_max_cycles_alive():
    cell = LossyCell(2.0, 0.004)
    outcome = run_cycle_skipping(cell, 0.8, 50)
    assert outcome.below_cycle is None and outcome.failed_cycle is None
    assert outcome.cycles.to_frame()["cycle"].iloc[-1] == 50


def test_check_up_cycles_are_always_simulated():
    cell = LossyCell(1.0, 0.01, checkup_every=20)
    outcome = run_cycle_skipping(cell, 0.8, 5000)
    checkups = outcome.cycles.to_frame()[outcome.cycles.to_frame()["checkup"]]
    assert len(checkups) and checkups["simulated"].all()
    assert (checkups["cycle"] % 20 == 0).all()


def test_non_positive_tolerances_are_refused():
    from twin.errors import SimulationError

    with pytest.raises(SimulationError, match="tolerances must be positive"):
        run_cycle_skipping(LossyCell(), 0.8, 10, tolerance=0.0)


def test_skipped_cycles_are_interpolated_between_simulated_ones():
    protocol = Protocol()
    rows = {k: {**{c: float(k) for c in SUMMARY_COLUMNS}, "cycle": k, "simulated": True, "checkup": False}
            for k in (1, 5)}
    table = fill_skipped_cycles(rows, 5, protocol)
    assert table["cycle"].tolist() == [1, 2, 3, 4, 5]
    assert table["discharge_capacity_mAh_cm2"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert table["simulated"].tolist() == [True, False, False, False, True]


class RevivingCell(LossyCell):
    """LossyCell whose dead Li is revived at a first-order rate: a cycle returns
    (1 - retention) of the dead Li at its start to the anode (an iodine-type host)."""

    def __init__(self, *args, retention: float = 0.3, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retention = retention

    def retention_per_cycle(self, first: CycleResult) -> dict[int, float]:
        return {DEAD: self.retention}

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        revived = (1 - self.retention) * state[DEAD]
        start = state.copy()
        start[DEAD] -= revived
        start[ACTIVE] += revived
        return super().cycle(start, checkup)


class UndeclaredRevivingCell(RevivingCell):
    """The same cell, not saying how much dead Li a cycle keeps."""

    retention_per_cycle = None


def simulated_cycles(outcome) -> np.ndarray:
    table = outcome.cycles.to_frame()
    return table.loc[table["simulated"], "cycle"].to_numpy()


def test_the_step_controller_takes_long_steps_on_a_smooth_map_within_tolerance():
    # N:P 3, 0.3 % of a cycle's Li lost: 730 cycles, smooth until the knee
    reference = every_cycle(LossyCell(3.0, 0.003), 0.8, 5000)
    cell = LossyCell(3.0, 0.003)
    outcome = run_cycle_skipping(cell, 0.8, 5000)
    assert outcome.below_cycle == reference[-1]["cycle"] == 730
    assert cell.calls < 40  # not one solve per few cycles
    assert np.diff(simulated_cycles(outcome)).max() >= 40
    q_ref = np.array([r["discharge_capacity_mAh_cm2"] for r in reference])
    q = outcome.cycles.to_frame()["discharge_capacity_mAh_cm2"].to_numpy()
    assert np.abs(q - q_ref).max() < 2.5e-3 * q_ref[0]  # the interpolation tolerance


@pytest.mark.parametrize(("np_ratio", "loss_fraction"), [(0.0, 0.01), (1.0, 0.06)])
def test_a_short_life_is_simulated_cycle_by_cycle(np_ratio, loss_fraction):
    # anode-free, 1 % lost per cycle: fading from the start, 23 cycles; N:P 1, 6 % lost
    # per cycle: flat capacity, the knee at cycle ~15, 18 cycles
    cell = LossyCell(np_ratio, loss_fraction)
    outcome = run_cycle_skipping(cell, 0.8, 5000)
    life = every_cycle(LossyCell(np_ratio, loss_fraction), 0.8, 5000)[-1]["cycle"]
    assert outcome.below_cycle == life < SHORT_LIFE_CYCLES
    assert outcome.cycles.to_frame()["simulated"].all()
    assert cell.calls == outcome.below_cycle


def test_skipped_cycles_keep_the_cell_efficiency_of_their_capacities():
    # anode-free, 0.2 % lost per cycle: 109 cycles, skipped ones among them; in the cell
    # every charge plates what the discharge before returned, so CE_n = Q_n / Q_(n-1)
    outcome = run_cycle_skipping(LossyCell(0.0, 0.002), 0.8, 5000)
    table = outcome.cycles.to_frame()
    assert outcome.below_cycle == 109 and not table["simulated"].all()
    q = table["discharge_capacity_mAh_cm2"].to_numpy()
    ratio = q[1:] / q[:-1]
    skipped = ~table["simulated"].to_numpy()[1:]
    # (the corrector moves a step's start by ~1e-7 of a cycle's Li, the 8e-3)
    assert np.abs(table["coulombic_efficiency"].to_numpy()[1:][skipped] - ratio[skipped]).max() < 1e-6
    assert np.abs(table["charge_capacity_mAh_cm2"].to_numpy()[1:][skipped] - q[:-1][skipped]).max() < 1e-6 * q[0]


def test_revived_dead_li_is_classified_relaxing_only_when_it_relaxes_within_a_cycle():
    assert classify_states(np.ones(STATE_COUNT)) == (ACCUMULATING, RELAXING)
    kept = np.ones(STATE_COUNT)
    kept[DEAD] = 0.9  # slow revival: still integrated
    assert classify_states(kept) == (ACCUMULATING, RELAXING)
    kept[DEAD] = 0.3
    accumulating, relaxing = classify_states(kept)
    assert DEAD in relaxing and DEAD not in accumulating and SEI in accumulating


@pytest.mark.parametrize("retention", [0.3, 0.6])
def test_a_cell_reviving_its_dead_li_is_skipped_as_far_as_one_that_does_not(retention):
    reference = every_cycle(RevivingCell(2.0, 0.01, retention=retention), 0.8, 5000)
    declared = RevivingCell(2.0, 0.01, retention=retention)
    outcome = run_cycle_skipping(declared, 0.8, 5000)
    assert outcome.below_cycle == reference[-1]["cycle"]
    assert declared.calls < 40
    # the same map integrated as if dead Li only accumulated: stiff, short steps
    undeclared = UndeclaredRevivingCell(2.0, 0.01, retention=retention)
    run_cycle_skipping(undeclared, 0.8, 5000)
    assert undeclared.calls > 5 * declared.calls


@pytest.mark.parametrize("last_fitting", [1, 2, 7, 63, 64, 100])
def test_the_longest_step_bisection_agrees_with_walking_one_cycle_at_a_time(last_fitting):
    asked = []

    def fits(h: int) -> bool:
        asked.append(h)
        return h <= last_fitting

    limit = 100
    walked = 1
    while walked < limit and fits(walked + 1):
        walked += 1
    asked.clear()
    assert _longest_step(limit, fits) == walked
    assert len(asked) <= 8  # log2(100) + 1 predictions, not one per cycle


@pytest.mark.parametrize("h, spacing", [(1, 1), (2, 1), (3, 3), (10, 4), (5, 20)])
def test_the_chord_weight_turns_a_deviation_into_the_interpolation_error_of_a_parabola(h, spacing):
    # capacity falling on a parabola, simulated at cycles -spacing, 0 and h: the step's
    # deviation from the line through the first two, times the weight, is how far the
    # chord from 0 to h misses the curve at worst (c'' h^2 / 8, at the middle)
    def capacity(n):
        return 3.7 - 0.002 * n - 0.0015 * n**2

    trend = capacity(0) + h * (capacity(0) - capacity(-spacing)) / spacing
    deviation = abs(capacity(h) - trend)
    middle = np.linspace(0, h, 2001)
    chord = capacity(0) + (capacity(h) - capacity(0)) * middle / h
    worst = np.abs(capacity(middle) - chord).max()
    assert chord_error_weight(h, spacing) * deviation == pytest.approx(worst, rel=1e-6)


class DryingCell(LossyCell):
    """A cell that loses no Li but consumes `consumption` kg/m2 of electrolyte a cycle,
    and strips only the fraction of its Li that the electrolyte left at the end of the
    cycle wets, up to five cycles' consumption: its capacity is flat, then falls off a
    cliff over the last few cycles before the electrolyte runs out."""

    def __init__(self, cycles_of_electrolyte: float, consumption: float = 1e-4) -> None:
        super().__init__(np_ratio=1.0, loss_fraction=0.0)
        self.consumption = consumption
        self.initial_state[ELECTROLYTE] = cycles_of_electrolyte * consumption

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        result = super().cycle(state, checkup)
        end = result.end_state
        end[ELECTROLYTE] = state[ELECTROLYTE] - self.consumption
        wetted = min(1.0, max(end[ELECTROLYTE] - self.consumption, 0.0) / (5 * self.consumption))
        stripped = wetted * end[CATHODE]
        end[ACTIVE] += end[CATHODE] - stripped
        end[CATHODE] = stripped
        result.row["discharge_capacity_mAh_cm2"] *= wetted
        return result


@pytest.mark.parametrize(("cycles_of_electrolyte", "dry_out_control"), [(600, True), (200, False)])
def test_the_dry_out_cliff_is_simulated_cycle_by_cycle_in_a_long_lived_lean_cell(cycles_of_electrolyte,
                                                                                 dry_out_control):
    # electrolyte for 600 cycles: the last DRY_OUT_SINGLE_CYCLES cycles before dry-out
    # are all simulated; for 200 cycles (fewer than DRY_OUT_LONG_CYCLES: few steps, no
    # error to add up) the steps are those of any other cell
    outcome = run_cycle_skipping(DryingCell(cycles_of_electrolyte), 0.8, 5000)
    life = every_cycle(DryingCell(cycles_of_electrolyte), 0.8, 5000)[-1]["cycle"]
    assert outcome.below_cycle == life
    last = set(range(life - int(DRY_OUT_SINGLE_CYCLES) + 5, life + 1))
    assert last.issubset(simulated_cycles(outcome)) == dry_out_control
    assert cycles_of_electrolyte > DRY_OUT_LONG_CYCLES or not dry_out_control


class ConsumingCell(LossyCell):
    """A LossyCell whose electrolyte consumption (1e-5 kg/m2 a cycle when fresh) grows
    with its dead Li, as the Li surface it reacts on does."""

    def cycle(self, state: np.ndarray, checkup: bool = False) -> CycleResult | None:
        result = super().cycle(state, checkup)
        if result is not None:
            result.end_state[ELECTROLYTE] = state[ELECTROLYTE] - 1e-5 * (1 + state[DEAD] / self.q) ** 2
        return result


def test_a_cell_whose_li_runs_out_long_before_its_electrolyte_is_not_held_to_the_dry_out_control(monkeypatch):
    # Li for ~100 cycles, electrolyte for 350 (< DRY_OUT_WINDOW_CYCLES, > DRY_OUT_LONG_CYCLES):
    # the life ends at the knee, so the electrolyte keeps the ordinary tolerance; held to
    # the dry-out control (a margin so large it always applies: the old rule) the steps
    # are far shorter for the same life
    import twin.cycle_skipping as cycle_skipping

    def cell() -> LossyCell:
        lossy = ConsumingCell(np_ratio=1.0, loss_fraction=0.01)
        lossy.initial_state[ELECTROLYTE] = 350 * 1e-5
        return lossy

    life = every_cycle(cell(), 0.8, 2000)[-1]["cycle"]
    free = run_cycle_skipping(cell(), 0.8, 2000)
    monkeypatch.setattr(cycle_skipping, "DRY_OUT_LI_MARGIN", 1e9)
    held = run_cycle_skipping(cell(), 0.8, 2000)
    assert free.below_cycle == held.below_cycle == life
    assert free.simulated_cycles < 0.6 * held.simulated_cycles
