"""Li metal || LFP baseline parameter set of the twin.

Cathode (LiFePO4), separator and electrolyte from Prada et al., J. Electrochem. Soc.
160, A616 (2013) (PyBaMM set `Prada2013`); Li-metal anode and degradation parameters
from `twin.parameters.lithium_metal_anode`. The design overwrites thicknesses and
initial amounts: see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_LFP_Twin2026".
"""

from pybamm.input.parameters.lithium_ion import Prada2013

from twin.parameters._compose import compose


def get_parameter_values() -> dict:
    """Flat dictionary of dimensional parameter values, with "citations"."""
    return compose(Prada2013.get_parameter_values, ["Prada2013"])
