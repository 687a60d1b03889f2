"""Search spaces, recipes and the pure parts of the objective (no solves)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.objective import CAPACITY_SCALE_BOUNDS, FitTarget, best_scale, capacity_loss, simulated_retention
from calibration.search_space import (
    CELL_TYPES, DEAD_LI_FRACTION, SEI_RATE, DesignChoice, ParameterSpec, RecipeError, SearchSpace,
    default_search_space, load_recipe, recipe_from_dict,
)
from calibration.tracking import mlflow_key
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
    assert (dead.low, dead.high, dead.log, dead.default) == (0.005, 0.05, True, 0.012)
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

    from calibration.study import polish_sampler

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
