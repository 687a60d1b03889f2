"""Li metal || NMC532 baseline parameter set of the twin.

Cathode (LiNi0.5Mn0.3Co0.2O2) and LiPF6 electrolyte (Valoen2005) from Xu et al.,
J. Electrochem. Soc. 166, A3456 (2019), a Li-metal||NMC532 half cell (PyBaMM set
`Xu2019`); Li-metal anode and degradation parameters from
`twin.parameters.lithium_metal_anode`, cathode fade from `twin.parameters.cathode_fade`.
The design overwrites thicknesses and initial amounts: see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_NMC532_Twin2026".
"""

from twin.cell_parameters import registered_parameter_values
from twin.parameters._compose import base_nmc532

# The design-independent values (`twin.cell_parameters` adds a design's thicknesses and
# initial amounts to them).
base_parameter_values = base_nmc532


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="NMC532")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return registered_parameter_values("NMC532")
