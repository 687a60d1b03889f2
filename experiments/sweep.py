"""Design sweeps: many cell designs cycled to end of life in parallel, resumable.

The plain typed API behind `twin sweep` and `twin compare`:

* `expand_grid` turns lists of values per axis (N:P, areal capacity, electrolyte
  amount, charge rate, strategy) into `DesignCase`s, validating every value;
* `run_case` (a top-level, spawn-safe worker) predicts one case and summarises it
  in one row;
* `run_sweep` runs the cases not yet done in worker processes and journals every
  finished row (one JSON line, flushed and fsync'd) beside the output, so a killed
  sweep restarted with the same output recomputes nothing it finished and loses or
  duplicates none; the table is written atomically at the end.

Rows are keyed by a stable hash of everything that determines the result (design,
protocol, strategy, end-of-life fraction, cycle limit, model, mode, overrides).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.errors import TwinInputError, raise_if_interrupted, solver_failure_types
from twin.experiments.engine import default_workers, map_cases, map_unordered
from twin.experiments.sweep_guard import check_columns, refuse_foreign_rows

if TYPE_CHECKING:
    import pandas as pd

    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.simulation import Prediction

# Capacity is reported at these cycle numbers (NaN when the cell died before).
MILESTONE_CYCLES: tuple[int, ...] = (100, 300, 500)
NO_STRATEGY = "none"
# "a+b" on the strategy axis is one case with strategies a and b combined.
STRATEGY_JOINER = "+"
MODES = ("fast", "full")
ERROR_REASON = "simulation_failed"
KEY_COLUMN = "design_key"

# Column -> type of one sweep row (extra columns, e.g. dendrite risk, follow them).
ROW_COLUMNS: dict[str, type] = {
    KEY_COLUMN: str,
    "label": str,
    "cathode": str,
    "np_ratio": float,
    "areal_capacity_mAh_cm2": float,
    "electrolyte_g_per_Ah": float,
    "charge_rate_C": float,
    "discharge_rate_C": float,
    "temperature_degC": float,
    "strategy": str,
    "cell_model": str,
    "mode": str,
    "eol_fraction": float,
    "max_cycles": int,
    "cycle_life": int,  # empty when end of life was not reached within max_cycles
    "end_of_life_reason": str,
    "last_cycle": int,
    "cycles_simulated": int,
    "initial_capacity_mAh_cm2": float,
    **{f"capacity_at_{k}_mAh_cm2": float for k in MILESTONE_CYCLES},
    **{f"retention_at_{k}": float for k in MILESTONE_CYCLES},
    "swelling_at_eol_pct": float,
    "dead_li_at_eol_mAh_cm2": float,
    "sei_li_at_eol_mAh_cm2": float,
    "elapsed_s": float,
    "error": str,
}
# Prediction.extra entries whose scalar fields become columns (name_field)
ROW_EXTRAS = ("dendrite_risk",)
NULLABLE_INT_COLUMNS = ("cycle_life", "last_cycle", "cycles_simulated")


class SweepError(TwinInputError):
    """A bad sweep request (grid value, output file, option); the message says which."""


@dataclass(frozen=True)
class DesignCase:
    """One design to predict: the cell, how it is cycled and its protection strategy."""

    design: CellDesign
    protocol: Protocol
    strategy: str = NO_STRATEGY
    label: str = ""  # for people; not part of the key
    # design/protocol fields varied beyond the standard columns: each gets a column
    axes: tuple[str, ...] = ()

    @property
    def strategies(self) -> list[str]:
        if self.strategy in ("", NO_STRATEGY):
            return []
        return self.strategy.split(STRATEGY_JOINER)


@dataclass(frozen=True)
class RunSettings:
    """What every case of a sweep shares besides the design."""

    eol_fraction: float = 0.8
    max_cycles: int = 1000
    cell_model: str = "spm"
    mode: str = "full"
    # (parameter name, value) pairs passed to predict_cycle_life(overrides=...)
    overrides: tuple[tuple[str, float], ...] = ()
    # end life at cycle 1 when the Chazalviel model flags the charge (if the twin has it)
    stop_on_dendrite_risk: bool = False
    # parameters passed to PyBaMM as inputs so each worker sets one simulation up for
    # all the cases (twin.cycling.shared_setup; `with_shared_inputs`); not in the key
    shared_inputs: tuple[str, ...] = ()


@dataclass
class SweepResult:
    """The finished table and how much of it was reused from an earlier run."""

    table: pd.DataFrame
    reused: int
    computed: int
    elapsed_s: float
    out: Path
    dropped: int = 0  # rows of an earlier table for designs not in this grid


# ---------------------------------------------------------------- grid expansion

def axis_fields() -> dict[str, str]:
    """Every field a sweep can vary -> "design" or "protocol": the numeric fields of
    CellDesign and Protocol (declared once, with their units and bounds, in twin.design
    and twin.protocol)."""
    from twin.design import CellDesign
    from twin.field_specs import numeric_fields
    from twin.protocol import Protocol

    # a name in both (temperature_degC) is the design's: the protocol's only overrides it
    protocol = {name: "protocol" for name in numeric_fields(Protocol)}
    return {**protocol, **{name: "design" for name in numeric_fields(CellDesign)}}


# The four axes of the `twin sweep` grid options (N:P varying fastest).
GRID_AXES = ("np_ratio", "areal_capacity_mAh_cm2", "electrolyte_g_per_Ah", "charge_rate_C")


def _unique(values: Iterable[Any]) -> list[Any]:
    """Values in first-seen order without repeats (a repeated value is one design)."""
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def _check_axis_values(name: str, values: Sequence[Any], base_design: CellDesign,
                       base_protocol: Protocol) -> None:
    """Each value alone must make a valid design/protocol; the error names it."""
    from twin.errors import TwinError

    if not values:
        raise SweepError(f"{name}: needs at least one value")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SweepError(f"{name}: {value!r} is not a finite number")
        field_value = _axis_value(name, value)
        try:
            if axis_fields()[name] == "design":
                # judge the value on its own first (N:P x areal capacity is checked per case)
                trial = {"np_ratio": 0.0} if name == "areal_capacity_mAh_cm2" else {}
                dataclasses.replace(base_design, **trial, **{name: field_value})
            else:
                dataclasses.replace(base_protocol, **{name: field_value})
        except TwinError as err:
            if name == "np_ratio" and "foil" in str(err):
                continue  # depends on the areal capacity: judged per case below
            raise SweepError(f"{name} = {value}: {err}") from None


def _axis_value(name: str, value: float) -> float | int:
    """A grid value as its field takes it: a whole number for a count (layers)."""
    from twin.design import CellDesign
    from twin.field_specs import field_specs

    spec = field_specs(CellDesign).get(name)
    if spec is not None and spec.check == "count":
        if float(value) != int(value):
            raise SweepError(f"{name}: {value!r} is not a whole number")
        return int(value)
    return float(value)


def expand_grid(
    base_design: CellDesign,
    base_protocol: Protocol,
    np_ratios: Sequence[float],
    areal_capacities_mAh_cm2: Sequence[float],
    electrolyte_g_per_Ah: Sequence[float],
    charge_rates_C: Sequence[float],
    strategies: Sequence[str] = (NO_STRATEGY,),
    axes: Mapping[str, Sequence[float]] | None = None,
) -> list[DesignCase]:
    """Every combination of the axis values, N:P varying fastest; raises SweepError
    naming the first bad value. Repeated values count once.

    `axes`: more axes, any numeric CellDesign or Protocol field (`axis_fields`) ->
    values; they vary slower than the four grid axes (the last given slowest)."""
    grid = {
        "np_ratio": _unique(np_ratios),
        "areal_capacity_mAh_cm2": _unique(areal_capacities_mAh_cm2),
        "electrolyte_g_per_Ah": _unique(electrolyte_g_per_Ah),
        "charge_rate_C": _unique(charge_rates_C),
    }
    legal = axis_fields()
    for name, values in (axes or {}).items():
        if name in grid:
            raise SweepError(f"{name}: already a grid axis (give its values there)")
        if name not in legal:
            raise SweepError(f"{name}: not a numeric design or protocol field (known: {', '.join(legal)})")
        grid[name] = _unique(values)
    for name, values in grid.items():
        _check_axis_values(name, values, base_design, base_protocol)
    strategy_values = _unique(_normalise_strategy(s) for s in strategies) or [NO_STRATEGY]
    from twin.errors import TwinError

    names = list(grid)
    extra_axes = tuple(names[len(GRID_AXES):])
    cases = []
    # itertools.product varies its last argument fastest: N:P, then the others in order.
    for strategy, *reversed_values in itertools.product(strategy_values, *(grid[n] for n in reversed(names))):
        values = dict(zip(reversed(names), reversed_values))
        design_changes = {n: _axis_value(n, v) for n, v in values.items() if legal[n] == "design"}
        protocol_changes = {n: _axis_value(n, v) for n, v in values.items() if legal[n] == "protocol"}
        try:
            design = dataclasses.replace(base_design, **design_changes)
        except TwinError as err:
            raise SweepError(f"np_ratio = {values['np_ratio']} with areal_capacity_mAh_cm2 = "
                             f"{values['areal_capacity_mAh_cm2']}: {err}") from None
        protocol = dataclasses.replace(base_protocol, **protocol_changes)
        cases.append(DesignCase(design, protocol, strategy, axes=extra_axes))
    return cases


def _normalise_strategy(text: str) -> str:
    """'LHCE + host' -> 'LHCE+host'; empty or 'none' -> 'none'."""
    parts = [p.strip() for p in str(text).split(STRATEGY_JOINER)]
    if any(not p for p in parts) and str(text).strip():
        raise SweepError(f"strategy {text!r}: empty name in a '{STRATEGY_JOINER}' combination")
    parts = [p for p in parts if p and p.lower() != NO_STRATEGY]
    return STRATEGY_JOINER.join(parts) if parts else NO_STRATEGY


# ------------------------------------------------------------- predict one case

def resolve_mode(requested: str | None) -> str:
    """The prediction mode to use: fast unless asked otherwise."""
    if requested is None:
        return "fast"
    if requested not in MODES:
        raise SweepError(f"mode must be one of {', '.join(MODES)}, got {requested!r}")
    return requested


def check_strategies_supported(cases: Iterable[DesignCase]) -> None:
    """Every strategy named must exist before any design is cycled."""
    from twin.strategies import get_strategy

    for name in _unique(name for case in cases for name in case.strategies):
        get_strategy(name)  # raises the twin's StrategyError naming it


def predict_case(case: DesignCase, settings: RunSettings,
                 progress: Callable[[int], None] | None = None) -> Prediction:
    """predict_cycle_life for one case with the sweep's settings (inside
    `twin.cycling.shared_setup` when the settings name shared inputs)."""
    from twin.cycling import shared_setup
    from twin.simulation import predict_cycle_life

    with shared_setup(settings.shared_inputs):
        return predict_cycle_life(
            case.design, case.protocol, eol_fraction=settings.eol_fraction, max_cycles=settings.max_cycles,
            cell_model=settings.cell_model, overrides=dict(settings.overrides) or None, progress=progress,
            mode=settings.mode, stop_on_dendrite_risk=settings.stop_on_dendrite_risk,
            strategies=case.strategies or None,
        )


# Modes whose cases share one simulation per worker: in fast mode set-up is a large
# part of a design's time; in full mode the inputs' cost on every step (PyBaMM no
# longer folds them: a 10-cycle solve with 17 inputs took 1.3x as long) exceeds the
# ~0.3 s of set-up saved once a design lives past ~100 cycles.
SHARED_SETUP_MODES = ("fast",)


def with_shared_inputs(cases: Sequence[DesignCase], settings: RunSettings) -> RunSettings:
    """The settings with `shared_inputs` for these cases (every case of the grid, so a
    resumed sweep solves its cases with the same simulation as an uninterrupted one)."""
    if settings.mode not in SHARED_SETUP_MODES or len(cases) < 2:
        return settings
    from twin.scenario import shared_input_parameters

    names = shared_input_parameters(((case.design, case.protocol) for case in cases), dict(settings.overrides),
                                    strategies=any(case.strategies for case in cases))
    return dataclasses.replace(settings, shared_inputs=tuple(sorted(names)))


def check_cases(cases: Iterable[DesignCase], settings: RunSettings) -> None:
    """Build the parameter values of every case before any solving, so a design the
    twin cannot represent (too thick a cathode, an unknown parameter in overrides)
    stops the sweep at once with its message instead of failing in a worker."""
    from twin.scenario import Scenario

    seen: set[tuple[Any, ...]] = set()
    for case in cases:
        signature = (case.design, case.protocol)
        if signature in seen:
            continue
        seen.add(signature)
        # strategies are checked by name (check_strategies_supported); anchoring them here
        # would solve their Li||Cu tests before the sweep starts
        Scenario.build(case.design, case.protocol, overrides=dict(settings.overrides)).parameter_values()


def _requested_fields(obj: Any) -> dict[str, Any]:
    """Fields of a design/protocol that differ from their defaults: what was asked
    for, so a later version that adds a field (with a default) keeps every key."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else None
        if value != default:
            # 2 and 2.0 are the same request
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            out[f.name] = float(value) if numeric else value
    return out


def design_key(case: DesignCase, settings: RunSettings) -> str:
    """Stable hash of everything that determines a case's result."""
    payload = {
        "design": _requested_fields(case.design),
        "protocol": _requested_fields(case.protocol),
        "strategy": case.strategy,
        "eol_fraction": float(settings.eol_fraction),
        "max_cycles": int(settings.max_cycles),
        "cell_model": settings.cell_model,
        "mode": settings.mode,
        "overrides": sorted([name, value] for name, value in settings.overrides),
    }
    if settings.stop_on_dendrite_risk:  # only when set: keys of earlier sweeps stay valid
        payload["stop_on_dendrite_risk"] = True
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def case_inputs(case: DesignCase, settings: RunSettings) -> dict[str, Any]:
    d, p = case.design, case.protocol
    row = {
        KEY_COLUMN: design_key(case, settings),
        "label": case.label,
        "cathode": d.cathode,
        "np_ratio": d.np_ratio,
        "areal_capacity_mAh_cm2": d.areal_capacity_mAh_cm2,
        "electrolyte_g_per_Ah": d.electrolyte_g_per_Ah,
        "charge_rate_C": p.charge_rate_C,
        "discharge_rate_C": p.discharge_rate_C,
        "temperature_degC": d.temperature_degC,
        "strategy": case.strategy,
        "cell_model": settings.cell_model,
        "mode": settings.mode,
        "eol_fraction": settings.eol_fraction,
        "max_cycles": settings.max_cycles,
    }
    # a field varied beyond the standard columns (an extra sweep axis) gets its own column
    fields = axis_fields()
    for name in case.axes:
        row.setdefault(name, getattr(d if fields[name] == "design" else p, name))
    return row


def summarize(case: DesignCase, settings: RunSettings, prediction: Prediction) -> dict[str, Any]:
    """One sweep row: the inputs and what a design engineer reads off the forecast."""
    cycles = prediction.cycles
    last = cycles.iloc[-1]
    q0 = prediction.initial_capacity_mAh_cm2
    row = case_inputs(case, settings)
    row.update({
        "mode": prediction.mode,
        "cycle_life": prediction.cycle_life,
        "end_of_life_reason": prediction.end_of_life_reason,
        "last_cycle": int(last["cycle"]),
        "cycles_simulated": int(cycles["simulated"].astype(bool).sum()),
        "initial_capacity_mAh_cm2": q0,
    })
    by_cycle = regular_cycles(cycles).set_index("cycle")["discharge_capacity_mAh_cm2"]
    for k in MILESTONE_CYCLES:
        # a check-up cycle at k is slower (more capacity): take the last regular cycle
        q = float(by_cycle.loc[:k].iloc[-1]) if k <= last["cycle"] and len(by_cycle.loc[:k]) else math.nan
        row[f"capacity_at_{k}_mAh_cm2"] = q
        row[f"retention_at_{k}"] = q / q0 if q0 > 0 else math.nan
    row.update({
        # at end of life, or at the last cycle when max_cycles came first
        "swelling_at_eol_pct": float(last["swelling_pct"]),
        "dead_li_at_eol_mAh_cm2": float(last["dead_li_mAh_cm2"]),
        "sei_li_at_eol_mAh_cm2": float(last["sei_li_mAh_cm2"]),
        "elapsed_s": float(prediction.elapsed_s),
        "error": "",
    })
    row.update(_flat_extras(prediction))
    return plain_row(row)


def regular_cycles(cycles: pd.DataFrame) -> pd.DataFrame:
    """The cycles of the repeated protocol, without slow check-up cycles."""
    if "checkup" not in cycles.columns:
        return cycles
    return cycles[~cycles["checkup"].astype(bool)]


def _flat_extras(prediction: Prediction) -> dict[str, Any]:
    """Scalar fields of the per-design results in ROW_EXTRAS, e.g. dendrite_risk_flag."""
    out: dict[str, Any] = {}
    extra = prediction.extra
    for name in ROW_EXTRAS:
        value = extra.get(name)
        if isinstance(value, Mapping):
            for sub, item in value.items():
                if isinstance(item, (bool, int, float, str)) or item is None:
                    out[f"{name}_{sub}"] = item
    return out


def plain_value(value: Any) -> Any:
    """JSON-safe plain Python values; NaN and pandas' NA become None."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    import pandas as pd

    if pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return plain_value(value.item())
    return value


def plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with JSON-safe plain values (NaN -> None)."""
    return {k: plain_value(v) for k, v in row.items()}


def failure_row(case: DesignCase, settings: RunSettings, message: str, elapsed_s: float) -> dict[str, Any]:
    row = case_inputs(case, settings)
    row.update({"end_of_life_reason": ERROR_REASON, "elapsed_s": elapsed_s,
                "error": message.splitlines()[0][:300] if message else "failed"})
    return row


CURVE_KEY = "curve"
"""Rows of a sweep with --curves carry each per-cycle column (lists) under this key."""


def run_case(case: DesignCase, settings: RunSettings, curves: bool = False) -> dict[str, Any]:
    """Worker: predict one case and summarise it. A solver failure becomes a row that
    says so (journaled, not retried); a user mistake (ValueError) propagates. With
    `curves`, the row also carries the per-cycle columns under :data:`CURVE_KEY`."""
    start = time.perf_counter()
    try:
        prediction = predict_case(case, settings)
    except TwinInputError:
        raise
    except solver_failure_types() as err:
        raise_if_interrupted()  # Ctrl-C inside the solver is not a failed run
        row = failure_row(case, settings, f"{type(err).__name__}: {err}", time.perf_counter() - start)
        return {**row, CURVE_KEY: {}} if curves else row  # no curve to draw, nothing to redo
    row = summarize(case, settings, prediction)
    if curves:
        row[CURVE_KEY] = {str(name): [plain_value(v) for v in column] for name, column in prediction.cycles.items()}
    return row


def predict_cases(cases: Sequence[DesignCase], settings: RunSettings, workers: int,
                  progress: Callable[[int], None] | None = None, scheduler: str | None = None) -> list[Prediction]:
    """Whole predictions (every cycle) of a few cases, in the order given, on `workers`
    local processes or on the Dask cluster at `scheduler` (twin.experiments.engine)."""
    out: list[Any] = [None] * len(cases)
    for i, prediction in map_unordered(predict_case, cases, with_shared_inputs(cases, settings), workers, scheduler):
        out[i] = prediction
        if progress is not None:
            progress(1)
    return out


# `--design` keys -> (DesignCase part, field); the twin's own field names work too
SPEC_KEYS: dict[str, tuple[str, str]] = {
    "cathode": ("design", "cathode"),
    "np_ratio": ("design", "np_ratio"),
    "areal_capacity": ("design", "areal_capacity_mAh_cm2"),
    "areal_capacity_mAh_cm2": ("design", "areal_capacity_mAh_cm2"),
    "electrolyte_amount": ("design", "electrolyte_g_per_Ah"),
    "electrolyte_g_per_Ah": ("design", "electrolyte_g_per_Ah"),
    "temperature": ("design", "temperature_degC"),
    "temperature_degC": ("design", "temperature_degC"),
    "charge_rate": ("protocol", "charge_rate_C"),
    "charge_rate_C": ("protocol", "charge_rate_C"),
    "discharge_rate": ("protocol", "discharge_rate_C"),
    "discharge_rate_C": ("protocol", "discharge_rate_C"),
    "strategy": ("case", "strategy"),
    "label": ("case", "label"),
}
SPEC_TEXT_FIELDS = ("cathode", "strategy", "label")


def spec_keys() -> dict[str, tuple[str, str]]:
    """`SPEC_KEYS` plus every numeric design and protocol field by its own name."""
    return {**{name: (part, name) for name, part in axis_fields().items()}, **SPEC_KEYS}


def case_from_spec(spec: str, base_design: CellDesign, base_protocol: Protocol) -> DesignCase:
    """'np_ratio=2,areal_capacity=4,label=thin Li' -> a DesignCase; keys not given
    keep the base design's and protocol's values. Errors name the bad key or value."""
    from twin.errors import TwinError

    changes: dict[str, dict[str, Any]] = {"design": {}, "protocol": {}, "case": {}}
    for item in str(spec).split(","):
        if not item.strip():
            continue
        key, sep, text = item.partition("=")
        key, text = key.strip().replace("-", "_"), text.strip()
        if not sep or not key:
            raise SweepError(f"design {spec!r}: {item.strip()!r} is not KEY=VALUE")
        keys = spec_keys()
        lookup = {k.lower(): k for k in keys}
        if key.lower() not in lookup:
            known = ", ".join(k for k in SPEC_KEYS if not k.endswith(("_C", "_cm2", "_Ah", "_degC")))
            raise SweepError(f"design {spec!r}: unknown key {key!r} (known: {known}, or any numeric "
                             "design or protocol field by its name)")
        key = lookup[key.lower()]
        part, name = keys[key]
        if name in changes[part]:
            raise SweepError(f"design {spec!r}: {key!r} given twice")
        if key in SPEC_TEXT_FIELDS:
            value: Any = text.upper() if key == "cathode" else text
        else:
            try:
                value = float(text)
            except ValueError:
                raise SweepError(f"design {spec!r}: {key}: {text!r} is not a number") from None
            try:
                value = _axis_value(name, value)  # a whole number for a count (layers)
            except SweepError as err:
                raise SweepError(f"design {spec!r}: {err}") from None
        changes[part][name] = value
    try:
        design = dataclasses.replace(base_design, **changes["design"])
        protocol = dataclasses.replace(base_protocol, **changes["protocol"])
    except TwinError as err:
        raise SweepError(f"design {spec!r}: {err}") from None
    strategy = _normalise_strategy(changes["case"].get("strategy", NO_STRATEGY))
    label = changes["case"].get("label") or ", ".join(
        item.strip() for item in str(spec).split(",") if item.strip() and not item.strip().startswith("label")
    ) or "base design"
    return DesignCase(design, protocol, strategy, label)


# ------------------------------------------------------- resumable result store

def journal_path(out: Path) -> Path:
    """The sidecar journal of finished rows beside the output table."""
    out = Path(out)
    return out.with_name(out.name + ".partial.jsonl")


def table_format(path: Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise SweepError(f"output {Path(path).name}: use a .csv or .parquet file name")


def _normalise_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Rows read back from CSV/Parquet/JSON in the types a fresh row has."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        value = plain_value(value)
        kind = ROW_COLUMNS.get(name)
        if value is None or value == "" and kind in (int, float):
            out[name] = "" if kind is str else None
        elif kind is int:
            out[name] = int(value)
        elif kind is float:
            out[name] = float(value)
        elif kind is str:
            out[name] = str(value)
        else:
            out[name] = value
    return out


def rows_to_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    table = pd.DataFrame(list(rows))
    known = [c for c in ROW_COLUMNS if c in table.columns]
    extra = [c for c in table.columns if c not in ROW_COLUMNS]
    table = table[known + extra]
    for name in NULLABLE_INT_COLUMNS:
        if name in table.columns:
            table[name] = pd.array(table[name].tolist(), dtype="Int64")
    for name in known:
        if ROW_COLUMNS[name] is float:
            table[name] = table[name].astype(float)
    return table


def read_table(path: Path) -> pd.DataFrame:
    """A sweep table written by write_table (CSV or Parquet)."""
    import pandas as pd

    if table_format(path) == "csv":
        strings = {name: str for name, kind in ROW_COLUMNS.items() if kind is str}
        table = pd.read_csv(path, float_precision="round_trip", dtype=strings,
                            keep_default_na=False, na_values={n: [""] for n, k in ROW_COLUMNS.items()
                                                              if k is not str})
    else:
        table = pd.read_parquet(path)
    return table


def write_table(path: Path, table: pd.DataFrame) -> None:
    """CSV or Parquet by extension, written atomically."""
    from twin.experiments.options import write_atomic

    if table_format(path) == "csv":
        write_atomic(path, table.to_csv(index=False))
    else:
        from twin.provenance import provenance

        buffer = io.BytesIO()
        table = table.copy()
        table.attrs["provenance"] = provenance()  # pandas keeps attrs in the Parquet metadata
        table.to_parquet(buffer, index=False)
        write_atomic(path, buffer.getvalue())


def load_finished(out: Path) -> dict[str, dict[str, Any]]:
    """Rows already finished: from an earlier output table, then the journal (later
    lines win). A line cut short by a kill is ignored: that case is recomputed."""
    done: dict[str, dict[str, Any]] = {}
    out = Path(out)
    if out.exists():
        try:
            table = read_table(out)
        except Exception as err:  # noqa: BLE001 - any unreadable file gets the same advice
            err = (str(err).strip().splitlines() or [type(err).__name__])[0]  # one line
            raise SweepError(f"output {out} exists but cannot be read as a sweep table ({err}); "
                             "remove it or choose another --out") from None
        if KEY_COLUMN not in table.columns:
            raise SweepError(f"output {out} exists and is not a twin sweep table (no {KEY_COLUMN} "
                             "column); remove it or choose another --out")
        check_columns(table.columns, f"output {out}")
        for record in table.to_dict(orient="records"):
            done[str(record[KEY_COLUMN])] = _normalise_row(record)
    journal = journal_path(out)
    if journal.exists():
        for line in journal.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and KEY_COLUMN in record:
                check_columns(record, f"journal {journal}")
                done[str(record[KEY_COLUMN])] = _normalise_row(record)
    return done


class Journal:
    """Append-only JSON-lines file of finished rows, each durable once appended.
    An exclusive lock keeps two sweeps from writing the same output."""

    def __init__(self, path: Path) -> None:
        from twin.files import resolve_output_path

        self.path = Path(path)
        resolve_output_path(self.path)  # a regular file in an existing folder, never a device
        self._handle = open(self.path, "a+b")  # noqa: SIM115 - closed in close()
        try:
            import fcntl

            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # no fcntl (Windows): no lock
            pass
        except BlockingIOError:
            self._handle.close()
            raise SweepError(f"another sweep is writing {self.path}; wait for it or choose another --out"
                             ) from None
        # a kill mid-write can leave a line without its newline: end it before appending
        self._handle.seek(0, os.SEEK_END)
        if self._handle.tell() > 0:
            self._handle.seek(-1, os.SEEK_END)
            if self._handle.read(1) != b"\n":
                self._handle.write(b"\n")

    def append(self, row: Mapping[str, Any]) -> None:
        line = json.dumps(plain_row(row), allow_nan=False) + "\n"
        self._handle.write(line.encode())
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_sweep(
    cases: Sequence[DesignCase],
    settings: RunSettings,
    out: Path,
    workers: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    curves: Path | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
) -> SweepResult:
    """Predict every case not already in `out` or its journal, then write the table
    (one row per case, in grid order) atomically and drop the journal. The table
    holds this grid only: rows of other designs in an earlier `out` are not kept.

    Finished rows of another sweep in `out` or its journal are never dropped silently:
    the run is refused, naming the difference, unless `overwrite`.

    `on_start(done, total)` is told how many cases are reused before any work starts;
    `progress(1)` after each finished case. `scheduler`: a Dask scheduler address to
    run the cases on (twin.experiments.engine); None runs them on `workers` local processes."""
    start = time.perf_counter()
    out = Path(out)
    table_format(out)
    from twin.files import resolve_output_path

    resolve_output_path(out)  # before any work: refuse a device, FIFO or missing folder
    keys = [design_key(case, settings) for case in cases]
    if len(set(keys)) != len(keys):
        raise SweepError("the grid lists the same design twice")
    with Journal(journal_path(out)) as journal:
        try:
            finished = load_finished(out)
            done = {key: finished[key] for key in keys if key in finished}
            foreign = [row for key, row in finished.items() if key not in done]
            if foreign and not overwrite:  # never drop another sweep's finished rows unasked
                refuse_foreign_rows(str(out), foreign, [case_inputs(c, settings) for c in cases],
                                    journal_only=not out.exists())
            earlier_curves: dict[str, Any] = {}
            if curves is not None:  # a design without its curve (earlier run without --curves) is recomputed
                earlier_curves = read_curves_by_key(curves)
                done = {k: row for k, row in done.items() if CURVE_KEY in row or k in earlier_curves}
            pending = [case for case, key in zip(cases, keys) if key not in done]
            check_strategies_supported(pending)
            check_cases(pending, settings)
        except BaseException:
            if journal.path.stat().st_size == 0:  # this run wrote nothing: leave no trace
                journal.path.unlink(missing_ok=True)
            raise
        if on_start is not None:
            on_start(len(done), len(cases))
        worker = functools.partial(run_case, curves=True) if curves is not None else run_case
        shared = with_shared_inputs(cases, settings)
        for _, row in map_unordered(worker, pending, shared, workers or default_workers(), scheduler):
            journal.append(row)
            done[row[KEY_COLUMN]] = row
            if progress is not None:
                progress(1)
        if curves is not None:
            write_curves(curves, sweep_curves_table([done[key] for key in keys], earlier_curves))
        table = rows_to_table([{k: v for k, v in done[key].items() if k != CURVE_KEY} for key in keys])
        write_table(out, table)
        journal.path.unlink(missing_ok=True)
    return SweepResult(table=table, reused=len(cases) - len(pending), computed=len(pending),
                       elapsed_s=time.perf_counter() - start, out=out,
                       dropped=len(set(finished) - set(keys)))


def overrides_tuple(overrides: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((str(k), float(v)) for k, v in (overrides or {}).items()))


__all__ = [
    "DesignCase", "RunSettings", "SweepResult", "SweepError", "MILESTONE_CYCLES", "NO_STRATEGY",
    "expand_grid", "case_from_spec", "design_key", "predict_case", "predict_cases", "run_case", "run_sweep",
    "summarize", "resolve_mode", "journal_path", "read_table", "write_table", "load_finished",
    "default_workers", "overrides_tuple",
]


# --- per-cycle curves of a sweep (`--curves`), long format --------------------------

def write_curves(path: Path, table: pd.DataFrame) -> None:
    """CSV or Parquet by extension, atomically (Parquet carries the provenance)."""
    write_table(path, table)


# columns of a sweep row that identify a design in the curves file
SWEEP_CURVE_ID_COLUMNS = ("design_key", "label", "cathode", "np_ratio", "areal_capacity_mAh_cm2",
                          "electrolyte_g_per_Ah", "charge_rate_C", "discharge_rate_C", "temperature_degC",
                          "strategy")


def read_curves_by_key(path: Path) -> dict[str, pd.DataFrame]:
    """Curves of an earlier run of the same sweep, by design key ({} if none)."""
    import pandas as pd

    if not path.is_file():
        return {}
    table = pd.read_csv(path, dtype={KEY_COLUMN: str}) if table_format(path) == "csv" else pd.read_parquet(path)
    if KEY_COLUMN not in table.columns:
        return {}
    return {str(key): group for key, group in table.groupby(KEY_COLUMN, sort=False)}


def sweep_curves_table(rows: Sequence[dict[str, Any]], earlier: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table of a sweep: the design's identifying columns, then its per-cycle
    columns, one row per design and cycle, in grid order. A design that failed to
    solve has no rows."""
    import pandas as pd

    frames = []
    for row in rows:
        if CURVE_KEY in row:
            frame = pd.DataFrame(row[CURVE_KEY])
            for position, name in enumerate(c for c in SWEEP_CURVE_ID_COLUMNS if c in row):
                # a design input that also varies per cycle (electrolyte left) keeps both
                frame.insert(position, f"design_{name}" if name in frame.columns else name, row[name])
        elif str(row[KEY_COLUMN]) in earlier:
            frame = earlier[str(row[KEY_COLUMN])]
        else:
            continue
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({KEY_COLUMN: []})
