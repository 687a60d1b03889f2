"""Compose a Li-metal half-cell parameter set from a PyBaMM cathode set and our anode.

`base_nmc811` / `base_lfp` are the design-independent sets `twin.cell_parameters` builds
on; the registered sets (`lithium_metal_nmc811`, `lithium_metal_lfp`) sit above
`twin.cell_parameters`, so no module imports back into its importer."""

from __future__ import annotations

from collections.abc import Callable

from pybamm.input.parameters.lithium_ion import Chen2020, Prada2013

from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values


def compose(cathode_set: Callable[[], dict], citations: list[str]) -> dict:
    """Cathode, separator and electrolyte from `cathode_set`; Li-metal anode from ours.

    The graphite negative electrode of the source set is dropped: the negative
    electrode is lithium metal.
    """
    values = {
        key: value for key, value in cathode_set().items()
        if not key.startswith("Negative") and key != "citations"
    }
    values.update(lithium_metal_anode_parameter_values())
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
    return compose(Chen2020.get_parameter_values, ["Chen2020"])


def base_lfp() -> dict:
    """Design-independent Li||LFP values (Prada2013 cathode and electrolyte), with "citations"."""
    return compose(Prada2013.get_parameter_values, ["Prada2013"])
