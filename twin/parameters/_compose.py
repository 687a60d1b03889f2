"""Compose a Li-metal half-cell parameter set from a PyBaMM cathode set and our anode."""

from __future__ import annotations

from collections.abc import Callable

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


def with_default_design(base: dict, cathode: str) -> dict:
    """`base` completed with every design-dependent value (thicknesses, initial Li and
    electrolyte amounts, wetted pore volume, plating current density) of the default
    design with `cathode`, cycled with the default protocol: what a registered PyBaMM
    parameter set needs to solve the twin's model on its own."""
    # Imported here: twin.cell_parameters reads the base sets of this package.
    from twin.cell_parameters import parameter_values
    from twin.design import CellDesign
    from twin.protocol import Protocol

    values = dict(parameter_values(CellDesign(cathode=cathode), Protocol()).items())
    values["citations"] = list(base.get("citations", []))
    return values
