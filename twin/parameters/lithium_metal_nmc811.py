"""Li metal || NMC811 baseline parameter set of the twin.

Cathode (LiNi0.8Mn0.1Co0.1O2), separator and LiPF6 EC:EMC electrolyte from Chen et al.,
J. Electrochem. Soc. 167, 080534 (2020) (PyBaMM set `Chen2020`); Li-metal anode and
degradation parameters from `twin.parameters.lithium_metal_anode` (see its docstring
for the source or assumption behind every number). The design (areal capacity, N:P,
electrolyte amount, stack) overwrites thicknesses and initial amounts:
see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_NMC811_Twin2026".
"""

from twin.cell_parameters import registered_parameter_values
from twin.parameters._compose import base_nmc811

# The design-independent values (`twin.cell_parameters` adds a design's thicknesses and
# initial amounts to them).
base_parameter_values = base_nmc811


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="NMC811")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return registered_parameter_values("NMC811")
