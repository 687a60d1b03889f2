"""Calibrate's cell options and the recipe's shipped prior."""

from pathlib import Path

import pytest

from twin.calibration.search_space import load_recipe
from twin.experiments.calibrate_options import apply_cell_options, resolve_prior
from twin.experiments.options import InputError

RECIPES_DIR = Path(__file__).resolve().parents[3] / "experiments" / "recipes"

ANODE_FREE = RECIPES_DIR / "anode-free-cu-lfp.toml"


def test_the_anode_free_recipe_uses_its_shipped_prior_by_default():
    recipe = load_recipe(ANODE_FREE)
    prior, note = resolve_prior(None, False, ANODE_FREE, recipe, [])
    assert prior is not None and note is None
    assert sorted(prior.names) == sorted(recipe.space.parameter_names)
    assert len(prior.cells) == 39 and prior.noise_sd > 0
    assert resolve_prior(None, True, ANODE_FREE, recipe, []) == (None, None)


def test_design_options_override_the_recipe_and_switch_the_shipped_prior_off():
    recipe = load_recipe(ANODE_FREE)
    changed_recipe, changed = apply_cell_options(recipe, {"areal_capacity": 3.0, "layers": 2}, "standard")
    assert changed == ["--areal-capacity", "--layers", "--protocol"]
    assert changed_recipe.design["areal_capacity_mAh_cm2"] == 3.0 and changed_recipe.design["layers"] == 2
    assert changed_recipe.protocol["name"] == "standard"
    prior, note = resolve_prior(None, False, ANODE_FREE, changed_recipe, changed)
    assert prior is None
    assert note.startswith("note: the recipe's prior (anode-free-cu-lfp.prior.json) is not used")


def test_a_prior_over_other_parameters_is_refused(tmp_path: Path):
    full_cell = load_recipe(RECIPES_DIR / "full-cell.toml")
    shipped = RECIPES_DIR / "anode-free-cu-lfp.prior.json"
    with pytest.raises(InputError, match=r"--prior: anode-free-cu-lfp.prior.json is a prior over .*; recipe "
                                         r"full-cell fits"):
        resolve_prior(shipped, False, RECIPES_DIR / "full-cell.toml", full_cell, [])
