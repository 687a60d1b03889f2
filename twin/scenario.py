"""A scenario: what one prediction is asked about, turned into a model's inputs.

A `Scenario` holds a design, its protocol, the protection strategies (combined and
anchored) and explicit parameter overrides. It is the one place where these become
PyBaMM parameter values and the dendrite-risk assessment (with the strategies'
dendrite threshold): full and cycle-skipping runs, the CLI and sweeps all go through it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from twin.design import CellDesign
from twin.protocol import Protocol

if TYPE_CHECKING:
    import pybamm

    from twin.dendrite import DendriteRisk
    from twin.strategies import CombinedStrategy, Strategy


@dataclass(frozen=True, eq=False)
class Scenario:
    """One cell asked about: design (at its test temperature), protocol, strategy and
    explicit overrides (PyBaMM parameter name -> value, or "[input]").

    Build it with `Scenario.build`, which applies the protocol's test temperature and
    prepares the strategies.
    """

    design: CellDesign
    protocol: Protocol
    strategy: CombinedStrategy | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, design: CellDesign, protocol: Protocol | None = None,
              strategies: Sequence[str | Strategy] | None = None,
              overrides: Mapping[str, Any] | None = None,
              inputs: Mapping[str, float] | None = None) -> Scenario:
        """The scenario of a prediction request.

        Parameters
        ----------
        design, protocol
            The cell and how it is cycled (None: the default protocol). A protocol
            temperature [degC] replaces the design's.
        strategies
            Protection strategies (preset names or `twin.strategies.Strategy` objects),
            combined and anchored by `twin.strategies.prepare`; None or empty: none.
        overrides
            Parameter values that win over the design's and the strategies'.
        inputs
            Values of parameters given as "[input]".
        """
        protocol = protocol or Protocol()
        if protocol.temperature_degC is not None:
            design = replace(design, temperature_degC=protocol.temperature_degC)
        strategy = None
        if strategies:
            from twin.strategies import prepare

            strategy = prepare(strategies)
        return cls(design, protocol, strategy, dict(overrides or {}), dict(inputs or {}))

    @cached_property
    def parameter_overrides(self) -> dict[str, Any]:
        """The strategies' parameter changes for this design, then the explicit
        overrides (which win)."""
        if self.strategy is None:
            return dict(self.overrides)
        from twin.strategies import full_cell_overrides

        return {**full_cell_overrides(self.strategy, self.design, self.protocol), **self.overrides}

    def parameter_values(self, extra: Mapping[str, Any] | None = None) -> pybamm.ParameterValues:
        """PyBaMM parameter values of the scenario (`extra` overrides on top)."""
        from twin.cell_parameters import parameter_values

        return parameter_values(self.design, self.protocol, {**self.parameter_overrides, **(extra or {})})

    @property
    def dendrite_threshold_factor(self) -> float:
        """How much the strategies raise Chazalviel's limiting current (1: not at all)."""
        return 1.0 if self.strategy is None else self.strategy.dendrite_threshold_factor

    def dendrite_risk(self, values: pybamm.ParameterValues | None = None) -> DendriteRisk | None:
        """Chazalviel dendrite risk of the CC charge, the strategies' threshold applied;
        None when an electrolyte parameter is an "[input]" without a value.

        `values`: the parameter values to read the electrolyte from (default: the
        scenario's own; pass a simulator's to avoid building them again)."""
        from twin.dendrite import assess_dendrite_risk

        try:
            risk = assess_dendrite_risk(self.design, self.protocol,
                                        self.parameter_values() if values is None else values,
                                        inputs=self.inputs)
        except KeyError:
            return None
        return risk.with_threshold_factor(self.dendrite_threshold_factor)

    @property
    def notes(self) -> list[str]:
        """What the strategies have to say about how they were combined."""
        return [] if self.strategy is None else list(self.strategy.notes)


def shared_input_parameters(requests: Iterable[tuple[CellDesign, Protocol]],
                            overrides: Mapping[str, Any] | None = None,
                            strategies: bool = False) -> frozenset[str]:
    """The parameters to hand PyBaMM as inputs so that one simulation serves every
    (design, protocol) of `requests` (`twin.cycling.shared_setup`).

    Parameters
    ----------
    requests
        The designs and protocols to be predicted (e.g. a sweep's cases).
    overrides
        Explicit parameter overrides shared by all of them.
    strategies
        Whether any request has protection strategies: then every parameter a strategy
        can change is included (their values come from anchoring, not run here).

    Returns
    -------
    frozenset of str
        The numeric parameters whose values differ between the requests of one
        cathode, plus the strategies' parameters when `strategies`.
    """
    # Cathodes never share a simulation (their material laws differ): what differs
    # between cathodes only would be inputs for nothing.
    by_cathode: dict[str, dict[tuple[CellDesign, Protocol], pybamm.ParameterValues]] = {}
    for design, protocol in requests:
        group = by_cathode.setdefault(design.cathode, {})
        if (design, protocol) not in group:
            group[(design, protocol)] = Scenario.build(design, protocol, overrides=overrides).parameter_values()
    also: set[str] = set()
    if strategies:
        from twin.strategies.schema import AREA_PARAMETERS, KNOBS, PLATING_CURRENT_PARAMETER

        also = {knob.parameter for knob in KNOBS.values()} | set(AREA_PARAMETERS) | {PLATING_CURRENT_PARAMETER}
    return frozenset(also).union(*(varying_parameters(group.values()) for group in by_cathode.values()))


def varying_parameters(values: Iterable[pybamm.ParameterValues], also: Iterable[str] = ()) -> frozenset[str]:
    """The numeric parameters whose value differs between the parameter values given,
    plus the names in `also` (e.g. what strategies or overrides may change): the input
    set under which one simulation serves all of them (`twin.cycling.shared_setup`)."""
    seen: dict[str, set[float]] = {}
    for pv in values:
        for name, value in pv.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            if number:  # laws and "[input]" text cannot become inputs
                seen.setdefault(name, set()).add(float(value))
    varying = {name for name, distinct in seen.items() if len(distinct) > 1}
    return frozenset(varying | set(also))
