"""Several strategies in one cell: the composition rule (`combine`, see `twin.strategies`)
and the parameter changes of the result (`CombinedStrategy`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twin.strategies.schema import (
    AREA_PARAMETERS, KNOBS, LOSS_KNOBS, MAX_GEOMETRY_FACTOR, PLATING_CURRENT_PARAMETER, Strategy, StrategyError,
)

@dataclass(frozen=True)
class CombinedStrategy:
    """Several strategies composed into one set of parameter changes (see `combine`)."""

    strategies: tuple[Strategy, ...]
    multipliers: Mapping[str, float]
    values: Mapping[str, float]
    effective_area_factor: float
    dendrite_threshold_factor: float
    loss_factor: float
    loss_level_from: str | None
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def parameter_values(self, base: Mapping[str, Any]) -> dict[str, float]:
        """Parameter overrides (PyBaMM names) relative to the parameter values `base`
        (a full cell's or a test cell's; its "Plating current density [A.m-2]" is the
        protocol's, which a host divides by its effective area factor)."""
        out: dict[str, float] = {}
        for knob, k in KNOBS.items():
            if knob not in self.multipliers and knob not in self.values and knob not in LOSS_KNOBS:
                continue
            value = self.values.get(knob, base[k.parameter])
            value = float(value) * self.multipliers.get(knob, 1.0)
            if knob in LOSS_KNOBS:
                value *= self.loss_factor
            if not k.minimum <= value <= k.maximum:
                raise StrategyError(
                    f"strategies {' + '.join(self.names)} take {knob} to {value:g}, outside "
                    f"[{k.minimum:g}, {k.maximum:g}]")
            out[k.parameter] = value
        a = self.effective_area_factor
        if a != 1.0:
            for name in AREA_PARAMETERS:
                out[name] = out.get(name, float(base[name])) * a
            out[PLATING_CURRENT_PARAMETER] = float(base[PLATING_CURRENT_PARAMETER]) / a
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "families": [s.family for s in self.strategies],
            "multipliers": dict(self.multipliers),
            "values": dict(self.values),
            "effective_area_factor": self.effective_area_factor,
            "dendrite_threshold_factor": self.dendrite_threshold_factor,
            "loss_factor": self.loss_factor,
            "loss_level_from": self.loss_level_from,
            "notes": list(self.notes),
        }


def combine(strategies: Sequence[Strategy], loss_factors: Mapping[str, float] | None = None) -> CombinedStrategy:
    """Compose strategies by the rule in the module docstring. `loss_factors` maps an
    anchored strategy's name to its solved loss factor (see `twin.anchoring`)."""
    strategies = tuple(strategies)
    loss_factors = dict(loss_factors or {})
    names = [s.name for s in strategies]
    for name in names:
        if names.count(name) > 1:
            raise StrategyError(f"strategy {name!r} given twice")
    electrolytes = [s for s in strategies if s.family == "electrolyte"]
    if len(electrolytes) > 1:
        raise StrategyError(f"at most one electrolyte strategy per cell, got {', '.join(s.name for s in electrolytes)}")
    multipliers: dict[str, float] = {}
    values: dict[str, float] = {}
    value_owner: dict[str, str] = {}
    area = dendrite = 1.0
    for s in strategies:
        for knob, m in s.multipliers.items():
            multipliers[knob] = multipliers.get(knob, 1.0) * m
        for knob, v in s.values.items():
            if knob in values and not math.isclose(values[knob], v, rel_tol=1e-9):
                raise StrategyError(f"strategies {value_owner[knob]!r} and {s.name!r} set {knob} to different "
                                    f"values ({values[knob]:g} and {v:g})")
            values[knob], value_owner[knob] = v, s.name
        area *= s.effective_area_factor
        dendrite *= s.dendrite_threshold_factor
    if area > MAX_GEOMETRY_FACTOR or dendrite > MAX_GEOMETRY_FACTOR:
        raise StrategyError(f"strategies {' + '.join(names)} multiply the area or dendrite threshold "
                            f"beyond {MAX_GEOMETRY_FACTOR:g}x")
    notes: list[str] = []
    anchored = [s for s in strategies if s.anchor is not None]
    if electrolytes:
        owner = electrolytes[0] if electrolytes[0].anchor is not None else None
        dropped = [s.name for s in anchored if s.family != "electrolyte"]
        if dropped:
            notes.append(f"loss level from electrolyte {electrolytes[0].name!r}; the CE anchors of "
                         f"{', '.join(dropped)} (measured with other electrolytes) are not used, their "
                         f"structural effects are")
    elif len(anchored) > 1:
        raise StrategyError(
            f"strategies {', '.join(s.name for s in anchored)} were each anchored to a CE measured with "
            f"their own electrolyte; add one electrolyte strategy to set the SEI and dead-Li level")
    else:
        owner = anchored[0] if anchored else None
    if owner is not None and owner.name not in loss_factors:
        raise StrategyError(f"strategy {owner.name!r} is anchored but its loss factor was not solved")
    loss_factor = loss_factors[owner.name] if owner is not None else 1.0
    return CombinedStrategy(strategies, multipliers, values, area, dendrite, loss_factor,
                            owner.name if owner is not None else None, tuple(notes))
