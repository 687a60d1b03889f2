"""Li metal || LFP baseline parameter set of the twin.

Cathode (LiFePO4), separator and electrolyte from Prada et al., J. Electrochem. Soc.
160, A616 (2013) (PyBaMM set `Prada2013`); Li-metal anode and degradation parameters
from `twin.parameters.lithium_metal_anode`. The design overwrites thicknesses and
initial amounts: see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_LFP_Twin2026".
"""

from twin.cell_parameters import registered_parameter_values
from twin.parameters._compose import base_lfp

# The design-independent values (`twin.cell_parameters` adds a design's thicknesses and
# initial amounts to them).
base_parameter_values = base_lfp


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="LFP")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return registered_parameter_values("LFP")
