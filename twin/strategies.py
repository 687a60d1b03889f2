"""Protection strategies: named, documented sets of changes to the twin's parameters.

A strategy says *how* a protection acts (its family's physics, as multipliers and
values on the Li-metal parameters) and *what was measured* (a Li||Cu Coulombic
efficiency at a current density and test capacity, its `CEAnchor`). The anchor is
turned into parameters by `twin.anchoring`: one loss factor on the SEI rate constant,
the SEI fresh-surface fraction and the dead-Li fraction, solved so that the twin's own
simulated Li||Cu test reproduces the reported CE.

Families (physics notes, "Protection strategies"):

* ``host`` (3D hosts): more electrode area lowers the local plating current density
  (less dead Li where the dead-Li fraction rises with current density) at the cost of
  more SEI area; Li fills the host's pores, so deposits are denser (less swelling);
  confined deposition roughens the outer surface less.
* ``artificial-sei``: a mechanically robust layer resists cracking, so less fresh Li is
  exposed per mole moved, and deposition under it is more uniform.
* ``electrolyte``: the electrolyte sets the SEI chemistry and the deposit morphology,
  i.e. the SEI and dead-Li loss level itself: its anchor carries the effect.
* ``separator``: coated and ion-redistributing separators homogenise the Li+ flux and
  resist penetration: they raise the dendrite threshold (a multiplier on Chazalviel's
  limiting current, read by `twin.dendrite` users through
  `CombinedStrategy.dendrite_threshold_factor`), and only slightly lower dead Li.

Composition rule (`combine`), chosen so that combining means "put these together in
one cell":

1. Multipliers multiply (the mechanisms are independent: a host's lower local current
   and a coating's lower fresh-surface exposure act on different terms), and so do
   the effective-area and dendrite-threshold factors.
2. Absolute values (e.g. a revival rate) may be set by one strategy, or by several
   only if they agree; a value is then scaled by the other strategies' multipliers.
3. At most one electrolyte: a cell has one liquid.
4. The loss level (the anchor's loss factor) comes from exactly one anchor: the
   electrolyte's if one is given (the electrolyte sets the SEI chemistry and dead-Li
   propensity; the other strategies keep their structural effects but their anchors,
   measured with their papers' own electrolytes, are not used); otherwise the single
   anchored strategy's own. Several anchored non-electrolyte strategies without an
   electrolyte are ambiguous (each anchor describes a different cell) and are refused.

User strategies are TOML files (`load_strategy_file`); unknown keys are errors naming
the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import TwinError

FAMILIES: dict[str, str] = {
    "host": "3D host",
    "artificial-sei": "artificial SEI",
    "electrolyte": "electrolyte",
    "separator": "separator",
}


class StrategyError(TwinError, ValueError):
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
        "Li-metal SEI rate constant [mol.m-2.s-1]", "SEI growth per unit active Li area", 0.0, 1e-3),
    "sei_fresh_surface_fraction": Knob(
        "Li-metal SEI fresh-surface fraction",
        "share of the Li moved that re-forms SEI on freshly exposed Li (cracking)", 0.0, 0.5),
    "dead_li_fraction": Knob(
        "Dead lithium fraction at reference current density",
        "share of the stripped Li left electronically isolated at 1 mA/cm2", 0.0, 0.9),
    "dead_li_current_exponent": Knob(
        "Dead lithium current-density exponent", "how fast the dead-Li fraction rises with current density",
        0.0, 3.0),
    "dead_li_revival_rate_per_s": Knob(
        "Dead lithium revival rate [s-1]", "first-order rate at which dead Li is reconnected", 0.0, 1e-2),
    "surface_area_growth": Knob(
        "Li-metal surface area growth per cycled lithium [m2.mol-1]", "roughening per mole of Li moved",
        0.0, 10.0),
    "max_surface_area_factor": Knob(
        "Maximum Li-metal surface area factor", "saturation of the active / geometric area", 1.0, 1000.0),
    "porous_layer_porosity": Knob(
        "Dead lithium layer porosity", "porosity of the dead-Li/SEI layer (ionic resistance)", 0.05, 0.95),
    "porous_layer_bruggeman": Knob(
        "Dead lithium layer Bruggeman exponent", "tortuosity exponent of the dead-Li/SEI layer", 0.5, 10.0),
    "deposit_porosity": Knob(
        "Plated lithium deposit porosity", "porosity of plated Li (swelling; hosts accommodate volume)",
        0.0, 0.95),
    "sei_molar_volume": Knob(
        "Li-metal SEI molar volume per lithium [m3.mol-1]", "SEI volume per mole of Li it holds", 1e-6, 1e-3),
    "electrolyte_consumed_per_sei_li": Knob(
        "Electrolyte consumed per SEI lithium [kg.mol-1]", "electrolyte mass reduced per mole of SEI Li",
        0.0, 1.0),
}
# The anchor's loss factor scales these three: together they set the Li lost per cycle.
LOSS_KNOBS: tuple[str, ...] = ("sei_rate_constant", "sei_fresh_surface_fraction", "dead_li_fraction")
AREA_PARAMETERS = ("Initial Li-metal surface area factor", "Maximum Li-metal surface area factor")
PLATING_CURRENT_PARAMETER = "Plating current density [A.m-2]"
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


# ---------------------------------------------------------------------------------------
# User strategy files (TOML)

FILE_KEYS = ("name", "family", "description", "source", "family_defaults", "effective_area_factor",
             "dendrite_threshold_factor", "nucleation_overpotential_mV", "anchor", "multipliers", "values")
ANCHOR_KEYS = ("coulombic_efficiency", "current_density_mA_cm2", "capacity_mAh_cm2", "note")
REQUIRED_FILE_KEYS = ("name", "family", "source")


def load_strategy_file(path: str | Path) -> Strategy:
    """Read and validate one strategy from a TOML file (see experiments/strategies/)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise StrategyError(f"strategy file {path}: not found") from None
    except tomllib.TOMLDecodeError as err:
        raise StrategyError(f"strategy file {path}: not valid TOML: {err}") from None
    try:
        return strategy_from_dict(data, origin=str(path))
    except StrategyError as err:
        raise StrategyError(f"strategy file {path}: {err}") from None


def strategy_from_dict(data: Mapping[str, Any], origin: str = "dict") -> Strategy:
    """A validated strategy from a plain mapping (a parsed TOML file)."""
    _reject_unknown(data, FILE_KEYS, "")
    for key in REQUIRED_FILE_KEYS:
        if key not in data:
            raise StrategyError(f"missing required key {key!r}")
    for key in ("name", "family", "description", "source"):
        if key in data and not isinstance(data[key], str):
            raise StrategyError(f"{key} must be a string, got {data[key]!r}")
    for key in ("multipliers", "values", "anchor"):
        if key in data and not isinstance(data[key], Mapping):
            raise StrategyError(f"{key} must be a table ([{key}]), got {data[key]!r}")
    multipliers = dict(data.get("multipliers", {}))
    values = dict(data.get("values", {}))
    _reject_unknown(multipliers, tuple(KNOBS), "multipliers.")
    _reject_unknown(values, tuple(KNOBS), "values.")
    anchor = None
    if "anchor" in data:
        raw = dict(data["anchor"])
        _reject_unknown(raw, ANCHOR_KEYS, "anchor.")
        for key in ("coulombic_efficiency", "current_density_mA_cm2"):
            if key not in raw:
                raise StrategyError(f"missing required key 'anchor.{key}'")
        if not isinstance(raw.get("note", ""), str):
            raise StrategyError(f"anchor.note must be a string, got {raw['note']!r}")
        anchor = CEAnchor(**raw)
    family_defaults = data.get("family_defaults", True)
    if not isinstance(family_defaults, bool):
        raise StrategyError(f"family_defaults must be true or false, got {family_defaults!r}")
    nucleation = data.get("nucleation_overpotential_mV")
    if nucleation is not None:
        _check_number("nucleation_overpotential_mV", nucleation, 0.0, 1000.0)
    common = dict(
        name=data["name"], family=data["family"], description=data.get("description", ""),
        source=data["source"], multipliers=multipliers, values=values, anchor=anchor,
        nucleation_overpotential_mV=nucleation, origin=origin,
    )
    if family_defaults:
        return with_family_defaults(**common, effective_area_factor=data.get("effective_area_factor"),
                                    dendrite_threshold_factor=data.get("dendrite_threshold_factor"))
    return Strategy(**common, effective_area_factor=data.get("effective_area_factor", 1.0),
                    dendrite_threshold_factor=data.get("dendrite_threshold_factor", 1.0))


def _reject_unknown(data: Mapping[str, Any], known: Sequence[str], prefix: str) -> None:
    unknown = sorted(k for k in data if k not in known)
    if unknown:
        raise StrategyError(f"unknown key {prefix + unknown[0]!r} (known: {', '.join(known)})")


# ---------------------------------------------------------------------------------------
# Presets and name resolution


def presets() -> dict[str, Strategy]:
    """The built-in strategies by name (see `twin.strategy_presets`)."""
    from twin.strategy_presets import PRESETS  # imported late: the presets use this module

    return PRESETS


def get_strategy(name: str, extra: Mapping[str, Strategy] | None = None) -> Strategy:
    """A preset or a strategy from `extra` (e.g. loaded files) by name."""
    known = {**presets(), **(extra or {})}
    if name not in known:
        close = [n for n in known if name.lower() in n or n in name.lower()]
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        raise StrategyError(f"unknown strategy {name!r}{hint} (see `twin strategies list`)")
    return known[name]


def parse_strategy_spec(spec: str) -> list[str]:
    """'lhce+carbon-fiber-host' -> ['lhce', 'carbon-fiber-host']: one sweep/compare axis
    value naming strategies combined in one cell."""
    names = [part.strip() for part in str(spec).split("+")]
    if not spec or any(not n for n in names):
        raise StrategyError(f"empty strategy name in {spec!r} (use NAME or NAME+NAME)")
    return names


def resolve(items: Iterable[str | Strategy], files: Iterable[str | Path] = ()) -> list[Strategy]:
    """Strategy objects for names (presets or the strategies in `files`) and objects;
    every strategy loaded from `files` is included too."""
    loaded = [load_strategy_file(path) for path in files]
    by_name = {s.name: s for s in loaded}
    result: list[Strategy] = []
    for item in items:
        result.append(item if isinstance(item, Strategy) else get_strategy(str(item), by_name))
    for strategy in loaded:
        if all(s.name != strategy.name for s in result):
            result.append(strategy)
    return result


# ---------------------------------------------------------------------------------------
# Composition and parameter changes


@dataclass(frozen=True)
class CombinedStrategy:
    """Several strategies composed into one set of parameter changes (see `combine`)."""

    strategies: tuple[Strategy, ...]
    multipliers: Mapping[str, float]
    values: Mapping[str, float]
    effective_area_factor: float
    dendrite_threshold_factor: float
    loss_factor: float
    loss_level_from: str | None
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def parameter_values(self, base: Mapping[str, Any]) -> dict[str, float]:
        """Parameter overrides (PyBaMM names) relative to the parameter values `base`
        (a full cell's or a test cell's; its "Plating current density [A.m-2]" is the
        protocol's, which a host divides by its effective area factor)."""
        out: dict[str, float] = {}
        for knob, k in KNOBS.items():
            if knob not in self.multipliers and knob not in self.values and knob not in LOSS_KNOBS:
                continue
            value = self.values.get(knob, base[k.parameter])
            value = float(value) * self.multipliers.get(knob, 1.0)
            if knob in LOSS_KNOBS:
                value *= self.loss_factor
            if not k.minimum <= value <= k.maximum:
                raise StrategyError(
                    f"strategies {' + '.join(self.names)} take {knob} to {value:g}, outside "
                    f"[{k.minimum:g}, {k.maximum:g}]")
            out[k.parameter] = value
        a = self.effective_area_factor
        if a != 1.0:
            for name in AREA_PARAMETERS:
                out[name] = out.get(name, float(base[name])) * a
            out[PLATING_CURRENT_PARAMETER] = float(base[PLATING_CURRENT_PARAMETER]) / a
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "families": [s.family for s in self.strategies],
            "multipliers": dict(self.multipliers),
            "values": dict(self.values),
            "effective_area_factor": self.effective_area_factor,
            "dendrite_threshold_factor": self.dendrite_threshold_factor,
            "loss_factor": self.loss_factor,
            "loss_level_from": self.loss_level_from,
            "notes": list(self.notes),
        }


def combine(strategies: Sequence[Strategy], loss_factors: Mapping[str, float] | None = None) -> CombinedStrategy:
    """Compose strategies by the rule in the module docstring. `loss_factors` maps an
    anchored strategy's name to its solved loss factor (see `twin.anchoring`)."""
    strategies = tuple(strategies)
    loss_factors = dict(loss_factors or {})
    names = [s.name for s in strategies]
    for name in names:
        if names.count(name) > 1:
            raise StrategyError(f"strategy {name!r} given twice")
    electrolytes = [s for s in strategies if s.family == "electrolyte"]
    if len(electrolytes) > 1:
        raise StrategyError(f"at most one electrolyte strategy per cell, got {', '.join(s.name for s in electrolytes)}")
    multipliers: dict[str, float] = {}
    values: dict[str, float] = {}
    value_owner: dict[str, str] = {}
    area = dendrite = 1.0
    for s in strategies:
        for knob, m in s.multipliers.items():
            multipliers[knob] = multipliers.get(knob, 1.0) * m
        for knob, v in s.values.items():
            if knob in values and not math.isclose(values[knob], v, rel_tol=1e-9):
                raise StrategyError(f"strategies {value_owner[knob]!r} and {s.name!r} set {knob} to different "
                                    f"values ({values[knob]:g} and {v:g})")
            values[knob], value_owner[knob] = v, s.name
        area *= s.effective_area_factor
        dendrite *= s.dendrite_threshold_factor
    if area > MAX_GEOMETRY_FACTOR or dendrite > MAX_GEOMETRY_FACTOR:
        raise StrategyError(f"strategies {' + '.join(names)} multiply the area or dendrite threshold "
                            f"beyond {MAX_GEOMETRY_FACTOR:g}x")
    notes: list[str] = []
    anchored = [s for s in strategies if s.anchor is not None]
    if electrolytes:
        owner = electrolytes[0] if electrolytes[0].anchor is not None else None
        dropped = [s.name for s in anchored if s.family != "electrolyte"]
        if dropped:
            notes.append(f"loss level from electrolyte {electrolytes[0].name!r}; the CE anchors of "
                         f"{', '.join(dropped)} (measured with other electrolytes) are not used, their "
                         f"structural effects are")
    elif len(anchored) > 1:
        raise StrategyError(
            f"strategies {', '.join(s.name for s in anchored)} were each anchored to a CE measured with "
            f"their own electrolyte; add one electrolyte strategy to set the SEI and dead-Li level")
    else:
        owner = anchored[0] if anchored else None
    if owner is not None and owner.name not in loss_factors:
        raise StrategyError(f"strategy {owner.name!r} is anchored but its loss factor was not solved")
    loss_factor = loss_factors[owner.name] if owner is not None else 1.0
    return CombinedStrategy(strategies, multipliers, values, area, dendrite, loss_factor,
                            owner.name if owner is not None else None, tuple(notes))


def prepare(items: Iterable[str | Strategy], files: Iterable[str | Path] = (), cache: Any = None) -> CombinedStrategy:
    """Names/objects (and files) -> anchored, combined strategy ready for a simulation.

    Anchors are solved with the twin's Li||Cu test (cached, see `twin.anchoring`)."""
    from twin.anchoring import solve_anchor  # late: anchoring simulates test cells

    strategies = resolve(items, files)
    if not strategies:
        raise StrategyError("no strategy given")
    # Only the anchor that sets the loss level needs solving.
    probe = combine(strategies, {s.name: 1.0 for s in strategies if s.anchor is not None})
    factors = {}
    if probe.loss_level_from is not None:
        owner = next(s for s in strategies if s.name == probe.loss_level_from)
        factors[owner.name] = solve_anchor(owner, cache=cache).loss_factor
    return combine(strategies, factors)



# ---------------------------------------------------------------------------------------
# Full cells


def full_cell_overrides(combined: CombinedStrategy, design: Any, protocol: Any) -> dict[str, float]:
    """Parameter overrides of `combined` for a full-cell design and protocol (relative to
    the design's own parameter values, whose plating current density is the protocol's
    CC charge current density)."""
    from twin.cell_parameters import parameter_values

    return combined.parameter_values(parameter_values(design, protocol))


def scale_dendrite_risk(risk: Any, threshold_factor: float) -> Any:
    """A `twin.dendrite.DendriteRisk` with Chazalviel's limiting current raised by
    `threshold_factor` (a separator's dendrite threshold). J* = 2 z F C0 D / (t_a L) and
    t_Sand ~ 1 / t_a^2: a separator that raises J* by f acts like an anion transference
    number t_a / f near the electrode, so Sand's time rises by f^2. The flag uses
    `twin.dendrite`'s criterion (above J* only)."""
    from dataclasses import replace

    if threshold_factor == 1.0 or risk is None:
        return risk
    j_star = risk.limiting_current_density_mA_cm2 * threshold_factor
    t_sand = risk.sand_time_s * threshold_factor**2
    from twin.dendrite import dendrite_reason

    reason = dendrite_reason(risk.charge_current_density_mA_cm2, j_star)
    return replace(risk, limiting_current_density_mA_cm2=j_star, sand_time_s=t_sand, flag=bool(reason),
                   reason=reason)
