"""Calibration recipes by name: the TOML recipes that ship with the package.

A recipe (`twin.calibration.search_space.Recipe`) says which twin parameters are
fitted, within which bounds, and the design and protocol assumed for the data. The
package ships `full-cell` and `anode-free-cu-lfp`; any other TOML file works too.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from twin.calibration.search_space import Recipe, RecipeError, load_recipe

# The recipe used when none is named, by data format (`twin.calibration.data.detect_format`).
DEFAULT_RECIPE_BY_FORMAT: dict[str, str] = {"anode-free-table": "anode-free-cu-lfp"}
DEFAULT_RECIPE = "full-cell"


def _bundled_recipes():  # -> importlib.resources Traversable
    # The project's layout keeps recipes in experiments/recipes/, installed as package
    # data under twin/experiments/; read as files, nothing is imported.
    return files("twin") / "experiments" / "recipes"


def recipe_names() -> list[str]:
    """Names of the recipes that ship with the package, sorted."""
    return sorted(p.name[:-len(".toml")] for p in _bundled_recipes().iterdir() if p.name.endswith(".toml"))


def default_recipe_name(data_format: str | None) -> str:
    """The recipe for data of `data_format` ("anode-free-table" -> "anode-free-cu-lfp",
    anything else -> "full-cell")."""
    return DEFAULT_RECIPE_BY_FORMAT.get(data_format or "", DEFAULT_RECIPE)


def recipe_path(name_or_path: str | Path | None, data_format: str | None = None) -> Path:
    """The TOML file of a recipe: an existing ``.toml`` path, or the name of a recipe
    that ships with the package; None means the default recipe for `data_format`.

    Raises
    ------
    RecipeError
        Neither a TOML file nor a known name (the message lists the names).
    """
    if name_or_path is None:
        name_or_path = default_recipe_name(data_format)
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.exists():
        return path
    name = str(name_or_path).removesuffix(".toml")
    if name in recipe_names():
        return Path(str(_bundled_recipes() / f"{name}.toml"))
    raise RecipeError(f"{str(name_or_path)!r} is neither a TOML file nor a recipe name "
                      f"(known: {', '.join(recipe_names())})")


def load_named_recipe(name_or_path: str | Path | None = None, data_format: str | None = None) -> Recipe:
    """A recipe by name (see `recipe_names`) or from a TOML file, validated.

    Parameters
    ----------
    name_or_path : str, Path or None
        "full-cell", "anode-free-cu-lfp", a recipe file; None: the default for `data_format`.
    data_format : str, optional
        Format of the data to fit (picks the default recipe).
    """
    return load_recipe(recipe_path(name_or_path, data_format))
