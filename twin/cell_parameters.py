"""Turn a CellDesign and a Protocol into PyBaMM parameter values."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pybamm
from scipy.optimize import brentq

from twin.design import CellDesign
from twin.design_values import (  # noqa: F401 - importable from here as before
    MAX_CATHODE_THICKNESS_M, CathodeConstants, design_values, rated_cathode_thickness_m, validate_override,
)
from twin.errors import DesignError
from twin.parameters._compose import base_lfp, base_nmc532, base_nmc622, base_nmc811
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.protocol import DEFAULT_VOLTAGE_WINDOW_V, Protocol

PARAMETER_SETS = {
    "NMC811": base_nmc811,
    "NMC622": base_nmc622,
    "NMC532": base_nmc532,
    "LFP": base_lfp,
}
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


def cathode_constants(cathode: str, v_min: float, v_max: float) -> CathodeConstants:
    """The numbers of `cathode`'s parameter set and OCP the design's values need
    (`twin.design_values`), for a protocol window [V]."""
    values = _base_values(cathode)
    x_top, x_bottom = stoichiometry_window(cathode, v_min, v_max)
    x_top_rated, x_bottom_rated = stoichiometry_window(cathode, *DEFAULT_VOLTAGE_WINDOW_V[cathode])
    return CathodeConstants(
        c_max=values["Maximum concentration in positive electrode [mol.m-3]"],
        eps_s=values["Positive electrode active material volume fraction"],
        eps_p=values["Positive electrode porosity"], v_li=values[P.li_partial_molar_volume],
        x_top=x_top, x_bottom=x_bottom, x_top_rated=x_top_rated, x_bottom_rated=x_bottom_rated,
    )


def cathode_thickness_m(design: CellDesign, protocol: Protocol) -> float:
    """Cathode thickness [m] that holds the design's areal capacity between the
    chemistry's standard cut-offs (`DEFAULT_VOLTAGE_WINDOW_V`): the areal capacity is
    the rated one, so a protocol with another window (a 4.4 V charge) reaches more or
    less of the same cathode, as a lab's cell does. `protocol` is checked (its window
    must suit the cathode) but does not change the thickness."""
    return rated_cathode_thickness_m(design, cathode_constants(design.cathode, *protocol.voltage_window(design.cathode)))


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
    constants = cathode_constants(design.cathode, *protocol.voltage_window(design.cathode))
    values.update(design_values(design, protocol, constants))
    values["Reference temperature [K]"] = values.get("Reference temperature [K]", 298.15)
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
