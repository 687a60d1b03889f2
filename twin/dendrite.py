"""Dendrite onset on lithium metal: Chazalviel's space-charge model.

Chazalviel, "Electrochemical aspects of the generation of ramified metallic
electrodeposits", Phys. Rev. A 42, 7355 (1990): in a binary electrolyte between two
electrodes a distance L apart, the salt concentration at the depositing electrode stays
positive at steady state only below the limiting current density

    J* = 2 z F C0 D / (t_a L)

(the paper writes 2 e C0 D / (t_a L) with C0 a number density; z F C0 is the same
charge density per volume with C0 in mol/m3). Above J* the surface concentration
reaches zero at Sand's time

    t_Sand = pi D (z C0 F)^2 / (4 (J t_a)^2),

a space charge builds up and ramified (dendritic) growth starts. Sand's formula is the
semi-infinite-diffusion result; it is also used as the onset time of dendritic growth
when the charge lasts longer than it (Bai, Li, Brushett, Bazant, Energy Environ. Sci.
9, 3221, 2016).

The twin flags a design only when its CC charge current density exceeds J*. Below J*
a cell of finite inter-electrode distance reaches a steady concentration profile whose
surface concentration stays positive, so Sand's time (the semi-infinite result) does
not apply: growth there is mossy, from the root, not tip-driven dendritic (Bai et al.
2016 observe the transition from mossy to dendritic growth at Sand's time only above
the limiting current). Sand's time is still reported: above J* it is when the
dendrites start. D is the free-electrolyte
diffusivity (Chazalviel's model is for a free electrolyte; a separator's tortuosity
would lower both J* and t_Sand, so the flag is not conservative for very tortuous
separators).

Pure functions with SI units, plus `assess_dendrite_risk` that reads the electrolyte
of a design's PyBaMM parameter set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from twin.design import CellDesign
from twin.protocol import Protocol
if TYPE_CHECKING:
    import pybamm

from twin.units import (
    A_M2_PER_MA_CM2, FARADAY_C_PER_MOL, MA_CM2_PER_A_M2, SECONDS_PER_HOUR, mAh_per_cm2_from_mol_per_m2,
)

# 1 A/m2 = 0.1 mA/cm2


def anion_transference_number(cation_transference_number: float) -> float:
    """t_a = 1 - t+ [-] for a binary salt."""
    if not 0 <= cation_transference_number < 1:
        raise ValueError(f"cation transference number must lie in [0, 1), got {cation_transference_number}")
    return 1.0 - cation_transference_number


def limiting_current_density_A_m2(
    concentration_mol_m3: float,
    diffusivity_m2_s: float,
    anion_transference: float,
    distance_m: float,
    charge_number: int = 1,
) -> float:
    """Chazalviel's limiting current density J* = 2 z F C0 D / (t_a L) [A/m2].

    concentration_mol_m3: bulk salt concentration C0 [mol/m3];
    diffusivity_m2_s: ambipolar salt diffusivity D [m2/s];
    anion_transference: t_a = 1 - t+ [-];
    distance_m: inter-electrode distance L [m] (the separator thickness);
    charge_number: z of the cation [-].
    """
    _require_positive(concentration_mol_m3=concentration_mol_m3, diffusivity_m2_s=diffusivity_m2_s,
                      anion_transference=anion_transference, distance_m=distance_m)
    return 2.0 * charge_number * FARADAY_C_PER_MOL * concentration_mol_m3 * diffusivity_m2_s / (
        anion_transference * distance_m
    )


def sands_time_s(
    concentration_mol_m3: float,
    diffusivity_m2_s: float,
    anion_transference: float,
    current_density_A_m2: float,
    charge_number: int = 1,
) -> float:
    """Sand's time t_Sand = pi D (z C0 F)^2 / (4 (J t_a)^2) [s]: when the salt
    concentration at an electrode depositing at current density J [A/m2] reaches zero.

    concentration_mol_m3: C0 [mol/m3]; diffusivity_m2_s: D [m2/s];
    anion_transference: t_a [-]; current_density_A_m2: J [A/m2]; charge_number: z [-].
    Infinite at J = 0.
    """
    _require_positive(concentration_mol_m3=concentration_mol_m3, diffusivity_m2_s=diffusivity_m2_s,
                      anion_transference=anion_transference)
    if current_density_A_m2 < 0:
        raise ValueError(f"current_density_A_m2 must not be negative, got {current_density_A_m2}")
    if current_density_A_m2 == 0:
        return math.inf
    charge_density_C_m3 = charge_number * concentration_mol_m3 * FARADAY_C_PER_MOL
    return math.pi * diffusivity_m2_s * charge_density_C_m3**2 / (
        4.0 * (current_density_A_m2 * anion_transference) ** 2
    )


def _require_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{name} must be a positive finite number, got {value}")


@dataclass(frozen=True)
class DendriteRisk:
    """Chazalviel-model assessment of one design's CC charge."""

    limiting_current_density_mA_cm2: float
    sand_time_s: float
    charge_current_density_mA_cm2: float
    charge_time_s: float
    flag: bool
    reason: str
    # the separator's dendrite threshold factor already in limiting_current_density_mA_cm2
    threshold_factor: float = 1.0

    def with_threshold_factor(self, threshold_factor: float) -> DendriteRisk:
        """This assessment with Chazalviel's limiting current raised by `threshold_factor`
        (a separator's dendrite threshold, `coated_limiting_current_density`). J* = 2 z F
        C0 D / (t_a L) and t_Sand ~ 1 / t_a^2: a separator that raises J* by f acts like an
        anion transference number t_a / f near the electrode, so Sand's time rises by
        f^2. The flag is `risk_reason`'s criterion (above J* only)."""
        if threshold_factor == 1.0:
            return self
        j_star = coated_limiting_current_density(self.limiting_current_density_mA_cm2, threshold_factor)
        t_sand = self.sand_time_s * threshold_factor**2
        reason = risk_reason(self.charge_current_density_mA_cm2, j_star)
        return replace(self, limiting_current_density_mA_cm2=j_star, sand_time_s=t_sand, flag=bool(reason),
                       reason=reason, threshold_factor=self.threshold_factor * threshold_factor)

    @property
    def electrolyte_limiting_current_density_mA_cm2(self) -> float:
        """Chazalviel's J* [mA/cm2] of the electrolyte across the bare separator (before
        the separator's threshold factor)."""
        return self.limiting_current_density_mA_cm2 / self.threshold_factor

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        if math.isinf(self.sand_time_s):
            values["sand_time_s"] = None  # JSON has no infinity
        return values


def coated_limiting_current_density(limiting_current_density: float, coating_factor: float) -> float:
    """The limiting current density of a coated separator, f J* (same unit as J*): a
    coating that raises the local Li+ transference (or evens the Li+ flux) by the
    strategy's dendrite threshold factor f (> 0)."""
    _require_positive(coating_factor=coating_factor)
    return limiting_current_density * coating_factor


def risk_reason(charge_current_density: float, limiting_current_density: float) -> str:
    """Why a CC charge grows dendrites, or "" when it does not (current densities in the
    same unit): only above Chazalviel's limiting current density. Above J* the surface
    concentration reaches zero at Sand's time, which a CC charge of practical length
    outlasts; below it Sand's (semi-infinite) time does not apply."""
    if charge_current_density <= limiting_current_density:
        return ""
    return "charge current density above the limiting current density"


def dendrite_risk(
    concentration_mol_m3: float,
    diffusivity_m2_s: float,
    cation_transference_number: float,
    separator_thickness_m: float,
    charge_current_density_A_m2: float,
    charge_time_s: float,
) -> DendriteRisk:
    """Flag a CC charge at `charge_current_density_A_m2` [A/m2] lasting `charge_time_s`
    [s] when it exceeds Chazalviel's J* (Sand's time is reported; it applies only above J*)."""
    t_a = anion_transference_number(cation_transference_number)
    j_star = limiting_current_density_A_m2(concentration_mol_m3, diffusivity_m2_s, t_a,
                                           separator_thickness_m)
    t_sand = sands_time_s(concentration_mol_m3, diffusivity_m2_s, t_a, charge_current_density_A_m2)
    reason = risk_reason(charge_current_density_A_m2, j_star)
    return DendriteRisk(
        limiting_current_density_mA_cm2=j_star * MA_CM2_PER_A_M2,
        sand_time_s=t_sand,
        charge_current_density_mA_cm2=charge_current_density_A_m2 * MA_CM2_PER_A_M2,
        charge_time_s=charge_time_s,
        flag=bool(reason),
        reason=reason,
    )


def charge_current_density_A_m2(design: CellDesign, protocol: Protocol) -> float:
    """CC charge current density [A/m2] = C-rate x areal capacity (10 A/m2 per mA/cm2 per h)."""
    return protocol.charge_rate_C * design.areal_capacity_mAh_cm2 * A_M2_PER_MA_CM2


def assess_dendrite_risk(
    design: CellDesign,
    protocol: Protocol,
    values: pybamm.ParameterValues,
    inputs: Mapping[str, float] | None = None,
) -> DendriteRisk:
    """Dendrite risk of `design`'s CC charge under `protocol`, from the electrolyte of
    its parameter values `values`: initial salt concentration, diffusivity and cation
    transference number at that concentration and the cell temperature; L is the
    separator thickness. The CC charge time is the nominal 1/C-rate hours (an upper
    bound: the CV hold takes the last part of the charge). Parameters given as
    "[input]" take their value from `inputs`; KeyError when one is missing."""
    c0, diffusivity, t_plus = electrolyte_transport(design, values, inputs)
    separator_m = _evaluate(values, "Separator thickness [m]", inputs)
    return design_dendrite_risk(design, protocol, c0, diffusivity, t_plus, separator_m)


def _evaluate(values: pybamm.ParameterValues, symbol: Any, inputs: Mapping[str, float] | None) -> float:
    """A parameter (by name) or expression of `values`; KeyError for an "[input]" without a value."""
    import pybamm

    if isinstance(symbol, str):
        symbol = pybamm.Parameter(symbol)
    try:
        return float(values.evaluate(symbol, inputs=dict(inputs or {})))
    except (KeyError, ValueError) as err:  # an "[input]" without a value
        raise KeyError(f"cannot evaluate {symbol.name!r}: {err}") from err


def electrolyte_transport(design: CellDesign, values: pybamm.ParameterValues,
                          inputs: Mapping[str, float] | None = None) -> tuple[float, float, float]:
    """(initial salt concentration [mol/m3], its diffusivity [m2/s], cation
    transference number) of `values` at the design's temperature."""
    import pybamm

    param = pybamm.LithiumIonParameters()
    c0 = _evaluate(values, "Initial concentration in electrolyte [mol.m-3]", inputs)
    T = pybamm.Scalar(design.temperature_degC + 273.15)
    c = pybamm.Scalar(c0)
    return c0, _evaluate(values, param.D_e(c, T), inputs), _evaluate(values, param.t_plus(c, T), inputs)


def design_dendrite_risk(design: CellDesign, protocol: Protocol, concentration_mol_m3: float,
                         diffusivity_m2_s: float, cation_transference_number: float,
                         separator_thickness_m: float) -> DendriteRisk:
    """`dendrite_risk` of the design's CC charge (current density from the design and
    protocol, charge time the nominal 1/C-rate hours) with the electrolyte's transport
    numbers [mol/m3, m2/s, -] and separator thickness [m]."""
    return dendrite_risk(
        concentration_mol_m3=concentration_mol_m3,
        diffusivity_m2_s=diffusivity_m2_s,
        cation_transference_number=cation_transference_number,
        separator_thickness_m=separator_thickness_m,
        charge_current_density_A_m2=charge_current_density_A_m2(design, protocol),
        charge_time_s=SECONDS_PER_HOUR / protocol.charge_rate_C,
    )


# ---------------------------------------------------------------------------------------
# Shorts: when the porous dead-Li layer (or, above J*, a dendrite) bridges the separator
#
# Below J* Li grows mossy, from the root (Bai et al. 2016), and a cell shorts when its
# porous dead-Li layer has grown thick enough for whiskers to work through the
# separator's pores (soft shorts: transient contacts that precede hard ones; Menkin,
# Fritzke, Larner, de Leeuw, Choi, Gunnarsdottir, Grey, "Insights into soft short
# circuit-based degradation of lithium metal batteries", Faraday Discussions 2023, show
# them in symmetric cells under realistic conditions). The layer thickness at which
# that happens is taken to scale with the separator's solid thickness L_sep (1 - eps_sep)
# and with the strength of a coated separator (the strategy's dendrite threshold factor,
# 2-3x for ceramic or garnet coatings), and to vanish as the current density approaches
# the limiting current -- the coated separator's, f_coat J* (J* of the electrolyte across
# the bare separator), the same J* that decides the dendrite flag:
#
#     L_short = L_ref x [L_sep (1 - eps_sep)] / [L_sep,ref (1 - eps_ref)] x f_coat x max(0, 1 - J/(f_coat J*))
#
# One rule for every cell (`separator_short_threshold`): full cells (the CC charge
# current density against the design's J*) and Li||Li test cells (the test current
# density against the coin cell's J*, which falls with the salt concentration) take the
# coating in both places.
#
# L_ref (A, not a measured number): 400 um of dead-Li layer shorts the reference 25 um,
# 39 % porous polyolefin of a coin cell. With it a full cell with the 12 um default
# separator runs out of Li (N:P 3, ~10 mAh/cm2 of dead Li) before it shorts, the
# published full cells (tens of um of porous Li over 200 cycles, Niu et al. 2019) do not
# short, and a Li||Li coin cell with a thin (8 um) separator and a mossy, lossy deposit
# does.
# Above J* (L_short = 0) the dendrites start at Sand's time and cross the separator at
# the anion drift velocity within seconds (Chazalviel 1990): a hard short at t_Sand.
SHORT_LAYER_REFERENCE_THICKNESS_M = 400e-6
SHORT_REFERENCE_SEPARATOR_THICKNESS_M = 25e-6
SHORT_REFERENCE_SEPARATOR_POROSITY = 0.39


def short_layer_thickness_m(separator_thickness_m: float, separator_porosity: float,
                            current_density_A_m2: float, limiting_current_density_A_m2: float,
                            coating_factor: float = 1.0) -> float:
    """Dead-Li/SEI layer thickness [m] at which a cell shorts (see the block comment):
    L_ref x solid separator thickness over the reference's x `coating_factor` x
    max(0, 1 - J/J*). 0 at or above the limiting current density J* (a hard short at
    Sand's time).

    separator_thickness_m [m]; separator_porosity [-], in [0, 1); current_density_A_m2
    and limiting_current_density_A_m2 [A/m2] (J* > 0); coating_factor [-] (> 0).
    """
    _require_positive(separator_thickness_m=separator_thickness_m,
                      limiting_current_density_A_m2=limiting_current_density_A_m2, coating_factor=coating_factor)
    if not 0 <= separator_porosity < 1:
        raise ValueError(f"separator_porosity must lie in [0, 1), got {separator_porosity}")
    if not current_density_A_m2 >= 0:
        raise ValueError(f"current_density_A_m2 must not be negative, got {current_density_A_m2}")
    solid = separator_thickness_m * (1 - separator_porosity)
    reference = SHORT_REFERENCE_SEPARATOR_THICKNESS_M * (1 - SHORT_REFERENCE_SEPARATOR_POROSITY)
    margin = max(0.0, 1.0 - current_density_A_m2 / limiting_current_density_A_m2)
    return SHORT_LAYER_REFERENCE_THICKNESS_M * solid / reference * coating_factor * margin


@dataclass(frozen=True)
class ShortThreshold:
    """When a cell with a (possibly coated) separator shorts, at one current density."""

    limiting_current_density_A_m2: float  # f_coat J* [A/m2]
    layer_thickness_m: float              # dead-Li layer that shorts [m]; 0 at or above f_coat J*
    hard: bool                            # above f_coat J*: dendrites from Sand's time on


def separator_short_threshold(separator_thickness_m: float, separator_porosity: float,
                              current_density_A_m2: float, electrolyte_limiting_current_density_A_m2: float,
                              coating_factor: float = 1.0) -> ShortThreshold:
    """The short rule of every cell (see the block comment): the coating raises the
    limiting current to f_coat J* (`coated_limiting_current_density`) and scales the
    layer that shorts (`short_layer_thickness_m` at that limiting current).

    separator_thickness_m [m]; separator_porosity [-]; current_density_A_m2 [A/m2];
    electrolyte_limiting_current_density_A_m2: J* of the electrolyte across the bare
    separator [A/m2]; coating_factor: the separator's dendrite threshold factor [-]."""
    j_star = coated_limiting_current_density(electrolyte_limiting_current_density_A_m2, coating_factor)
    layer = short_layer_thickness_m(separator_thickness_m, separator_porosity, current_density_A_m2, j_star,
                                    coating_factor)
    return ShortThreshold(j_star, layer, current_density_A_m2 > j_star)


def short_dead_li_mAh_cm2(layer_thickness_m: float, dead_layer_porosity: float,
                          li_molar_volume_m3_mol: float) -> float:
    """Dead Li [mAh/cm2] whose porous layer (porosity `dead_layer_porosity`) is
    `layer_thickness_m` [m] thick: n = L (1 - eps) / V_Li."""
    return mAh_per_cm2_from_mol_per_m2(layer_thickness_m * (1 - dead_layer_porosity) / li_molar_volume_m3_mol)


def short_dead_li_limit_mAh_cm2(
    design: CellDesign,
    risk: DendriteRisk,
    values: pybamm.ParameterValues,
    inputs: Mapping[str, float] | None = None,
) -> float | None:
    """Dead Li [mAh/cm2] at which a full cell of `design` shorts: its dead-Li layer
    (porosity from `values`) reaches the layer of `separator_short_threshold` for the
    design's separator, the CC charge current density against the electrolyte's
    limiting current of `risk` and the separator threshold factor `risk` carries (the
    strategies', applied with `DendriteRisk.with_threshold_factor`). None when the
    layer porosity is an "[input]" without a value."""
    from twin.parameters.li_metal import LithiumMetalParameters as P

    try:
        porosity = _evaluate(values, P.dead_li_layer_porosity, inputs)
        v_li = _evaluate(values, P.li_partial_molar_volume, inputs)
    except KeyError:
        return None
    return short_dead_li_from(design, risk, porosity, v_li)


def short_dead_li_from(design: CellDesign, risk: DendriteRisk, dead_layer_porosity: float,
                       li_molar_volume_m3_mol: float) -> float:
    """`short_dead_li_limit_mAh_cm2` [mAh/cm2] with the dead-Li layer porosity [-] and
    the Li molar volume [m3/mol] given."""
    threshold = separator_short_threshold(
        design.separator_thickness_um * 1e-6, design.separator_porosity,
        risk.charge_current_density_mA_cm2 * A_M2_PER_MA_CM2,
        risk.electrolyte_limiting_current_density_mA_cm2 * A_M2_PER_MA_CM2, risk.threshold_factor)
    return short_dead_li_mAh_cm2(threshold.layer_thickness_m, dead_layer_porosity, li_molar_volume_m3_mol)
