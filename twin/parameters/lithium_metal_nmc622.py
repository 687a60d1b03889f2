"""Li metal || NMC622 baseline parameter set of the twin.

Cathode (LiNi0.6Mn0.2Co0.2O2) composed in `twin.parameters.nmc622` (the Chen2020
NMC811 electrode with its OCP on a delithiation axis stretched to the NMC622 capacity
of Noh et al., J. Power Sources 233, 121, 2013), separator and electrolyte from
Chen2020; Li-metal anode and degradation parameters from
`twin.parameters.lithium_metal_anode`, cathode fade from `twin.parameters.cathode_fade`.
The design overwrites thicknesses and initial amounts: see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_NMC622_Twin2026".
"""

from twin.cell_parameters import registered_parameter_values
from twin.parameters._compose import base_nmc622

# The design-independent values (`twin.cell_parameters` adds a design's thicknesses and
# initial amounts to them).
base_parameter_values = base_nmc622


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="NMC622")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return registered_parameter_values("NMC622")
