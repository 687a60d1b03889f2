"""Li metal || LFP baseline parameter set of the twin.

Cathode (LiFePO4), separator and electrolyte from Prada et al., J. Electrochem. Soc.
160, A616 (2013) (PyBaMM set `Prada2013`); Li-metal anode and degradation parameters
from `twin.parameters.lithium_metal_anode`. The design overwrites thicknesses and
initial amounts: see `twin.cell_parameters`.

Registered as the PyBaMM parameter set "LithiumMetal_LFP_Twin2026".
"""

from pybamm.input.parameters.lithium_ion import Prada2013

from twin.parameters._compose import compose, with_default_design


def base_parameter_values() -> dict:
    """Flat dictionary of the design-independent parameter values, with "citations"
    (`twin.cell_parameters` adds the design's thicknesses and initial amounts)."""
    return compose(Prada2013.get_parameter_values, ["Prada2013"])


def get_parameter_values() -> dict:
    """The registered set: complete for the twin's model (`twin.model.build_model`),
    the base values plus those of the default design (`CellDesign(cathode="LFP")`,
    4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC) cycled with the default `Protocol()`."""
    return with_default_design(base_parameter_values(), "LFP")
