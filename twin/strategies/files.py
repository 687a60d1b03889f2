"""User strategy files (TOML): read and validate; unknown keys are errors naming the key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from twin.strategies.schema import (
    KNOBS, CEAnchor, Strategy, StrategyError, _check_number, with_family_defaults,
)

FILE_KEYS = ("name", "family", "description", "source", "family_defaults", "effective_area_factor",
             "dendrite_threshold_factor", "nucleation_overpotential_mV", "anchor", "multipliers", "values")
ANCHOR_KEYS = ("coulombic_efficiency", "current_density_mA_cm2", "capacity_mAh_cm2", "note")
REQUIRED_FILE_KEYS = ("name", "family", "source")


def load_strategy_file(path: str | Path) -> Strategy:
    """Read and validate one strategy from a TOML file (see experiments/strategies/)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise StrategyError(f"strategy file {path}: not found") from None
    except tomllib.TOMLDecodeError as err:
        raise StrategyError(f"strategy file {path}: not valid TOML: {err}") from None
    try:
        return strategy_from_dict(data, origin=str(path))
    except StrategyError as err:
        raise StrategyError(f"strategy file {path}: {err}") from None


def strategy_from_dict(data: Mapping[str, Any], origin: str = "dict") -> Strategy:
    """A validated strategy from a plain mapping (a parsed TOML file)."""
    _reject_unknown(data, FILE_KEYS, "")
    for key in REQUIRED_FILE_KEYS:
        if key not in data:
            raise StrategyError(f"missing required key {key!r}")
    for key in ("name", "family", "description", "source"):
        if key in data and not isinstance(data[key], str):
            raise StrategyError(f"{key} must be a string, got {data[key]!r}")
    for key in ("multipliers", "values", "anchor"):
        if key in data and not isinstance(data[key], Mapping):
            raise StrategyError(f"{key} must be a table ([{key}]), got {data[key]!r}")
    multipliers = dict(data.get("multipliers", {}))
    values = dict(data.get("values", {}))
    _reject_unknown(multipliers, tuple(KNOBS), "multipliers.")
    _reject_unknown(values, tuple(KNOBS), "values.")
    anchor = None
    if "anchor" in data:
        raw = dict(data["anchor"])
        _reject_unknown(raw, ANCHOR_KEYS, "anchor.")
        for key in ("coulombic_efficiency", "current_density_mA_cm2"):
            if key not in raw:
                raise StrategyError(f"missing required key 'anchor.{key}'")
        if not isinstance(raw.get("note", ""), str):
            raise StrategyError(f"anchor.note must be a string, got {raw['note']!r}")
        anchor = CEAnchor(**raw)
    family_defaults = data.get("family_defaults", True)
    if not isinstance(family_defaults, bool):
        raise StrategyError(f"family_defaults must be true or false, got {family_defaults!r}")
    nucleation = data.get("nucleation_overpotential_mV")
    if nucleation is not None:
        _check_number("nucleation_overpotential_mV", nucleation, 0.0, 1000.0)
    common = dict(
        name=data["name"], family=data["family"], description=data.get("description", ""),
        source=data["source"], multipliers=multipliers, values=values, anchor=anchor,
        nucleation_overpotential_mV=nucleation, origin=origin,
    )
    if family_defaults:
        return with_family_defaults(**common, effective_area_factor=data.get("effective_area_factor"),
                                    dendrite_threshold_factor=data.get("dendrite_threshold_factor"))
    return Strategy(**common, effective_area_factor=data.get("effective_area_factor", 1.0),
                    dendrite_threshold_factor=data.get("dendrite_threshold_factor", 1.0))


def _reject_unknown(data: Mapping[str, Any], known: Sequence[str], prefix: str) -> None:
    unknown = sorted(k for k in data if k not in known)
    if unknown:
        raise StrategyError(f"unknown key {prefix + unknown[0]!r} (known: {', '.join(known)})")
