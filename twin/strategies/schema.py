"""Strategy schema: the knobs a strategy may turn, CE anchors, `Strategy` itself and
the families' default changes (see `twin.strategies` for the physics)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twin.errors import TwinInputError
from twin.parameters.li_metal import LithiumMetalParameters as P

FAMILIES: dict[str, str] = {
    "host": "3D host",
    "artificial-sei": "artificial SEI",
    "electrolyte": "electrolyte",
    "separator": "separator",
}


class StrategyError(TwinInputError):
    """An invalid, unknown or incompatible strategy; the message names the problem."""


@dataclass(frozen=True)
class Knob:
    """One parameter a strategy may change: its PyBaMM name and its legal range."""

    parameter: str
    description: str
    minimum: float
    maximum: float


KNOBS: dict[str, Knob] = {
    "sei_rate_constant": Knob(
        P.sei_rate_constant, "SEI growth per unit active Li area", 0.0, 1e-3),
    "sei_fresh_surface_fraction": Knob(
        P.sei_fresh_surface_fraction,
        "share of the Li moved that re-forms SEI on freshly exposed Li (cracking)", 0.0, 0.5),
    "dead_li_fraction": Knob(
        P.dead_li_fraction,
        "share of the stripped Li left electronically isolated at 1 mA/cm2", 0.0, 0.9),
    "dead_li_current_exponent": Knob(
        P.dead_li_exponent, "how fast the dead-Li fraction rises with current density",
        0.0, 3.0),
    "dead_li_revival_rate_per_s": Knob(
        P.dead_li_revival_rate, "first-order rate at which dead Li is reconnected", 0.0, 1e-2),
    "surface_area_growth": Knob(
        P.surface_area_growth, "roughening per mole of Li moved",
        0.0, 10.0),
    "max_surface_area_factor": Knob(
        P.maximum_area_factor, "saturation of the active / geometric area", 1.0, 1000.0),
    "porous_layer_porosity": Knob(
        P.dead_li_layer_porosity, "porosity of the dead-Li/SEI layer (ionic resistance)", 0.05, 0.95),
    "porous_layer_bruggeman": Knob(
        P.dead_li_layer_bruggeman, "tortuosity exponent of the dead-Li/SEI layer", 0.5, 10.0),
    "deposit_porosity": Knob(
        P.deposit_porosity, "porosity of plated Li (swelling; hosts accommodate volume)",
        0.0, 0.95),
    "sei_molar_volume": Knob(
        P.sei_molar_volume, "SEI volume per mole of Li it holds", 1e-6, 1e-3),
    "electrolyte_consumed_per_sei_li": Knob(
        P.electrolyte_per_sei_li, "electrolyte mass reduced per mole of SEI Li",
        0.0, 1.0),
    "salt_consumed_per_sei_li": Knob(
        P.salt_per_sei_li, "salt reduced (anion-derived SEI) per mole of SEI Li [mol/mol]", 0.0, 1.0),
    "salt_molar_mass_kg_per_mol": Knob(
        P.salt_molar_mass, "molar mass of the electrolyte's salt [kg/mol]", 0.01, 0.5),
    "salt_concentration_mol_per_m3": Knob(
        P.nominal_salt_concentration, "salt concentration of the fresh electrolyte [mol/m3]", 100.0, 6000.0),
}
# The anchor's loss factor scales these three: together they set the Li lost per cycle.
LOSS_KNOBS: tuple[str, ...] = ("sei_rate_constant", "sei_fresh_surface_fraction", "dead_li_fraction")
# An electrolyte preset's salt: its concentration, molar mass and anion-derived SEI share.
SALT_KNOBS: tuple[str, ...] = ("salt_consumed_per_sei_li", "salt_molar_mass_kg_per_mol",
                               "salt_concentration_mol_per_m3")
AREA_PARAMETERS = (P.initial_area_factor, P.maximum_area_factor)
PLATING_CURRENT_PARAMETER = P.plating_current_density
MAX_GEOMETRY_FACTOR = 100.0

# Family defaults: what each family changes physically before its anchor sets the
# loss level (A: assumptions of this product, sized to the qualitative statements of the
# physics notes; a preset or user file may override any of them).
FAMILY_DEFAULTS: dict[str, dict[str, Any]] = {
    "host": {
        # 3x area: carbon scaffolds expose several times the geometric area.
        "effective_area_factor": 3.0,
        "multipliers": {"surface_area_growth": 0.5},
        # Li fills the scaffold's pores: dense-Li volume, not a mossy layer.
        "values": {"deposit_porosity": 0.1},
    },
    "artificial-sei": {
        "multipliers": {"sei_fresh_surface_fraction": 0.3, "surface_area_growth": 0.5},
    },
    "electrolyte": {},
    "separator": {
        "dendrite_threshold_factor": 2.0,
        "multipliers": {"dead_li_fraction": 0.9},
    },
}


@dataclass(frozen=True)
class CEAnchor:
    """What was measured: a Li||Cu CE (fraction) at a current density and capacity."""

    coulombic_efficiency: float
    current_density_mA_cm2: float
    capacity_mAh_cm2: float = 1.0
    note: str = ""

    def __post_init__(self) -> None:
        _check_number("anchor.coulombic_efficiency", self.coulombic_efficiency, 0.5, 0.99999)
        _check_number("anchor.current_density_mA_cm2", self.current_density_mA_cm2, 0.01, 50.0)
        _check_number("anchor.capacity_mAh_cm2", self.capacity_mAh_cm2, 0.05, 20.0)

    def to_dict(self) -> dict[str, Any]:
        return {"coulombic_efficiency": self.coulombic_efficiency,
                "current_density_mA_cm2": self.current_density_mA_cm2,
                "capacity_mAh_cm2": self.capacity_mAh_cm2, "note": self.note}


@dataclass(frozen=True)
class Strategy:
    """A protection strategy: its family, its effective parameter changes (family
    defaults already merged), its CE anchor and where it comes from."""

    name: str
    family: str
    description: str
    source: str
    multipliers: Mapping[str, float] = field(default_factory=dict)
    values: Mapping[str, float] = field(default_factory=dict)
    effective_area_factor: float = 1.0
    dendrite_threshold_factor: float = 1.0
    anchor: CEAnchor | None = None
    nucleation_overpotential_mV: float | None = None
    origin: str = "preset"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or "," in self.name or "+" in self.name:
            raise StrategyError(f"strategy name must be a non-empty string without ',' or '+', got {self.name!r}")
        if self.family not in FAMILIES:
            raise StrategyError(f"strategy {self.name!r}: unknown family {self.family!r} "
                                f"(known: {', '.join(FAMILIES)})")
        for knob, value in self.multipliers.items():
            _check_knob(knob, f"strategy {self.name!r}: multipliers")
            _check_number(f"multipliers.{knob}", value, 1e-6, 1e6)
        for knob, value in self.values.items():
            _check_knob(knob, f"strategy {self.name!r}: values")
            k = KNOBS[knob]
            _check_number(f"values.{knob}", value, k.minimum, k.maximum)
        _check_number("effective_area_factor", self.effective_area_factor, 1.0, MAX_GEOMETRY_FACTOR)
        _check_number("dendrite_threshold_factor", self.dendrite_threshold_factor, 0.1, MAX_GEOMETRY_FACTOR)

    def definition(self) -> dict[str, Any]:
        """What determines the physics (not the name or text): the anchoring cache key."""
        return {
            "family": self.family,
            "multipliers": dict(sorted(self.multipliers.items())),
            "values": dict(sorted(self.values.items())),
            "effective_area_factor": self.effective_area_factor,
            "dendrite_threshold_factor": self.dendrite_threshold_factor,
            "anchor": None if self.anchor is None else {
                k: v for k, v in self.anchor.to_dict().items() if k != "note"},
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "source": self.source,
            "origin": self.origin,
            "multipliers": dict(self.multipliers),
            "values": dict(self.values),
            "effective_area_factor": self.effective_area_factor,
            "dendrite_threshold_factor": self.dendrite_threshold_factor,
            "anchor": None if self.anchor is None else self.anchor.to_dict(),
            "nucleation_overpotential_mV": self.nucleation_overpotential_mV,
        }


def _check_number(name: str, value: Any, minimum: float, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StrategyError(f"{name} must be a finite number, got {value!r}")
    if not minimum <= value <= maximum:
        raise StrategyError(f"{name} must lie between {minimum:g} and {maximum:g}, got {value:g}")


def _check_knob(knob: str, where: str) -> None:
    if knob not in KNOBS:
        raise StrategyError(f"{where}: unknown key {knob!r} (known: {', '.join(KNOBS)})")


def with_family_defaults(
    name: str,
    family: str,
    description: str,
    source: str,
    multipliers: Mapping[str, float] | None = None,
    values: Mapping[str, float] | None = None,
    effective_area_factor: float | None = None,
    dendrite_threshold_factor: float | None = None,
    anchor: CEAnchor | None = None,
    nucleation_overpotential_mV: float | None = None,
    origin: str = "preset",
) -> Strategy:
    """A strategy whose changes start from its family's defaults; what is given here
    replaces the family default for the same key."""
    if family not in FAMILIES:
        raise StrategyError(f"strategy {name!r}: unknown family {family!r} (known: {', '.join(FAMILIES)})")
    defaults = FAMILY_DEFAULTS[family]
    return Strategy(
        name=name, family=family, description=description, source=source,
        multipliers={**defaults.get("multipliers", {}), **(multipliers or {})},
        values={**defaults.get("values", {}), **(values or {})},
        effective_area_factor=(effective_area_factor if effective_area_factor is not None
                               else defaults.get("effective_area_factor", 1.0)),
        dendrite_threshold_factor=(dendrite_threshold_factor if dendrite_threshold_factor is not None
                                   else defaults.get("dendrite_threshold_factor", 1.0)),
        anchor=anchor, nucleation_overpotential_mV=nucleation_overpotential_mV, origin=origin,
    )
