"""A study's identity holds the recipe's content, not its file name."""

import dataclasses

import optuna
import pytest

from twin.calibration.search_space import load_recipe
from twin.calibration.study import CalibrationError, check_study_identity, recipe_identity
from twin.calibration.safety import redact, redact_url

RECIPE = "tests/fixtures/tiny_calibration_recipe.toml"


def identity(recipe):
    content, digest = recipe_identity(recipe)
    return {"dataset_sha256": "abc", "data_file": "cell.csv", "cell_id": None, "fit_cycles": None,
            "recipe": recipe.source, "recipe_sha256": digest, "recipe_content": content}


def test_a_recipe_edited_under_the_same_name_is_refused_naming_what_changed() -> None:
    recipe = load_recipe(RECIPE)
    study = optuna.create_study()
    check_study_identity(study, identity(recipe))
    check_study_identity(study, identity(dataclasses.replace(recipe, fit=dataclasses.replace(recipe.fit, trials=99))))
    edited = dataclasses.replace(recipe, design={**recipe.design, "np_ratio": 7.0})
    with pytest.raises(CalibrationError, match=r"another version of recipe tiny_calibration_recipe.toml "
                                               r"\(changed: design;"):
        check_study_identity(study, identity(edited))


def test_the_name_of_a_recipe_is_not_its_content() -> None:
    recipe = load_recipe(RECIPE)
    assert recipe_identity(recipe) == recipe_identity(dataclasses.replace(recipe, name="other"))


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql://twin:s3cret@db.lab:5432/studies", "postgresql://twin:***@db.lab:5432/studies"),
    ("--storage 'mysql+pymysql://u:p%40ss@h/db' failed", "--storage 'mysql+pymysql://u:***@h/db' failed"),
    ("http://user:tok@127.0.0.1:5000", "http://user:***@127.0.0.1:5000"),
    ("sqlite:///twin-studies.db", "sqlite:///twin-studies.db"),
])
def test_credentials_in_urls_are_redacted(text: str, shown: str) -> None:
    assert redact(text) == shown and "s3cret" not in redact(text)
    assert redact_url(None) is None
