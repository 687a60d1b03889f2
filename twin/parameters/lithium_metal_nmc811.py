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

from twin.parameters._compose import compose


def get_parameter_values() -> dict:
    """Flat dictionary of dimensional parameter values, with "citations"."""
    return compose(Chen2020.get_parameter_values, ["Chen2020"])
