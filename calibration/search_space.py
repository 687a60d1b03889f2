"""What a calibration fits: twin parameters with bounds and scales, per cell type.

A :class:`SearchSpace` holds

* continuous twin parameters (:class:`ParameterSpec`), sampled on a log scale when
  their plausible range spans decades (rate constants, fractions), linear otherwise;
  each is passed to the twin as ``"[input]"`` so one built simulation serves every
  trial;
* unknown design values (:class:`DesignChoice`, e.g. the cathode loading): these
  change the cell's geometry, cannot be solver inputs, and are sampled from a short
  list of values the objective builds (and caches) one simulation for.

:class:`Recipe` is the TOML file a user edits (``experiments/recipes/*.toml``): the
cell type (which picks the default search space), the assumed design and protocol,
model options, fixed parameter overrides, search-space changes and fit settings.
No optuna or PyBaMM here: the space is plain data; ``calibration.objective`` turns it
into ``trial.suggest_*`` calls.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

# Twin parameter names (twin/parameters/lithium_metal_anode.py).
DEAD_LI_FRACTION = "Dead lithium fraction at reference current density"
DEAD_LI_EXPONENT = "Dead lithium current-density exponent"
SEI_RATE = "Li-metal SEI rate constant [mol.m-2.s-1]"
SEI_FRESH_FRACTION = "Li-metal SEI fresh-surface fraction"
SEI_REFERENCE_THICKNESS = "Li-metal SEI diffusion reference thickness [m]"
SURFACE_GROWTH = "Li-metal surface area growth per cycled lithium [m2.mol-1]"
LAYER_BRUGGEMAN = "Dead lithium layer Bruggeman exponent"

CELL_TYPES = ("anode-free", "full-cell")
SAMPLERS = ("tpe", "cmaes", "random")
DESIGN_FIELDS = frozenset({
    "cathode", "areal_capacity_mAh_cm2", "np_ratio", "electrolyte_g_per_Ah",
    "separator_thickness_um", "separator_porosity", "electrode_area_cm2", "layers",
    "temperature_degC", "copper_foil_um", "aluminium_foil_um",
})


class RecipeError(ValueError):
    """A recipe or search space that cannot be used; the message names the entry."""


@dataclass(frozen=True)
class ParameterSpec:
    """One fitted twin parameter: name, bounds, scale and the value to start from.

    ``log``: sample log10(value) uniformly (for quantities known to a decade at best).
    ``default``: the twin's baseline value, enqueued as the first trial of a new study.
    """

    name: str
    low: float
    high: float
    log: bool = False
    default: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RecipeError(f"parameter {self.name!r}: {bound} must be a finite number, got {value!r}")
        if self.low >= self.high:
            raise RecipeError(f"parameter {self.name!r}: low {self.low} must be below high {self.high}")
        if self.log and self.low <= 0:
            raise RecipeError(f"parameter {self.name!r}: a log-scale range needs low > 0, got {self.low}")
        if self.default is not None and not self.low <= self.default <= self.high:
            raise RecipeError(
                f"parameter {self.name!r}: default {self.default} lies outside [{self.low}, {self.high}]"
            )

    def to_unit(self, value: float) -> float:
        """Position of `value` in the range as a fraction 0..1 (in log10 when `log`)."""
        if self.log:
            return (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return (value - self.low) / (self.high - self.low)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log,
                "default": self.default}


@dataclass(frozen=True)
class DesignChoice:
    """An unknown design value (a CellDesign field) tried from a short list."""

    field: str
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.field not in DESIGN_FIELDS:
            raise RecipeError(f"design choice {self.field!r}: not a design field "
                              f"(known: {', '.join(sorted(DESIGN_FIELDS))})")
        if not self.values:
            raise RecipeError(f"design choice {self.field!r}: give at least one value")
        if len(set(self.values)) != len(self.values):
            raise RecipeError(f"design choice {self.field!r}: values repeat")

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "values": list(self.values)}


@dataclass(frozen=True)
class SearchSpace:
    """Fitted parameters plus design choices; names are unique."""

    parameters: tuple[ParameterSpec, ...]
    design_choices: tuple[DesignChoice, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise RecipeError(f"parameter {duplicated[0]!r} appears twice in the search space")
        fields_ = [c.field for c in self.design_choices]
        if len(set(fields_)) != len(fields_):
            raise RecipeError("a design field appears twice among the design choices")
        if not self.parameters and not self.design_choices:
            raise RecipeError("the search space is empty: nothing to fit")

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def __getitem__(self, name: str) -> ParameterSpec:
        for spec in self.parameters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, float]:
        """Trial parameters of the baseline twin (optuna names: parameter and design names)."""
        values: dict[str, float] = {p.name: p.default for p in self.parameters if p.default is not None}
        for choice in self.design_choices:
            values[choice.field] = choice.values[0]
        return values

    def clip(self, values: Mapping[str, float]) -> dict[str, float]:
        """Keep only names of this space; parameter values are clipped into their bounds
        and design values must be one of the choices (else dropped)."""
        kept: dict[str, float] = {}
        for spec in self.parameters:
            if spec.name in values:
                kept[spec.name] = float(min(max(float(values[spec.name]), spec.low), spec.high))
        for choice in self.design_choices:
            if choice.field in values and values[choice.field] in choice.values:
                kept[choice.field] = values[choice.field]
        return kept

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": [p.to_dict() for p in self.parameters],
                "design_choices": [c.to_dict() for c in self.design_choices]}


def default_search_space(cell_type: str) -> SearchSpace:
    """The parameters a capacity-fade curve of this cell type can inform.

    Anode-free (N:P 0): every cycle's loss shows directly in capacity, so the dead-Li
    fraction (per-cycle loss proportional to stripped Li), the SEI rate constant
    (loss per unit time and area), the surface-area growth (how the SEI loss
    accelerates as deposits roughen) and the porous dead-Li layer's Bruggeman
    exponent (its ionic resistance) are fitted. Full cell (Li excess): the same, the
    capacity stays flat until the excess is consumed, so the fresh-surface SEI
    fraction is added (it sets the knee together with the dead-Li fraction).
    Bounds: one to two decades either side of the twin's baseline values.
    """
    if cell_type not in CELL_TYPES:
        raise RecipeError(f"unknown cell type {cell_type!r} (known: {', '.join(CELL_TYPES)})")
    common = [
        ParameterSpec(DEAD_LI_FRACTION, 1e-3, 0.2, log=True, default=0.008,
                      description="Li left isolated per mole stripped at the reference current density"),
        ParameterSpec(SEI_RATE, 1e-9, 1e-5, log=True, default=1.5e-8,
                      description="SEI growth per unit active area and time"),
        ParameterSpec(SURFACE_GROWTH, 1e-4, 1.0, log=True, default=0.01,
                      description="roughening: active area gained per mole of Li cycled"),
        ParameterSpec(LAYER_BRUGGEMAN, 1.5, 5.0, log=False, default=3.0,
                      description="tortuosity of the dead-Li/SEI porous layer (its ionic resistance)"),
    ]
    if cell_type == "full-cell":
        common.insert(2, ParameterSpec(SEI_FRESH_FRACTION, 1e-4, 0.05, log=True, default=0.001,
                                       description="SEI re-formed per mole of fresh Li exposed"))
    return SearchSpace(tuple(common))


@dataclass(frozen=True)
class FitSettings:
    """How a calibration runs (recipe `[fit]`; command-line options override).

    ``trials``: finished trials per study; ``sampler``: tpe, cmaes or random;
    ``startup_trials``: random trials before the sampler models the loss (and
    before pruning starts); ``polish_trials``: the last trials of a TPE/random search
    run a local CMA-ES around the best trial; ``block_cycles``: cycles per pruning
    block; ``ce_weight``: weight of the CE error; ``ensemble_size`` and
    ``ensemble_loss_ratio``: forecast members (the ensemble_size best distinct trials;
    full weight within ratio x best loss, less beyond: calibration.forecast);
    ``eol_fraction``: end of life as a fraction of the first cycle's capacity;
    ``forecast_max_cycles``: how far a forecast looks for the end of life;
    ``formation_cycles``: the first cycles (formation, often at another rate) are not
    fitted by the twin (the baseline still uses them); ``voltage_cycles``: cycles whose
    discharge voltage curve is also fitted (empty: off; needs time-series data), its
    RMS error [V] added to the loss with weight ``voltage_weight``.
    """

    trials: int = 40
    sampler: str = "tpe"
    block_cycles: int = 10
    ce_weight: float = 1.0
    ensemble_size: int = 8
    ensemble_loss_ratio: float = 2.0
    eol_fraction: float = 0.8
    forecast_max_cycles: int = 1000
    startup_trials: int = 8
    polish_trials: int = 0
    formation_cycles: int = 0
    voltage_cycles: tuple[int, ...] = ()
    voltage_weight: float = 1.0

    def __post_init__(self) -> None:
        cycles = self.voltage_cycles
        if not isinstance(cycles, (list, tuple)) or any(
                isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in cycles):
            raise RecipeError(f"fit.voltage_cycles must be a list of cycle numbers >= 1, got {cycles!r}")
        object.__setattr__(self, "voltage_cycles", tuple(sorted(set(cycles))))
        weight = self.voltage_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < math.inf:
            raise RecipeError(f"fit.voltage_weight must be a number >= 0, got {weight!r}")
        if self.sampler not in SAMPLERS:
            raise RecipeError(f"fit.sampler: unknown sampler {self.sampler!r} (known: {', '.join(SAMPLERS)})")
        for name in ("trials", "block_cycles", "ensemble_size", "forecast_max_cycles"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise RecipeError(f"fit.{name} must be a whole number >= 1, got {value!r}")
        for name in ("startup_trials", "polish_trials", "formation_cycles"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RecipeError(f"fit.{name} must be a whole number >= 0, got {value!r}")
        if not 0 < self.eol_fraction < 1:
            raise RecipeError(f"fit.eol_fraction must lie between 0 and 1, got {self.eol_fraction}")
        if not self.ce_weight >= 0:
            raise RecipeError(f"fit.ce_weight must be >= 0, got {self.ce_weight}")
        if not self.ensemble_loss_ratio >= 1:
            raise RecipeError(f"fit.ensemble_loss_ratio must be >= 1, got {self.ensemble_loss_ratio}")


@dataclass(frozen=True)
class Recipe:
    """Everything a calibration assumes about the cell besides the data.

    ``design`` and ``protocol``: CellDesign / Protocol fields (unknowns as stated
    assumptions); ``options``: Li-metal submodel options; ``overrides``: fixed twin
    parameter values; ``space``: what is fitted; ``electrolyte_density_g_per_mL``:
    turns an electrolyte volume the data state (``electrolyte_uL``) into g/Ah.
    """

    name: str
    cell_type: str
    design: dict[str, Any]
    protocol: dict[str, Any]
    space: SearchSpace
    fit: FitSettings = field(default_factory=FitSettings)
    cell_model: str = "spm"
    options: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    electrolyte_density_g_per_mL: float = 1.2
    description: str = ""
    source: str | None = None

    def with_fit(self, **changes: Any) -> Recipe:
        """A copy with some fit settings replaced (None values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, fit=replace(self.fit, **changes)) if changes else self

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "cell_type": self.cell_type, "design": dict(self.design),
            "protocol": dict(self.protocol), "cell_model": self.cell_model,
            "options": dict(self.options), "overrides": dict(self.overrides),
            "space": self.space.to_dict(), "fit": self.fit.__dict__.copy(),
            "electrolyte_density_g_per_mL": self.electrolyte_density_g_per_mL,
        }


_TOP_LEVEL = {"name", "cell_type", "description", "design", "protocol", "model", "overrides",
              "parameters", "design_choices", "fit", "electrolyte_density_g_per_mL"}
_PARAMETER_KEYS = {"low", "high", "log", "default", "fit", "description"}


def _space_from_table(cell_type: str, parameters: Mapping[str, Any],
                      design_choices: Mapping[str, Any]) -> SearchSpace:
    """Default space of the cell type changed by the recipe's [parameters.*] tables.

    ``[parameters."Name"]`` with low/high/log/default adds or replaces a fitted
    parameter; ``fit = false`` removes a default one (it keeps the twin's value or the
    recipe's [overrides] value).
    """
    specs = {p.name: p for p in default_search_space(cell_type).parameters}
    for name, table in parameters.items():
        if not isinstance(table, Mapping):
            raise RecipeError(f"parameters.{name!r} must be a table (low, high, log, default)")
        unknown = sorted(set(table) - _PARAMETER_KEYS)
        if unknown:
            raise RecipeError(f"parameters.{name!r}: unknown key {unknown[0]!r} "
                              f"(known: {', '.join(sorted(_PARAMETER_KEYS))})")
        if table.get("fit", True) is False:
            specs.pop(name, None)
            continue
        base = specs.get(name)
        values = {"low": table.get("low", base.low if base else None),
                  "high": table.get("high", base.high if base else None),
                  "log": table.get("log", base.log if base else False),
                  "default": table.get("default", base.default if base else None),
                  "description": table.get("description", base.description if base else "")}
        if values["low"] is None or values["high"] is None:
            raise RecipeError(f"parameters.{name!r}: a new fitted parameter needs low and high")
        specs[name] = ParameterSpec(name, **values)
    choices = []
    for field_name, values in design_choices.items():
        if not isinstance(values, list):
            raise RecipeError(f"design_choices.{field_name} must be a list of values")
        choices.append(DesignChoice(field_name, tuple(values)))
    return SearchSpace(tuple(specs.values()), tuple(choices))


def recipe_from_dict(data: Mapping[str, Any], name: str = "recipe", source: str | None = None) -> Recipe:
    """Build and check a Recipe from a parsed TOML document."""
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise RecipeError(f"{name}: unknown entry {unknown[0]!r} (known: {', '.join(sorted(_TOP_LEVEL))})")
    cell_type = data.get("cell_type")
    if cell_type not in CELL_TYPES:
        raise RecipeError(f"{name}: cell_type must be one of {', '.join(CELL_TYPES)}, got {cell_type!r}")
    design = dict(data.get("design", {}))
    bad_design = sorted(set(design) - DESIGN_FIELDS)
    if bad_design:
        raise RecipeError(f"{name}: design.{bad_design[0]} is not a design field")
    model = dict(data.get("model", {}))
    bad_model = sorted(set(model) - {"cell_model", "options"})
    if bad_model:
        raise RecipeError(f"{name}: model.{bad_model[0]} is unknown (known: cell_model, options)")
    fit_table = dict(data.get("fit", {}))
    known_fit = set(FitSettings.__dataclass_fields__)
    bad_fit = sorted(set(fit_table) - known_fit)
    if bad_fit:
        raise RecipeError(f"{name}: fit.{bad_fit[0]} is unknown (known: {', '.join(sorted(known_fit))})")
    try:
        fit = FitSettings(**fit_table)
        space = _space_from_table(cell_type, data.get("parameters", {}), data.get("design_choices", {}))
    except RecipeError as err:
        raise RecipeError(f"{name}: {err}") from None
    overrides = dict(data.get("overrides", {}))
    for key, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecipeError(f"{name}: overrides.{key!r} must be a number, got {value!r}")
    clash = sorted(set(overrides) & set(space.parameter_names))
    if clash:
        raise RecipeError(f"{name}: {clash[0]!r} is both fitted and fixed in [overrides]")
    density = data.get("electrolyte_density_g_per_mL", 1.2)
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0.5 <= density <= 3.0:
        raise RecipeError(f"{name}: electrolyte_density_g_per_mL must lie between 0.5 and 3, got {density!r}")
    return Recipe(
        name=str(data.get("name", name)), cell_type=cell_type, design=design,
        protocol=dict(data.get("protocol", {})), space=space, fit=fit,
        cell_model=str(model.get("cell_model", "spm")), options=dict(model.get("options", {})),
        overrides={k: float(v) for k, v in overrides.items()},
        electrolyte_density_g_per_mL=float(density), description=str(data.get("description", "")),
        source=source,
    )


def load_recipe(path: str | Path) -> Recipe:
    """Read a TOML recipe; RecipeError names the file and the bad entry."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise RecipeError(f"{path.name}: not valid TOML: {err}") from None
    return recipe_from_dict(data, name=path.stem, source=path.name)
