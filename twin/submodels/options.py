"""Options of the twin's Li-metal submodels, validated against a table of legal values."""

from __future__ import annotations

from collections.abc import Mapping

import pybamm

from twin.errors import OptionError

# First value of each tuple is the default.
LITHIUM_METAL_OPTIONS: dict[str, tuple[str, ...]] = {
    "SEI on lithium metal": ("constant rate", "diffusion limited", "none"),
    "dead lithium": ("current dependent", "constant fraction", "none"),
    "surface roughening": ("true", "false"),
    "electrolyte consumption": ("true", "false"),
    "deposit morphology": ("conditions dependent", "constant"),
    "porous foil": ("true", "false"),
    "activation transient": ("true", "false"),
}

CELL_MODELS: tuple[str, ...] = ("spm", "spme", "dfn")


class LithiumMetalOptions(dict):
    """A complete, validated options dictionary for the Li-metal submodels."""

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        given = dict(options or {})
        for key, value in given.items():
            if key not in LITHIUM_METAL_OPTIONS:
                raise OptionError(
                    f"unknown Li-metal option {key!r} (known: {', '.join(LITHIUM_METAL_OPTIONS)})"
                )
            legal = LITHIUM_METAL_OPTIONS[key]
            if value not in legal:
                raise OptionError(
                    f"option {key!r} cannot be {value!r} (legal values: {', '.join(legal)})"
                )
        super().__init__({key: given.get(key, legal[0]) for key, legal in LITHIUM_METAL_OPTIONS.items()})


def on_current_collector(value) -> pybamm.Symbol:
    """A constant as a variable of the interface (domain "current collector"), so
    switched-off effects keep the shape of the ones they replace."""
    return pybamm.PrimaryBroadcast(value, "current collector")
