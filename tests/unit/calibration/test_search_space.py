"""Search spaces, recipes and the pure parts of the objective (no solves)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.calibration.objective import CAPACITY_SCALE_BOUNDS, FitTarget, best_scale, capacity_loss, simulated_retention
from twin.calibration.search_space import (
    CELL_TYPES, DEAD_LI_FRACTION, SEI_RATE, DesignChoice, ParameterSpec, RecipeError, SearchSpace,
    default_search_space, load_recipe, recipe_from_dict,
)
from twin.calibration.tracking import mlflow_key
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.submodels.options import LithiumMetalOptions

pytestmark = pytest.mark.unit

RECIPES = Path(__file__).resolve().parents[3] / "experiments" / "recipes"
TWIN_NAMES = set(lithium_metal_anode_parameter_values())


@pytest.mark.parametrize("cell_type", CELL_TYPES)
def test_default_spaces_name_real_twin_parameters_with_sane_bounds(cell_type):
    space = default_search_space(cell_type)
    for spec in space.parameters:
        assert spec.name in TWIN_NAMES
        assert spec.low < spec.default < spec.high
        # the baseline twin's own value is the default
        assert spec.default == pytest.approx(lithium_metal_anode_parameter_values()[spec.name])
        if spec.log:
            assert spec.low > 0 and spec.high / spec.low >= 10  # log scale only for wide ranges


def test_packaged_recipes_load_and_use_valid_names_and_options():
    recipes = sorted(RECIPES.glob("*.toml"))
    assert {p.stem for p in recipes} >= {"anode-free-cu-lfp", "full-cell"}
    for path in recipes:
        recipe = load_recipe(path)
        assert set(recipe.space.parameter_names) <= TWIN_NAMES
        LithiumMetalOptions(recipe.options)  # raises on an illegal option
        assert set(recipe.space.defaults()) == set(recipe.space.parameter_names) | {
            c.field for c in recipe.space.design_choices}
    anode_free = load_recipe(RECIPES / "anode-free-cu-lfp.toml")
    assert anode_free.design["np_ratio"] == 0 and anode_free.design["cathode"] == "LFP"
    assert "Dead lithium layer Bruggeman exponent" not in anode_free.space.parameter_names


def test_recipe_overrides_bounds_adds_and_removes_parameters():
    recipe = recipe_from_dict({
        "cell_type": "anode-free",
        "parameters": {
            DEAD_LI_FRACTION: {"low": 0.005, "high": 0.05},  # keeps log scale and default
            SEI_RATE: {"fit": False},
            "Li-metal SEI diffusion reference thickness [m]": {"low": 1e-9, "high": 1e-6, "log": True},
        },
        "overrides": {SEI_RATE: 2e-7},
        "design_choices": {"areal_capacity_mAh_cm2": [1.0, 2.0]},
    })
    space = recipe.space
    assert SEI_RATE not in space.parameter_names and recipe.overrides[SEI_RATE] == 2e-7
    dead = space[DEAD_LI_FRACTION]
    assert (dead.low, dead.high, dead.log, dead.default) == (0.005, 0.05, True, 0.008)
    assert space["Li-metal SEI diffusion reference thickness [m]"].default is None
    assert space.design_choices == (DesignChoice("areal_capacity_mAh_cm2", (1.0, 2.0)),)


@pytest.mark.parametrize(("document", "fragment"), [
    ({"cell_type": "pouch"}, "cell_type"),
    ({"cell_type": "anode-free", "colour": 1}, "'colour'"),
    ({"cell_type": "anode-free", "design": {"loading": 2}}, "design.loading"),
    ({"cell_type": "anode-free", "parameters": {SEI_RATE: {"low": 0, "high": 1, "log": True}}}, "log-scale"),
    ({"cell_type": "anode-free", "parameters": {SEI_RATE: {"low": 2e-7, "high": 1e-7}}}, "below high"),
    ({"cell_type": "anode-free", "parameters": {"New [m]": {"default": 1}}}, "needs low and high"),
    ({"cell_type": "anode-free", "parameters": {SEI_RATE: {"lo": 1}}}, "unknown key 'lo'"),
    ({"cell_type": "anode-free", "overrides": {SEI_RATE: 1e-7}}, "both fitted and fixed"),
    ({"cell_type": "anode-free", "design_choices": {"loading": [1, 2]}}, "not a design field"),
    ({"cell_type": "anode-free", "fit": {"sampler": "grid"}}, "unknown sampler"),
    ({"cell_type": "anode-free", "fit": {"trials": 0}}, "fit.trials"),
])
def test_bad_recipes_name_the_bad_entry(document, fragment):
    with pytest.raises(RecipeError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        recipe_from_dict(document, name="bad")


def test_clip_keeps_values_inside_the_space():
    space = SearchSpace((ParameterSpec("a", 1e-3, 1e-1, log=True, default=1e-2),),
                        (DesignChoice("np_ratio", (0.5, 1.0)),))
    assert space.clip({"a": 5.0, "np_ratio": 1.0, "other": 3}) == {"a": 0.1, "np_ratio": 1.0}
    assert space.clip({"a": 1e-5, "np_ratio": 7.0}) == {"a": 1e-3}
    assert space["a"].to_unit(1e-2) == pytest.approx(0.5)


def test_loss_is_zero_on_the_simulated_curve_and_dead_cells_deliver_nothing():
    summary = pd.DataFrame({"cycle": [1, 2, 3], "discharge_capacity_mAh_cm2": [2.0, 1.8, 1.6],
                            "coulombic_efficiency": [0.9, 0.9, 0.9]})
    assert simulated_retention(summary, np.array([1, 3, 5])) == pytest.approx([1.0, 0.8, 0.0])
    exact = FitTarget(np.array([1, 2, 3]), np.array([1.0, 0.9, 0.8]), np.array([np.nan, 0.9, 0.9]), False)
    assert capacity_loss(summary, exact, ce_weight=1.0)[0] == pytest.approx(0.0)
    # data normalized to a theoretical capacity: the scale is profiled, the loss stays 0
    scaled = FitTarget(np.array([1, 2, 3]), 0.85 * np.array([1.0, 0.9, 0.8]), np.full(3, np.nan), True)
    loss, scale = capacity_loss(summary, scaled, ce_weight=1.0)
    assert scale == pytest.approx(0.85) and loss == pytest.approx(0.0, abs=1e-12)
    # a CE error counts: 0.1 off at two cycles
    off = FitTarget(np.array([1, 2, 3]), np.array([1.0, 0.9, 0.8]), np.array([np.nan, 1.0, 1.0]), False)
    assert capacity_loss(summary, off, ce_weight=1.0)[0] == pytest.approx(0.1)
    assert best_scale(np.array([1.0, 0.5]), np.array([100.0, 50.0])) == CAPACITY_SCALE_BOUNDS[1]


def test_mlflow_keys_keep_units_readable():
    assert mlflow_key(SEI_RATE) == "Li-metal SEI rate constant / mol.m-2.s-1"
    assert mlflow_key("Dead lithium fraction at reference current density") == \
        "Dead lithium fraction at reference current density"
    assert "(" not in mlflow_key("x (y) [z]")


def test_polish_sampler_searches_where_the_best_trials_are():
    import optuna

    from twin.calibration.study import polish_sampler

    space = SearchSpace((ParameterSpec("a", 1e-4, 1.0, log=True), ParameterSpec("b", 0.0, 10.0)))
    distributions = {"a": optuna.distributions.FloatDistribution(1e-4, 1.0, log=True),
                     "b": optuna.distributions.FloatDistribution(0.0, 10.0)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    def loss(trial: optuna.Trial) -> float:  # minimum at a = 0.01, b = 7
        a = trial.suggest_float("a", 1e-4, 1.0, log=True)
        b = trial.suggest_float("b", 0.0, 10.0)
        return (math.log10(a) + 2.0) ** 2 + ((b - 7.0) / 5.0) ** 2

    study.optimize(loss, n_trials=30)
    assert all(set(t.distributions) == set(distributions) for t in study.trials)
    global_best = study.best_value
    study.sampler = polish_sampler(study, space, seed=1)
    study.optimize(loss, n_trials=12)
    polished = study.trials[30:]
    # the polish samples where the good trials are: its median beats the random search's
    assert np.median([t.value for t in polished]) < np.median([t.value for t in study.trials[:30]])
    assert study.best_value <= global_best


def test_formation_cycles_are_left_out_of_the_twin_fit_and_the_scale_is_then_profiled():
    target = FitTarget(np.array([1, 10, 20]), np.array([1.0, 0.7, 0.6]), np.full(3, np.nan), False)
    after = target.after_formation(1)
    assert list(after.cycles) == [10, 20] and after.profile_scale
    assert target.after_formation(0) is target


def _frozen(number: int, loss: float, value: float):
    import optuna

    trial = optuna.trial.create_trial(
        params={"a": value}, distributions={"a": optuna.distributions.FloatDistribution(0.0, 10.0)}, value=loss)
    trial.number = number
    return trial


def test_ensemble_keeps_the_best_distinct_trials_and_weights_poorer_fits_down():
    from twin.calibration.forecast import select_members, weighted_quantile

    # one clearly best trial, a duplicate of it, and poorer fits beyond 1.5 x the best
    trials = [_frozen(0, 0.01, 1.0), _frozen(1, 0.01, 1.0), _frozen(2, 0.03, 2.0), _frozen(3, 0.06, 3.0),
              _frozen(4, 10.0, 4.0)]  # a failed solve (penalty loss) never joins
    members = select_members(trials, size=6, loss_ratio=1.5, penalty=10.0)
    assert [m.trial_number for m in members] == [0, 2, 3]  # not a single member
    assert members[0].weight == 1.0 and 1.0 > members[1].weight > members[2].weight > 0
    assert len(select_members(trials, size=2, loss_ratio=1.5, penalty=10.0)) == 2
    # equal weights: numpy's inverted-CDF quantile; a heavy member pulls the median to itself
    values = np.array([30.0, 10.0, 20.0])
    assert weighted_quantile(values, np.ones(3), 0.5) == np.quantile(values, 0.5, method="inverted_cdf")
    assert weighted_quantile(values, np.array([0.1, 1.0, 0.1]), 0.5) == 10.0


def test_forecast_end_of_life_quantiles_are_whole_cycles_or_null():
    import json

    from twin.calibration.forecast import Member, MemberCurve, build_forecast

    cycles = np.arange(1, 11)
    curves = [MemberCurve(Member(i, 0.01 * (i + 1), {"a": float(i)}, 1.0, 1.0), cycles, 1 - 0.03 * k * cycles,
                          life, "fast") for i, (k, life) in enumerate([(1, 8), (2, 4), (0.1, None)])]
    forecast = build_forecast(curves, eol_fraction=0.8, max_cycles=10)
    document = json.loads(json.dumps(forecast.to_dict()))
    assert (document["eol_cycle_p10"], document["eol_cycle_p50"], document["eol_cycle_p90"]) == (4, 8, None)
    assert isinstance(document["eol_cycle_p50"], int)
    assert forecast.p10[-1] < forecast.p50[-1] < forecast.p90[-1]  # a band, not a line


def test_a_study_refuses_other_data_cell_or_fit_window():
    import optuna

    from twin.calibration.study import CalibrationError, check_study_identity

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="x")
    af46 = {"dataset_sha256": "ab" * 32, "data_file": "cells.csv", "cell_id": "AF46", "fit_cycles": 30,
            "recipe": "anode-free-cu-lfp.toml"}
    check_study_identity(study, af46)  # a new study records what it fits
    assert study.user_attrs["cell_id"] == "AF46" and study.user_attrs["fit_cycles"] == 30
    check_study_identity(study, af46)  # the same data resume
    with pytest.raises(CalibrationError) as error:
        check_study_identity(study, {**af46, "cell_id": "AF10"})
    message = str(error.value)
    assert "\n" not in message and "cells.csv cell AF46 (fit cycles 30" in message
    assert "asks for cell AF10" in message and "--study" in message
    with pytest.raises(CalibrationError, match="fit cycles 20"):
        check_study_identity(study, {**af46, "fit_cycles": 20})
    with pytest.raises(CalibrationError, match="sha256 cdcdcdcdcdcd"):
        check_study_identity(study, {**af46, "dataset_sha256": "cd" * 32})


def test_bad_storage_and_tracking_urls_fail_in_one_line_naming_the_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from twin.calibration.study import CalibrationError, make_storage
    from twin.calibration.tracking import CalibrationTracker

    with pytest.raises(CalibrationError) as storage:
        make_storage("foo://bar")
    assert str(storage.value).startswith("--storage 'foo://bar' is not a database URL")
    assert "\n" not in str(storage.value)
    with pytest.raises(CalibrationError) as tracking:
        CalibrationTracker("foo://bar")
    assert str(tracking.value).startswith("--tracking-uri 'foo://bar'") and "\n" not in str(tracking.value)
    assert list(tmp_path.iterdir()) == []  # no database was created


def test_unknown_recipe_parameter_names_fail_before_any_trial():
    from twin.calibration.objective import check_parameter_names

    recipe = load_recipe(RECIPES / "anode-free-cu-lfp.toml")
    check_parameter_names(recipe, recipe.design)  # the packaged recipe is fine
    bad = recipe_from_dict({"cell_type": "anode-free", "design": recipe.design, "protocol": recipe.protocol,
                            "parameters": {"Nonexistent parameter": {"low": 1.0, "high": 2.0}}},
                           name="bad", source="bad.toml")
    with pytest.raises(RecipeError, match=r"bad.toml: parameters.'Nonexistent parameter'"):
        check_parameter_names(bad, bad.design)
    typo = recipe_from_dict({"cell_type": "anode-free", "design": recipe.design, "protocol": recipe.protocol,
                             "overrides": {"Li-metal SEI fresh-surface fractoin": 1e-4}}, name="t", source="t.toml")
    with pytest.raises(RecipeError, match=r"overrides.*did you mean 'Li-metal SEI fresh-surface fraction'"):
        check_parameter_names(typo, typo.design)


def test_search_space_starts_from_the_twins_baseline_values():
    from twin.calibration.search_space import default_search_space
    from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values

    baseline = lithium_metal_anode_parameter_values()
    for cell_type in ("anode-free", "full-cell"):
        for spec in default_search_space(cell_type).parameters:
            assert spec.default == baseline[spec.name], spec.name
