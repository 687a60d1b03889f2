"""The design's parameter values: the numbers a `CellDesign` and a `Protocol` set in the
twin's PyBaMM parameter set, in plain Python.

`twin.cell_parameters.parameter_values` puts them into the cathode's parameter set; a
compiled fast-mode run (`twin.compiled`) computes them for a design it has never seen
without PyBaMM, from the cathode's `CathodeConstants` (read from PyBaMM once, stored in
the artefact). One function for both, so both get the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.design import CellDesign
from twin.errors import DesignError
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.parameters.stack_pressure import dead_layer_porosity, deposit_porosity
from twin.protocol import Protocol
from twin.units import AH_M2_PER_MAH_CM2, FARADAY_C_PER_MOL, M2_PER_CM2, mol_per_m2_from_mAh_per_cm2

MAX_CATHODE_THICKNESS_M = 250e-6

# Design fields that reach the model only through `FAST_DESIGN_INPUTS` and the slow
# states' initial values: fast mode's model takes them as inputs, so one compiled cycle
# serves every value of them (the other fields are baked into the model).
INPUT_DESIGN_FIELDS = ("areal_capacity_mAh_cm2", "np_ratio", "electrolyte_g_per_Ah")
# The parameters those fields set (besides the slow states'), "[input]" in fast mode's model.
FAST_DESIGN_INPUTS = (
    "Positive electrode thickness [m]", "Negative electrode thickness [m]", "Nominal cell capacity [A.h]",
    P.reference_li_amount, P.wetted_pore_volume, P.stack_thickness_excluding_anode, P.plating_current_density,
)


@dataclass(frozen=True)
class CathodeConstants:
    """What the design's numbers need of a cathode's parameter set and voltage window.

    c_max: maximum Li concentration [mol/m3]; eps_s: active material volume fraction;
    eps_p: porosity; v_li: Li-metal partial molar volume [m3/mol]; x_top, x_bottom:
    cathode Li fractions at the protocol's upper and lower cut-off; x_top_rated,
    x_bottom_rated: the same at the chemistry's standard cut-offs (the rated capacity).
    """

    c_max: float
    eps_s: float
    eps_p: float
    v_li: float
    x_top: float
    x_bottom: float
    x_top_rated: float
    x_bottom_rated: float


def rated_cathode_thickness_m(design: CellDesign, constants: CathodeConstants) -> float:
    """Cathode thickness [m] that holds the design's areal capacity between the
    chemistry's standard cut-offs (see `twin.cell_parameters.cathode_thickness_m`)."""
    q_C_m2 = mol_per_m2_from_mAh_per_cm2(design.areal_capacity_mAh_cm2) * FARADAY_C_PER_MOL
    return q_C_m2 / (constants.eps_s * constants.c_max * FARADAY_C_PER_MOL
                     * (constants.x_bottom_rated - constants.x_top_rated))


def design_values(design: CellDesign, protocol: Protocol, constants: CathodeConstants) -> dict[str, float]:
    """The parameter values [SI units, PyBaMM names] `design` cycled with `protocol` sets.

    Raises
    ------
    DesignError
        When the design's cathode would be thicker than `MAX_CATHODE_THICKNESS_M`.
    """
    L_p = rated_cathode_thickness_m(design, constants)
    if L_p > MAX_CATHODE_THICKNESS_M:
        raise DesignError(
            "areal_capacity_mAh_cm2",
            f"{design.areal_capacity_mAh_cm2} mAh/cm2 needs a {L_p * 1e6:.0f} um {design.cathode} "
            f"cathode, thicker than the {MAX_CATHODE_THICKNESS_M * 1e6:.0f} um the twin supports",
        )
    L_sep = design.separator_thickness_um * 1e-6
    q_mol_m2 = mol_per_m2_from_mAh_per_cm2(design.areal_capacity_mAh_cm2)
    q_Ah_m2 = design.areal_capacity_mAh_cm2 * AH_M2_PER_MAH_CM2
    area_m2 = design.electrode_area_cm2 * M2_PER_CM2
    T_K = design.temperature_degC + 273.15
    n_li0 = design.np_ratio * q_mol_m2
    return {
        "Positive electrode thickness [m]": L_p,
        "Initial concentration in positive electrode [mol.m-3]": constants.x_bottom * constants.c_max,
        "Separator thickness [m]": L_sep,
        "Separator porosity": design.separator_porosity,
        "Negative electrode thickness [m]": max(n_li0 * constants.v_li, 1e-6),
        "Negative current collector thickness [m]": design.copper_foil_um * 1e-6,
        "Positive current collector thickness [m]": design.aluminium_foil_um * 1e-6,
        "Electrode height [m]": math.sqrt(area_m2),
        "Electrode width [m]": math.sqrt(area_m2),
        "Number of electrodes connected in parallel to make a cell": float(design.layers),
        "Nominal cell capacity [A.h]": design.nominal_capacity_Ah,
        "Ambient temperature [K]": T_K,
        "Initial temperature [K]": T_K,
        P.initial_active_li: n_li0,
        P.initial_deposit: 0.0,
        P.reference_li_amount: q_mol_m2,
        P.initial_electrolyte_mass: design.electrolyte_g_per_Ah * q_Ah_m2 / 1000.0,
        P.wetted_pore_volume: constants.eps_p * L_p + design.separator_porosity * L_sep,
        P.stack_thickness_excluding_anode: (design.copper_foil_um + design.aluminium_foil_um) * 1e-6
        + L_p + L_sep,
        P.plating_current_density: protocol.charge_rate_C * q_Ah_m2,
        P.stack_pressure: design.stack_pressure_kPa * 1e3,
        P.deposit_porosity: deposit_porosity(design.stack_pressure_kPa),
        P.dead_li_layer_porosity: dead_layer_porosity(design.stack_pressure_kPa),
    }


def validate_override(name: str, value: object) -> None:
    """Physical bounds of a replaced parameter: every twin parameter is a finite,
    non-negative number; fractions and porosities lie below 1; the maximum surface
    area factor above 1. "[input]" (a value given at solve time) passes."""
    if isinstance(value, str) and value == "[input]":
        return
    if callable(value):  # a material law (function of concentration, temperature...)
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise DesignError("parameters", f"{name!r} must be a finite, non-negative number, got {value!r}")
    lowered = name.lower()
    if ("fraction" in lowered or "porosity" in lowered) and value >= 1:
        raise DesignError("parameters", f"{name!r} is a fraction and must be below 1, got {value!r}")
    if name == "Maximum Li-metal surface area factor" and value <= 1:
        raise DesignError("parameters", f"{name!r} must be greater than 1, got {value!r}")
