"""What `twin calibrate` is told about the cell: design options and the population prior.

Design options (all optional) override the recipe's assumed design and protocol, so
a file of an LFP or a graphite-free pouch cell is fitted as that cell, and data that
cannot be it are refused (calibration.consistency). The prior: ``--prior FILE``
(a calibration.prior JSON), ``--no-prior``, or by default the prior shipped beside
the recipe (``experiments/recipes/NAME.prior.json``) when the recipe's design is
used unchanged (a prior learned on one kind of cell says nothing of another).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from twin.experiments.options import InputError, field_option

# the design fields `twin calibrate` takes as options (flags, units and checks from their FieldSpec)
DESIGN_FIELDS = ("cathode", "areal_capacity_mAh_cm2", "np_ratio", "electrode_area_cm2", "layers",
                 "electrolyte_g_per_Ah")
PRIOR_SUFFIX = ".prior.json"


def cell_options(func: Callable) -> Callable:
    """--cathode, --areal-capacity, --np-ratio, --electrode-area, --layers,
    --electrolyte-amount, --protocol, --prior, --no-prior (all default: the recipe's)."""
    from twin.design import CellDesign

    for option in reversed([
        *(field_option(CellDesign, name, overrides="the recipe") for name in DESIGN_FIELDS),
        click.option("--protocol", "protocol_file", default=None, metavar="FILE|NAME",
                     help="Cycling protocol (TOML file or a name under experiments/protocols) replacing the "
                          "recipe's."),
        click.option("--prior", "prior_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Population prior (JSON, see `make prior`): the fit is MAP, the band the posterior's. "
                          "Default: the prior shipped with the recipe, if any."),
        click.option("--no-prior", is_flag=True, help="Fit without a population prior."),
    ]):
        func = option(func)
    return func


def apply_cell_options(recipe: Any, values: dict[str, Any], protocol_file: str | None) -> tuple[Any, list[str]]:
    """The recipe with the given design options and protocol, and the names of the
    options that changed it."""
    from twin.design import CellDesign
    from twin.field_specs import field_specs

    design = dict(recipe.design)
    changed = []
    specs = field_specs(CellDesign)
    for field in DESIGN_FIELDS:
        value = values.get(option_parameter(specs[field].flag))
        if value is not None:
            design[field] = value
            changed.append(specs[field].flag)
    protocol = dict(recipe.protocol)
    if protocol_file is not None:
        from twin.experiments.commands.predict import protocol_path
        from twin.protocol_files import load_protocol

        protocol = load_protocol(protocol_path(protocol_file)).to_dict()
        changed.append("--protocol")
    if not changed:
        return recipe, []
    from twin.protocol import Protocol

    CellDesign(**design)  # a bad combination fails here with the field's name
    Protocol(**protocol)
    return replace(recipe, design=design, protocol=protocol), changed


def resolve_prior(prior_file: Path | None, no_prior: bool, recipe_file: Path, recipe: Any,
                  changed: list[str]) -> tuple[Any, str | None]:
    """(prior or None, a note for the output or None)."""
    from twin.calibration.prior import PriorError, load_prior

    if prior_file is not None and no_prior:
        raise InputError("--prior and --no-prior contradict each other; give one")
    if no_prior:
        return None, None
    explicit = prior_file is not None
    path = prior_file if explicit else recipe_file.with_name(recipe_file.stem + PRIOR_SUFFIX)
    if not explicit:
        if not path.is_file():
            return None, None
        if changed:
            return None, (f"note: the recipe's prior ({path.name}) is not used: it was learned on the recipe's "
                          f"cell and {', '.join(changed)} changed it (give --prior to use one)")
    try:
        prior = load_prior(path)
    except PriorError as err:
        raise InputError(f"--prior: {err}") from None
    wanted = recipe.space.parameter_names
    if sorted(prior.names) != sorted(wanted):
        raise InputError(f"--prior: {path.name} is a prior over {', '.join(prior.names)}; recipe "
                         f"{recipe.name} fits {', '.join(wanted)}")
    return prior, None


__all__ = ["apply_cell_options", "cell_options", "resolve_prior"]


def option_parameter(flag: str) -> str:
    """The keyword click passes an option's value as: "--areal-capacity" -> "areal_capacity"."""
    return flag.lstrip("-").replace("-", "_")
