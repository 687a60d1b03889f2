"""Compose a Li-metal half-cell parameter set from a PyBaMM cathode set and our anode.

`base_nmc811` / `base_nmc622` / `base_nmc532` / `base_lfp` are the design-independent sets
`twin.cell_parameters` builds on; the registered sets (`lithium_metal_nmc811`, ...) sit
above `twin.cell_parameters`, so no module imports back into its importer. Each cathode
brings its fade law's values (`twin.parameters.cathode_fade`)."""

from __future__ import annotations

from collections.abc import Callable

from pybamm.input.parameters.lithium_ion import Chen2020, Prada2013, Xu2019

from twin.parameters.cathode_fade import NMC_RATE_AT_ONSET_PER_S, ONSET_POTENTIAL_V, cathode_fade_parameter_values
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.parameters.nmc622 import nmc622_ocp


def compose(cathode_set: Callable[[], dict], citations: list[str], fade_onset_V: float,
            fade_rate_at_onset_per_s: float) -> dict:
    """Cathode, separator and electrolyte from `cathode_set`; Li-metal anode from ours;
    cathode fade at `fade_rate_at_onset_per_s` [s-1] at its onset potential `fade_onset_V` [V].

    The graphite negative electrode of the source set is dropped: the negative
    electrode is lithium metal.
    """
    values = {
        key: value for key, value in cathode_set().items()
        if not key.startswith("Negative") and key != "citations"
    }
    values.update(lithium_metal_anode_parameter_values())
    values.update(cathode_fade_parameter_values(fade_onset_V, fade_rate_at_onset_per_s))
    # Model-level voltage events sit outside any protocol window: the protocol's own
    # cut-offs end each step, and a Li-depleted discharge must be free to collapse.
    values["Lower voltage cut-off [V]"] = 0.5
    values["Upper voltage cut-off [V]"] = 5.0
    values["Open-circuit voltage at 0% SOC [V]"] = 0.5
    values["Open-circuit voltage at 100% SOC [V]"] = 5.0
    values["Number of electrodes connected in parallel to make a cell"] = 1.0
    values["citations"] = ["Xu2019", *citations]
    return values


def base_nmc811() -> dict:
    """Design-independent Li||NMC811 values (Chen2020 cathode and electrolyte), with "citations"."""
    return compose(Chen2020.get_parameter_values, ["Chen2020"], ONSET_POTENTIAL_V["NMC811"], NMC_RATE_AT_ONSET_PER_S)


def _chen2020_as_nmc622() -> dict:
    values = Chen2020.get_parameter_values()
    values["Positive electrode OCP [V]"] = nmc622_ocp
    return values


def base_nmc622() -> dict:
    """Design-independent Li||NMC622 values (composed: `twin.parameters.nmc622`), with "citations"."""
    return compose(_chen2020_as_nmc622, ["Chen2020"], ONSET_POTENTIAL_V["NMC622"], NMC_RATE_AT_ONSET_PER_S)


def base_nmc532() -> dict:
    """Design-independent Li||NMC532 values (Xu2019 Li||NMC532 half-cell: cathode and
    Valoen2005 LiPF6 electrolyte), with "citations"."""
    return compose(Xu2019.get_parameter_values, ["Valoen2005"], ONSET_POTENTIAL_V["NMC532"], NMC_RATE_AT_ONSET_PER_S)


def base_lfp() -> dict:
    """Design-independent Li||LFP values (Prada2013 cathode and electrolyte), with "citations"."""
    # no cathode fade (twin.parameters.cathode_fade: LFP)
    return compose(Prada2013.get_parameter_values, ["Prada2013"], 4.0, 0.0)
