"""The fleet (kernel) prior: learned from training cells only, conditioned on the electrolyte."""

import numpy as np
import pytest
from scipy.stats import qmc

from twin.calibration.crossval import Cell, Variant, cross_validate, fleet_fit, tune_fleet_settings
from twin.calibration.fleet_prior import learn_fleet_prior
from twin.calibration.library import SimulationLibrary
from twin.calibration.prior import PriorError

HORIZON = 150
LOG = [True, False]
MEASURED = np.array([1] + list(range(10, HORIZON + 1, 10)))


def curve(a: float, c: float, n: np.ndarray) -> np.ndarray:
    return np.exp(-a * (np.asarray(n, dtype=float) - 1.0) ** c)


@pytest.fixture(scope="module")
def library() -> SimulationLibrary:
    unit = qmc.Sobol(d=2, scramble=True, seed=3).random(1024)
    values = np.column_stack([10.0 ** (-3.0 + 2.0 * unit[:, 0]), 0.6 + 0.8 * unit[:, 1]])
    retention = np.vstack([curve(a, c, np.arange(1, HORIZON + 1)) for a, c in values])
    return SimulationLibrary(["a", "c"], values, retention, "synthetic")


def fleet_by_concentration(per_group: int, seed: int = 0) -> list[Cell]:
    """The fade shape c depends on the salt concentration: 1 M cells accelerate
    (c = 1.2), 2 M cells slow down (c = 0.8); the same loss by cycle 30, so their first
    30 cycles look alike and only the concentration tells the later fade."""
    rng = np.random.default_rng(seed)
    cells = []
    for conc, c in ((1.0, 1.2), (2.0, 0.8)):
        for i in range(per_group):
            a = 0.114 / 29.0 ** c * 10 ** rng.normal(0, 0.03)
            q = 0.8 * curve(a, c + rng.normal(0, 0.02), MEASURED) + rng.normal(0, 0.003, len(MEASURED))
            cells.append(Cell(f"C{conc:g}-{i}", MEASURED.copy(), np.clip(q, 1e-4, None),
                              {"salt_conc_M": conc, "solvent_smiles": "COCCOC"}))
    return cells


def test_the_fleet_prior_puts_a_new_cell_where_its_electrolyte_s_cells_are(library):
    cells = fleet_by_concentration(8)
    fits = [fleet_fit(library, c, 1) for c in cells]
    prior = learn_fleet_prior(np.vstack([f.values for f in fits]), [f.cell_id for f in fits],
                              [c.meta for c in cells], library.names, LOG, 0.003, bandwidth=0.05)
    for conc, c in ((1.0, 1.2), (2.0, 0.8)):
        density = prior.log_density(library.values, {"salt_conc_M": conc, "solvent_smiles": "COCCOC"})
        weights = np.exp(density - density.max())
        mean_c = float(weights @ library.values[:, 1] / weights.sum())
        assert mean_c == pytest.approx(c, abs=0.05)
    # an electrolyte the fleet never saw: every cell counts, the prior spans both shapes
    unknown = prior.cell_weights({"salt_conc_M": 3.0, "solvent_smiles": "CCO"})
    assert unknown == pytest.approx(np.full(len(cells), 1.0 / len(cells)))


def test_the_electrolyte_conditioned_forecast_beats_the_unconditioned_one(library):
    cells = fleet_by_concentration(6, seed=1)
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in cells}
    grid = ((0.1, 1.0),)
    conditioned = cross_validate(library, cells, fits, 30, 1, LOG, 0.8, Variant("f", True, kind="fleet",
                                                                                  fleet_grid=grid))
    ignored = cross_validate(library, cells, fits, 30, 1, LOG, 0.8, Variant("g", True, kind="fleet",
                                                                             fleet_grid=grid, fleet_affinity=0.0))
    mae = np.mean([r["mae"]["twin"] for r in conditioned])
    assert mae < 0.6 * np.mean([r["mae"]["twin"] for r in ignored])
    assert mae < 0.6 * np.mean([r["mae"]["geometric"] for r in conditioned])


def test_the_test_cell_never_reaches_its_fleet_prior(library):
    cells = fleet_by_concentration(4, seed=2)
    short = [Cell(c.cell_id, c.cycles[c.cycles <= 40], c.capacity[c.cycles <= 40], c.meta) for c in cells[1:]]
    fleet = [Cell("LEAK", cells[0].cycles, cells[0].capacity, cells[0].meta), *short]
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in fleet}
    seen: list[list[str]] = []

    def spy(values, ids, *args, **kwargs):
        seen.append(list(ids))
        return learn_fleet_prior(values, ids, *args, **kwargs)

    rows = cross_validate(library, fleet, fits, 30, 1, LOG, 0.8,
                          Variant("f", True, kind="fleet", fleet_grid=((0.3, 1.0), (0.3, 0.5))), learn_fleet=spy)
    assert [r["cell_id"] for r in rows] == ["LEAK"]
    assert seen and all("LEAK" not in ids for ids in seen)
    assert any(len(ids) == len(short) for ids in seen)


def test_the_affinity_learned_per_fold_comes_from_training_cells_only(library):
    """Everything a fold tunes (width, likelihood scale, affinity, band growth) and its
    forecast must not move when the test cell's life after the fit window changes (and
    with it its full-life fit): they are learned without it."""
    cells = fleet_by_concentration(4, seed=4)
    test = cells[0]
    late = test.cycles > 30
    changed = Cell(test.cell_id, test.cycles, np.where(late, 0.3 * test.capacity, test.capacity), test.meta)
    variant = Variant("f", True, kind="fleet", fleet_grid=((0.1, 1.0), (0.3, 0.5)), fleet_affinities=(0.0, 10.0))
    rows = []
    for first in (test, changed):
        fleet = [first, *cells[1:]]
        fits = {c.cell_id: fleet_fit(library, c, 1) for c in fleet}
        rows.append(cross_validate(library, fleet, fits, 30, 1, LOG, 0.8, variant)[0])
    assert rows[0]["cell_id"] == rows[1]["cell_id"] == test.cell_id
    assert rows[0]["fleet"] == rows[1]["fleet"] and set(rows[0]["fleet"]) == {"bandwidth", "likelihood_scale",
                                                                              "affinity"}
    assert rows[0]["discrepancy_per_cycle"] == rows[1]["discrepancy_per_cycle"]
    assert rows[0]["band"]["p50"] == rows[1]["band"]["p50"]
    assert rows[0]["mae"]["twin"] != rows[1]["mae"]["twin"]  # the score does see the changed data


def test_every_prior_a_fold_tunes_its_affinity_with_leaves_out_the_test_cell(library):
    """Leave-one-out inside leave-one-out: of the N cells, a fold's final prior holds the
    N - 1 training cells, and every prior of its inner tuning N - 2 (an inner cell out
    too). A tuning that saw the test cell would learn priors of N - 1 cells in the loop."""
    cells = fleet_by_concentration(3, seed=6)
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in cells}
    sizes: list[int] = []

    def spy(values, ids, *args, **kwargs):
        sizes.append(len(ids))
        return learn_fleet_prior(values, ids, *args, **kwargs)

    variant = Variant("f", True, kind="fleet", fleet_grid=((0.1, 1.0), (0.3, 0.5)), fleet_affinities=(0.0, 10.0))
    rows = cross_validate(library, cells, fits, 30, 1, LOG, 0.8, variant, learn_fleet=spy)
    n = len(cells)
    assert len(rows) == n and set(sizes) == {n - 1, n - 2}
    assert sizes.count(n - 1) == len(rows)


def test_the_inner_leave_one_out_chooses_the_electrolyte_back_off_when_the_electrolyte_decides_the_fade(library):
    cells = fleet_by_concentration(5, seed=5)
    fits = {c.cell_id: fleet_fit(library, c, 1) for c in cells}
    _, _, affinity = tune_fleet_settings(library, cells, fits, 30, 1, LOG, ((0.1, 1.0),), (0.0, 10.0))
    assert affinity == 10.0
    # the same fleet with every cell labelled alike: no electrolyte to back off to, 0 ties and wins (first)
    alike = [Cell(c.cell_id, c.cycles, c.capacity, {"salt_conc_M": 1.0, "solvent_smiles": "COCCOC"}) for c in cells]
    _, _, affinity = tune_fleet_settings(library, alike, fits, 30, 1, LOG, ((0.1, 1.0),), (0.0, 10.0))
    assert affinity == 0.0


def test_a_fleet_prior_needs_three_distinct_cells():
    with pytest.raises(PriorError, match="needs fits of at least 3 cells"):
        learn_fleet_prior(np.ones((2, 2)), ["a", "b"], [{}, {}], ["x", "y"], LOG, 0.01)
    with pytest.raises(PriorError, match="a cell appears twice"):
        learn_fleet_prior(np.ones((3, 2)), ["a", "a", "b"], [{}, {}, {}], ["x", "y"], LOG, 0.01)


def test_a_saved_fleet_prior_loads_back_identically_and_starts_at_its_electrolyte_s_cells(tmp_path, library):
    from twin.calibration.prior import load_prior

    cells = fleet_by_concentration(3)
    fits = [fleet_fit(library, c, 1) for c in cells]
    prior = learn_fleet_prior(np.vstack([f.values for f in fits]), [f.cell_id for f in fits],
                              [c.meta for c in cells], library.names, LOG, 0.003, bandwidth=0.2,
                              likelihood_scale=0.5, discrepancy_per_cycle=1e-4)
    loaded = load_prior(prior.save(tmp_path / "fleet.prior.json"))
    meta = {"salt_conc_M": 2.0, "solvent_smiles": "COCCOC"}
    assert loaded.source == "fleet.prior.json" and loaded.content_hash() == prior.content_hash()
    assert np.allclose(loaded.mahalanobis2(library.values, meta), prior.mahalanobis2(library.values, meta))
    assert loaded.mahalanobis2(library.values, meta).min() >= 0.0
    assert loaded.likelihood_sd == pytest.approx(0.0015)
    starts = loaded.starting_points(meta, count=3)
    assert [s["c"] for s in starts] == pytest.approx([f.values[1] for f in fits[3:]])  # the 2 M cells first


def test_a_malformed_fleet_prior_file_is_named(tmp_path):
    from twin.calibration.prior import load_prior

    path = tmp_path / "bad.json"
    path.write_text('{"format": "twin-fleet-prior", "version": 1, "parameters": []}')
    with pytest.raises(PriorError, match=r"prior file bad.json: malformed fleet prior \(KeyError: 'points'\)"):
        load_prior(path)


def _small_prior(**changes):
    from twin.calibration.fleet_prior import FleetKernelPrior
    values = dict(names=["a", "c"], log=[False, False], points=np.array([[0.1, 1.0], [0.2, 2.0], [0.3, 3.0]]),
                  cells=["X1", "X2", "X3"], groups=[(1.0, "DME"), (1.0, "DME"), (4.0, "DME")], noise_sd=0.01)
    values.update(changes)
    return FleetKernelPrior(**values)


def test_a_cell_is_left_out_of_a_fleet_prior_that_holds_its_own_fit():
    prior = _small_prior()
    mine = prior.without_cell("X2")
    assert mine.cells == ["X1", "X3"]
    np.testing.assert_array_equal(mine.points, [[0.1, 1.0], [0.3, 3.0]])
    assert mine.groups == [(1.0, "DME"), (4.0, "DME")]
    assert prior.without_cell("someone else") is prior


@pytest.mark.parametrize(("changes", "message"), [
    ({"points": np.array([[0.1, np.nan], [0.2, 2.0], [0.3, 3.0]])}, "fitted parameters are not finite"),
    ({"noise_sd": float("inf")}, "noise_sd must be a finite number > 0, got inf"),
    ({"bandwidth": float("nan")}, "bandwidth must be a finite number > 0, got nan"),
    ({"discrepancy_per_cycle": -0.1}, "discrepancy_per_cycle must be a finite number >= 0, got -0.1"),
])
def test_a_fleet_prior_with_non_finite_numbers_is_refused_naming_them(changes, message):
    with pytest.raises(PriorError, match=message):
        _small_prior(**changes)
