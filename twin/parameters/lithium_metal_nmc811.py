"""Li metal || NMC811 baseline parameter set of the twin.

Cathode (LiNi0.8Mn0.1Co0.1O2), separator and LiPF6 EC:EMC electrolyte from Chen et al.,
J. Electrochem. Soc. 167, 080534 (2020) (PyBaMM set `Chen2020`); Li-metal anode and
degradation parameters from `twin.parameters.lithium_metal_anode` (see its docstring
for the source or assumption behind every number). The design (areal capacity, N:P,
electrolyte amount, stack) overwrites thicknesses and initial amounts:
see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_NMC811_Twin2026".
"""

from pybamm.input.parameters.lithium_ion import Chen2020

from twin.parameters._compose import compose, with_default_design


def base_parameter_values() -> dict:
    """Flat dictionary of the design-independent parameter values, with "citations"
    (`twin.cell_parameters` adds the design's thicknesses and initial amounts)."""
    return compose(Chen2020.get_parameter_values, ["Chen2020"])


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="NMC811")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return with_default_design(base_parameter_values(), "NMC811")
