"""The twin's Li-metal parameters, each name declared once (as `pybamm.LithiumIonParameters`
declares PyBaMM's).

The class attributes of `LithiumMetalParameters` are the PyBaMM parameter *names*
(strings: keys of parameter values, search-space entries, overrides -- usable without
PyBaMM); an instance's attributes of the same names are the `pybamm.Parameter` symbols
the submodels build equations from::

    LithiumMetalParameters.dead_li_fraction     # "Dead lithium fraction at reference ..."
    LithiumMetalParameters().dead_li_fraction   # pybamm.Parameter(that name)
"""

from __future__ import annotations

from typing import Any


class ParameterNames:
    """Base of a parameter-name class: its string class attributes are PyBaMM parameter
    names; an instance holds the `pybamm.Parameter` of each under the same attribute.
    `_kind` names the group in the error for an undeclared attribute."""

    _kind = "twin"

    @classmethod
    def names(cls) -> dict[str, str]:
        """Attribute -> PyBaMM parameter name, every parameter the class declares."""
        return {attr: value for attr, value in vars(cls).items()
                if not attr.startswith("_") and isinstance(value, str)}

    def __init__(self) -> None:
        import pybamm

        for attr, name in self.names().items():
            setattr(self, attr, pybamm.Parameter(name))

    def __getattr__(self, attr: str) -> Any:  # only reached for an undeclared name
        raise AttributeError(f"no {self._kind} parameter {attr!r} (declared: {', '.join(self.names())})")


class LithiumMetalParameters(ParameterNames):
    """Names (class attributes) and symbols (instance attributes) of the Li-metal
    anode's and its degradation's parameters (values in
    `twin.parameters.lithium_metal_anode`)."""

    _kind = "Li-metal"

    # Li metal and its inventory
    li_partial_molar_volume = "Lithium metal partial molar volume [m3.mol-1]"
    reference_li_amount = "Reference lithium amount [mol.m-2]"
    availability_reference_amount = "Lithium availability reference amount [mol.m-2]"
    deposit_porosity = "Plated lithium deposit porosity"
    initial_active_li = "Initial active lithium metal [mol.m-2]"
    initial_deposit = "Initial plated lithium deposit [mol.m-2]"
    # dense foil converted to porous Li (twin.submodels.porous_foil)
    foil_conversion_per_stripped_li = "Foil converted to porous lithium per stripped lithium"
    initial_porous_foil_li = "Initial porous foil lithium [mol.m-2]"
    # SEI on Li metal
    sei_rate_constant = "Li-metal SEI rate constant [mol.m-2.s-1]"
    sei_fresh_surface_fraction = "Li-metal SEI fresh-surface fraction"
    sei_reference_thickness = "Li-metal SEI diffusion reference thickness [m]"
    sei_molar_volume = "Li-metal SEI molar volume per lithium [m3.mol-1]"
    initial_sei_li = "Initial Li-metal SEI lithium [mol.m-2]"
    sei_activation_energy = "Li-metal SEI activation energy [J.mol-1]"
    sei_formation_amount = "Li-metal SEI formation amount [mol.m-2]"
    sei_formation_share = "Li-metal SEI formation share of plating"
    # dead Li
    dead_li_fraction = "Dead lithium fraction at reference current density"
    dead_li_exponent = "Dead lithium current-density exponent"
    dead_li_reference_current_density = "Dead lithium reference current density [A.m-2]"
    plating_current_density = "Plating current density [A.m-2]"
    dead_li_revival_rate = "Dead lithium revival rate [s-1]"
    dead_li_layer_porosity = "Dead lithium layer porosity"
    dead_li_layer_bruggeman = "Dead lithium layer Bruggeman exponent"
    initial_dead_li = "Initial dead lithium [mol.m-2]"
    # surface roughening
    surface_area_growth = "Li-metal surface area growth per cycled lithium [m2.mol-1]"
    maximum_area_factor = "Maximum Li-metal surface area factor"
    initial_area_factor = "Initial Li-metal surface area factor"
    # electrolyte consumption, dry-out and the stack
    electrolyte_density = "Electrolyte density [kg.m-3]"
    electrolyte_per_sei_li = "Electrolyte consumed per SEI lithium [kg.mol-1]"
    initial_electrolyte_mass = "Initial electrolyte mass [kg.m-2]"
    wetting_sharpness = "Electrolyte wetting sharpness"
    wetted_pore_volume = "Wetted pore volume excluding anode [m3.m-2]"
    stack_thickness_excluding_anode = "Stack thickness excluding anode [m]"
    # salt and solvent consumed apart; salt depletion (twin.submodels.salt_depletion)
    salt_per_sei_li = "Salt consumed per SEI lithium [mol.mol-1]"
    salt_molar_mass = "Electrolyte salt molar mass [kg.mol-1]"
    nominal_salt_concentration = "Fresh electrolyte salt concentration [mol.m-3]"
    initial_salt = "Initial electrolyte salt [mol.m-2]"
    # deposit morphology: plated amount, temperature, stack pressure (twin.submodels.deposit_morphology)
    nucleation_li_amount = "Nucleation-stage lithium amount [mol.m-2]"
    nucleation_loss_enhancement = "Nucleation-stage loss enhancement"
    morphology_reference_temperature = "Deposit morphology reference temperature [K]"
    deposit_coarsening_activation_energy = "Deposit coarsening activation energy [J.mol-1]"
    stack_pressure = "Stack pressure [Pa]"
    reference_stack_pressure = "Reference stack pressure [Pa]"
    stack_pressure_half_effect = "Stack pressure half-effect [Pa]"
