"""Turn a CellDesign and a Protocol into PyBaMM parameter values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pybamm
from scipy.optimize import brentq

from twin.design import CellDesign
from twin.errors import DesignError
from twin.parameters._compose import base_lfp, base_nmc532, base_nmc622, base_nmc811
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.parameters.stack_pressure import dead_layer_porosity, deposit_porosity
from twin.protocol import DEFAULT_VOLTAGE_WINDOW_V, Protocol
from twin.units import AH_M2_PER_MAH_CM2, FARADAY_C_PER_MOL, M2_PER_CM2, mol_per_m2_from_mAh_per_cm2

PARAMETER_SETS = {
    "NMC811": base_nmc811,
    "NMC622": base_nmc622,
    "NMC532": base_nmc532,
    "LFP": base_lfp,
}
MAX_CATHODE_THICKNESS_M = 250e-6
# The cathode is never filled beyond this Li fraction: the OCP fits of Chen2020, Xu2019 and
# Prada2013 stay above the lower cut-off almost to x = 1, where the kinetics vanish.
MAX_CATHODE_STOICHIOMETRY = 0.99


@lru_cache(maxsize=8)
def _base_values(cathode: str) -> dict:
    return PARAMETER_SETS[cathode]()


def _ocp_volts(cathode: str, stoichiometry: float) -> float:
    ocp = _base_values(cathode)["Positive electrode OCP [V]"]
    return float(ocp(pybamm.Scalar(stoichiometry)).evaluate())


@lru_cache(maxsize=32)
def stoichiometry_window(cathode: str, v_min: float, v_max: float) -> tuple[float, float]:
    """Cathode Li fractions (x at v_max, x at v_min) on the OCP vs a Li-metal electrode."""
    grid = np.linspace(1e-3, 0.999, 400)
    # one evaluation of the OCP expression on the whole grid (bitwise the values of 400
    # scalar evaluations, 300-600x faster: a fresh process pays it once per window)
    ocp = _base_values(cathode)["Positive electrode OCP [V]"]
    volts = np.asarray(ocp(pybamm.Vector(grid)).evaluate(), dtype=float).ravel()

    def crossing(target: float) -> float:
        above = volts - target
        idx = np.nonzero(np.sign(above[:-1]) != np.sign(above[1:]))[0]
        if len(idx) == 0:  # the OCP never reaches the target inside (0, 1)
            return float(grid[0] if target > volts.max() else grid[-1])
        i = idx[0]
        return float(brentq(lambda x: _ocp_volts(cathode, x) - target, grid[i], grid[i + 1]))

    return crossing(v_max), min(crossing(v_min), MAX_CATHODE_STOICHIOMETRY)


def cathode_thickness_m(design: CellDesign, protocol: Protocol) -> float:
    """Cathode thickness [m] that holds the design's areal capacity between the
    chemistry's standard cut-offs (`DEFAULT_VOLTAGE_WINDOW_V`): the areal capacity is
    the rated one, so a protocol with another window (a 4.4 V charge) reaches more or
    less of the same cathode, as a lab's cell does. `protocol` is checked (its window
    must suit the cathode) but does not change the thickness."""
    protocol.voltage_window(design.cathode)
    values = _base_values(design.cathode)
    x_top, x_bottom = stoichiometry_window(design.cathode, *DEFAULT_VOLTAGE_WINDOW_V[design.cathode])
    eps_s = values["Positive electrode active material volume fraction"]
    c_max = values["Maximum concentration in positive electrode [mol.m-3]"]
    q_C_m2 = mol_per_m2_from_mAh_per_cm2(design.areal_capacity_mAh_cm2) * FARADAY_C_PER_MOL
    return q_C_m2 / (eps_s * c_max * FARADAY_C_PER_MOL * (x_bottom - x_top))


def parameter_values(
    design: CellDesign,
    protocol: Protocol,
    overrides: Mapping[str, float] | None = None,
) -> pybamm.ParameterValues:
    """PyBaMM parameter values for `design` cycled with `protocol`.

    `overrides` replaces any parameter by name (degradation rates from a strategy or
    a calibration; a value may be the string "[input]").
    """
    values = dict(_base_values(design.cathode))
    v_min, v_max = protocol.voltage_window(design.cathode)
    x_top, x_bottom = stoichiometry_window(design.cathode, v_min, v_max)
    L_p = cathode_thickness_m(design, protocol)
    if L_p > MAX_CATHODE_THICKNESS_M:
        raise DesignError(
            "areal_capacity_mAh_cm2",
            f"{design.areal_capacity_mAh_cm2} mAh/cm2 needs a {L_p * 1e6:.0f} um {design.cathode} "
            f"cathode, thicker than the {MAX_CATHODE_THICKNESS_M * 1e6:.0f} um the twin supports",
        )
    c_max = values["Maximum concentration in positive electrode [mol.m-3]"]
    eps_p = values["Positive electrode porosity"]
    L_sep = design.separator_thickness_um * 1e-6
    q_mol_m2 = mol_per_m2_from_mAh_per_cm2(design.areal_capacity_mAh_cm2)
    q_Ah_m2 = design.areal_capacity_mAh_cm2 * AH_M2_PER_MAH_CM2
    area_m2 = design.electrode_area_cm2 * M2_PER_CM2
    T_K = design.temperature_degC + 273.15
    n_li0 = design.np_ratio * q_mol_m2
    values.update({
        "Positive electrode thickness [m]": L_p,
        "Initial concentration in positive electrode [mol.m-3]": x_bottom * c_max,
        "Separator thickness [m]": L_sep,
        "Separator porosity": design.separator_porosity,
        "Negative electrode thickness [m]": max(n_li0 * values[P.li_partial_molar_volume], 1e-6),
        "Negative current collector thickness [m]": design.copper_foil_um * 1e-6,
        "Positive current collector thickness [m]": design.aluminium_foil_um * 1e-6,
        "Electrode height [m]": math.sqrt(area_m2),
        "Electrode width [m]": math.sqrt(area_m2),
        "Number of electrodes connected in parallel to make a cell": float(design.layers),
        "Nominal cell capacity [A.h]": design.nominal_capacity_Ah,
        "Ambient temperature [K]": T_K,
        "Initial temperature [K]": T_K,
        "Reference temperature [K]": values.get("Reference temperature [K]", 298.15),
        P.initial_active_li: n_li0,
        P.initial_deposit: 0.0,
        P.reference_li_amount: q_mol_m2,
        P.initial_electrolyte_mass: design.electrolyte_g_per_Ah * q_Ah_m2 / 1000.0,
        P.wetted_pore_volume: eps_p * L_p + design.separator_porosity * L_sep,
        P.stack_thickness_excluding_anode: (design.copper_foil_um + design.aluminium_foil_um) * 1e-6
        + L_p + L_sep,
        P.plating_current_density: protocol.charge_rate_C * q_Ah_m2,
        P.stack_pressure: design.stack_pressure_kPa * 1e3,
        P.deposit_porosity: deposit_porosity(design.stack_pressure_kPa),
        P.dead_li_layer_porosity: dead_layer_porosity(design.stack_pressure_kPa),
    })
    values.pop("citations", None)
    pv = pybamm.ParameterValues(values)
    if overrides:
        unknown = sorted(k for k in overrides if k not in pv.keys())
        if unknown:
            raise DesignError("parameters", f"unknown parameter {unknown[0]!r}")
        for name, value in overrides.items():
            validate_override(name, value)
        pv.update(dict(overrides))
    return pv


def registered_parameter_values(cathode: str) -> dict:
    """The registered PyBaMM parameter set of `cathode` (twin.parameters.lithium_metal_*):
    complete for the twin's model (`twin.model.build_model`), the base values plus those
    of the default design (`CellDesign(cathode=cathode)`, 4 mAh/cm2, N:P 2, 3 g/Ah,
    25 degC) cycled with the default `Protocol()`, with the base set's citations."""
    values = dict(parameter_values(CellDesign(cathode=cathode), Protocol()).items())
    values["citations"] = list(_base_values(cathode).get("citations", []))
    return values


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
