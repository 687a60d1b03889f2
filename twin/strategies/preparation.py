"""Strategies ready for a simulation: resolved by name, anchored (the CE anchor's loss
factor solved with the twin's Li||Cu test, `twin.anchoring`) and combined; their
parameter changes for a full cell."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from twin.strategies.combination import CombinedStrategy, combine
from twin.strategies.registry import resolve
from twin.strategies.schema import Strategy, StrategyError

def prepare(items: Iterable[str | Strategy], files: Iterable[str | Path] = (), cache: Any = None) -> CombinedStrategy:
    """Names/objects (and files) -> anchored, combined strategy ready for a simulation.

    Anchors are solved with the twin's Li||Cu test (cached, see `twin.anchoring`)."""
    # Late: importing twin.anchoring runs this package's __init__ (anchoring imports
    # twin.strategies.combination), so a top-level import would start half-initialised.
    from twin.anchoring import solve_anchor
    strategies = resolve(items, files)
    if not strategies:
        raise StrategyError("no strategy given")
    # Only the anchor that sets the loss level needs solving.
    probe = combine(strategies, {s.name: 1.0 for s in strategies if s.anchor is not None})
    factors = {}
    if probe.loss_level_from is not None:
        owner = next(s for s in strategies if s.name == probe.loss_level_from)
        factors[owner.name] = solve_anchor(owner, cache=cache).loss_factor
    return combine(strategies, factors)


def full_cell_overrides(combined: CombinedStrategy, design: Any, protocol: Any) -> dict[str, float]:
    """Parameter overrides of `combined` for a full-cell design and protocol (relative to
    the design's own parameter values, whose plating current density is the protocol's
    CC charge current density)."""
    from twin.cell_parameters import parameter_values

    return combined.parameter_values(parameter_values(design, protocol))


def scale_dendrite_risk(risk: Any, threshold_factor: float) -> Any:
    """A `twin.dendrite.DendriteRisk` with Chazalviel's limiting current raised by
    `threshold_factor` (see `DendriteRisk.with_threshold_factor`); None stays None."""
    return None if risk is None else risk.with_threshold_factor(threshold_factor)
