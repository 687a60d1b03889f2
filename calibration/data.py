"""Cycling data in, one canonical per-cycle table out.

Readers for the lab files the twin is calibrated against (pure pandas/numpy):

* a Battery Data Format time series CSV (BDF, Battery Data Alliance):
  :func:`read_bdf_csv`;
* a per-cycle summary CSV: :func:`read_cycle_summary_csv`;
* the wide anode-free Cu||LFP table of ``shared/data/anode_free_cu_lfp/cells.csv``
  (one row per cell): :func:`read_anode_free_table`, :func:`list_anode_free_cells`;
* BioLogic ``.mpr`` and Arbin ``.res`` files through the ``galvani`` package, only
  when it is installed (no binary parser lives here).

:func:`read_cycling_data` picks the reader from the columns it finds. Every reader
returns a :class:`CycleData` whose ``cycles`` frame has the columns of
:data:`CYCLE_COLUMNS`. Validation collects every problem in a file before raising
one :class:`DataError` that lists them all. Row numbers in messages count the
header line as row 1, as a spreadsheet or a text editor shows them.

Conventions: positive current charges the cell (BDF); capacities are in mAh;
a cycle is a charge followed by a discharge (for an anode-free or Li-metal cell
the charge plates lithium, the discharge strips it), so a cycle's Coulombic
efficiency is its discharge capacity over its charge capacity.

Column names are matched through variable maps (``BDF_VARIABLE_MAP``,
``SUMMARY_VARIABLE_MAP``), as pvlib's readers do: the keys are *normalized* names
(lower case, each run of characters other than letters and digits replaced by
``_``, ``%`` spelled ``percent``), so ``"Test Time / s"``, ``"test time/s"`` and the
BDF machine-readable ``"test_time_s"`` all meet the same key.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import io
import os
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias

import numpy as np
import pandas as pd

from twin.files import write_atomic

PathLike: TypeAlias = str | os.PathLike[str]

# --- the canonical per-cycle table -------------------------------------------------

CYCLE = "cycle"
"""Cycle number (int, 1-based: a file counting from 0 is shifted by one)."""
DISCHARGE_CAPACITY_MAH = "discharge_capacity_mAh"
"""Charge delivered during the cycle's discharge [mAh]; NaN when not measured."""
CHARGE_CAPACITY_MAH = "charge_capacity_mAh"
"""Charge put in during the cycle's charge [mAh]; NaN when not measured."""
COULOMBIC_EFFICIENCY = "coulombic_efficiency"
"""Discharge capacity / charge capacity of the same cycle [-]; NaN when unknown."""
NORMALIZED_CAPACITY = "normalized_capacity"
"""Discharge capacity / a reference capacity [-]; which one is in ``meta['normalization']``."""

CYCLE_COLUMNS: tuple[str, ...] = (
    CYCLE,
    DISCHARGE_CAPACITY_MAH,
    CHARGE_CAPACITY_MAH,
    COULOMBIC_EFFICIENCY,
    NORMALIZED_CAPACITY,
)

NORMALIZED_TO_FIRST_CYCLE = "discharge capacity of the first cycle"
NORMALIZED_TO_THEORETICAL = "theoretical capacity of the cathode"

# --- Battery Data Format columns ---------------------------------------------------

BDF_TEST_TIME = "Test Time / s"
BDF_VOLTAGE = "Voltage / V"
BDF_CURRENT = "Current / A"
BDF_CYCLE_COUNT = "Cycle Count / 1"
BDF_STEP_COUNT = "Step Count / 1"
BDF_AMBIENT_TEMPERATURE = "Ambient Temperature / degC"
BDF_REQUIRED_COLUMNS: tuple[str, ...] = (BDF_TEST_TIME, BDF_VOLTAGE, BDF_CURRENT)

# --- the anode-free wide table -----------------------------------------------------

ANODE_FREE_CELL_ID = "cell_id"
ANODE_FREE_CAPACITY_PREFIX = "norm_capacity_"

FORMATS: tuple[str, ...] = (
    "auto",
    "bdf",
    "summary",
    "anode-free-table",
    "biologic-mpr",
    "arbin-res",
)
"""Values accepted by ``read_cycling_data(format=...)``."""

AMPERE_SECONDS_PER_MAH = 3.6
"""1 mAh = 3.6 A s."""
COULOMBIC_EFFICIENCY_MAX = 1.2
"""Largest Coulombic efficiency a summary file may give; above it the value is a mistake."""
MAX_LISTED = 5
"""How many rows (or ids) a message lists before saying 'and N more'."""

_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none", "#n/a"})


class DataError(ValueError):
    """A data file (or data handed to a writer) that cannot be used, with every reason.

    ``problems`` lists each problem on its own; ``str(err)`` joins them into one
    message, e.g. ``"cycling.csv: 3 problems: missing column 'Voltage / V'; column
    'Current / A' has 2 NaN values (rows 5, 9); 'Test Time / s' goes backwards at
    row 12"``. ``source`` is the file name the problems are about (may be None).
    """

    def __init__(self, problems: str | Sequence[str], source: str | None = None) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: " if source else ""
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{head}{count} {noun}: " + "; ".join(self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.problems, self.source))


@dataclass
class CycleData:
    """Per-cycle data of one cell, read from one file.

    ``cycles``: a DataFrame with the columns of :data:`CYCLE_COLUMNS`, one row per
    cycle, sorted by cycle number. ``source``: the file name. ``cell_id``: the cell
    (None when the file does not say). ``sha256``: hex digest of the file's bytes,
    to record exactly which data a fit used. ``meta``: what else the file tells
    (format, normalization, electrolyte, salt concentration [M], cathode
    theoretical capacity [mAh/g], ...).
    """

    cycles: pd.DataFrame
    source: str
    cell_id: str | None
    sha256: str
    meta: dict[str, Any] = field(default_factory=dict)
    # time series only: each cycle's discharge voltage [V] on VOLTAGE_CURVE_FRACTIONS
    # of its discharge capacity (see discharge_voltage_curves); None for summaries
    voltage_curves: dict[int, np.ndarray] | None = None

    @property
    def cycle_numbers(self) -> np.ndarray:
        """Cycle numbers as an int array."""
        return self.cycles[CYCLE].to_numpy(dtype=np.int64)

    @property
    def normalized_capacity(self) -> np.ndarray:
        """Normalized capacity [-] as a float array, one value per cycle."""
        return self.cycles[NORMALIZED_CAPACITY].to_numpy(dtype=float)


# --- variable maps -----------------------------------------------------------------


class ColumnAlias(NamedTuple):
    """Where a file column goes: the canonical name, and the factor to its unit."""

    canonical: str
    scale: float = 1.0


def _aliases(canonical: str, names: Iterable[str], scale: float = 1.0) -> dict[str, ColumnAlias]:
    return {name: ColumnAlias(canonical, scale) for name in names}


BDF_VARIABLE_MAP: dict[str, ColumnAlias] = {
    # BDF human-readable names normalize to the BDF machine-readable alternatives.
    **_aliases(BDF_TEST_TIME, ("test_time_s", "test_time_second")),
    **_aliases(BDF_TEST_TIME, ("test_time_ms", "test_time_millisecond"), 1e-3),
    **_aliases(BDF_TEST_TIME, ("test_time_min", "test_time_minute"), 60.0),
    **_aliases(BDF_TEST_TIME, ("test_time_h", "test_time_hour"), 3600.0),
    **_aliases(BDF_VOLTAGE, ("voltage_v", "voltage_volt")),
    **_aliases(BDF_VOLTAGE, ("voltage_mv", "voltage_millivolt"), 1e-3),
    **_aliases(BDF_CURRENT, ("current_a", "current_ampere")),
    **_aliases(BDF_CURRENT, ("current_ma", "current_milliampere"), 1e-3),
    **_aliases(
        BDF_CYCLE_COUNT,
        ("cycle_count_1", "cycle_count", "cycle_dimensionless", "cycle_index", "cycle_number", "cycle"),
    ),
    **_aliases(BDF_STEP_COUNT, ("step_count_1", "step_count", "step_dimensionless")),
    **_aliases(
        BDF_AMBIENT_TEMPERATURE,
        ("ambient_temperature_degc", "ambient_temperature_celsius", "ambient_temperature_c"),
    ),
}
"""Normalized BDF column name -> canonical BDF column and the factor to its SI unit."""

SUMMARY_VARIABLE_MAP: dict[str, ColumnAlias] = {
    **_aliases(CYCLE, ("cycle", "cycle_number", "cycle_index", "cycle_count", "cycle_count_1", "cycle_no")),
    **_aliases(DISCHARGE_CAPACITY_MAH, ("discharge_capacity_mah", "discharging_capacity_mah")),
    **_aliases(
        DISCHARGE_CAPACITY_MAH,
        ("discharge_capacity_ah", "discharging_capacity_ah", "discharging_capacity_ampere_hour"),
        1000.0,
    ),
    **_aliases(CHARGE_CAPACITY_MAH, ("charge_capacity_mah", "charging_capacity_mah")),
    **_aliases(
        CHARGE_CAPACITY_MAH,
        ("charge_capacity_ah", "charging_capacity_ah", "charging_capacity_ampere_hour"),
        1000.0,
    ),
    **_aliases(COULOMBIC_EFFICIENCY, ("coulombic_efficiency", "coulombic_efficiency_1", "ce")),
    **_aliases(COULOMBIC_EFFICIENCY, ("coulombic_efficiency_percent", "ce_percent"), 0.01),
    **_aliases(
        NORMALIZED_CAPACITY,
        (
            "normalized_capacity",
            "normalised_capacity",
            "normalized_capacity_1",
            "normalized_discharge_capacity",
            "capacity_retention",
        ),
    ),
}
"""Normalized summary column name -> canonical per-cycle column and the factor to its unit."""

# Names of quantities that need a unit, given without one: name -> (canonical, example).
_BDF_UNITLESS: dict[str, tuple[str, str]] = {
    "test_time": (BDF_TEST_TIME, BDF_TEST_TIME),
    "time": (BDF_TEST_TIME, BDF_TEST_TIME),
    "voltage": (BDF_VOLTAGE, BDF_VOLTAGE),
    "current": (BDF_CURRENT, BDF_CURRENT),
    "ambient_temperature": (BDF_AMBIENT_TEMPERATURE, BDF_AMBIENT_TEMPERATURE),
    "temperature": (BDF_AMBIENT_TEMPERATURE, BDF_AMBIENT_TEMPERATURE),
}
_SUMMARY_UNITLESS: dict[str, tuple[str, str]] = {
    name: (DISCHARGE_CAPACITY_MAH, "discharge_capacity_mAh' or 'discharge_capacity_Ah")
    for name in ("discharge_capacity", "discharging_capacity", "capacity", "discharge", "q_discharge")
} | {
    name: (CHARGE_CAPACITY_MAH, "charge_capacity_mAh' or 'charge_capacity_Ah")
    for name in ("charge_capacity", "charging_capacity", "charge", "q_charge")
}

_UNIT_IN_NAME = re.compile(
    r"^\s*(?P<quantity>[^/\[\(]+?)\s*(?:/\s*(?P<slash>.+?)|\[(?P<square>[^\]]*)\]|\((?P<round>[^\)]*)\))\s*$"
)


def _normalize_name(name: object) -> str:
    """Column name -> variable-map key: lower case, non-alphanumeric runs as '_'."""
    text = str(name).strip().lower().replace("%", " percent ").replace("°c", " degc ")
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


def _quantity_key(name: object) -> str:
    """Normalized quantity of a column name without its unit: 'Current / uA' -> 'current'."""
    match = _UNIT_IN_NAME.match(str(name))
    return _normalize_name(match["quantity"] if match else name)


def _resolve_columns(
    columns: Iterable[str],
    variable_map: Mapping[str, ColumnAlias],
    unitless: Mapping[str, tuple[str, str]],
    problems: list[str],
) -> tuple[dict[str, tuple[str, float]], set[str]]:
    """Map file columns to canonical names.

    Returns ``{canonical: (file column, scale)}`` and the canonical names met only
    as unit-less columns (already reported, so not to be reported missing too).
    """
    found: dict[str, tuple[str, float]] = {}
    unitless_seen: set[str] = set()
    for name in columns:
        key = _normalize_name(name)
        alias = variable_map.get(key)
        if alias is not None:
            if alias.canonical in found:
                problems.append(
                    f"columns {found[alias.canonical][0]!r} and {name!r} both give {alias.canonical!r}; keep one"
                )
            else:
                found[alias.canonical] = (name, alias.scale)
            continue
        if key in unitless:
            canonical, example = unitless[key]
            unitless_seen.add(canonical)
            problems.append(f"column {name!r} has no unit: units are required in column names (e.g. '{example}')")
            continue
        match = _UNIT_IN_NAME.match(str(name))
        if match and _normalize_name(match["quantity"]) in unitless:
            unit = (match["slash"] or match["square"] or match["round"] or "").strip()
            canonical, example = unitless[_normalize_name(match["quantity"])]
            unitless_seen.add(canonical)
            problems.append(f"column {name!r} has a unit the reader does not know ({unit!r}): use '{example}'")
    return found, unitless_seen - found.keys()


# --- small helpers -----------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _rows_text(rows: Sequence[int], word: str = "row") -> str:
    """``[5]`` -> ``'row 5'``; ``[5, 9]`` -> ``'rows 5, 9'``; long lists are cut."""
    rows = list(rows)
    shown = ", ".join(str(row) for row in rows[:MAX_LISTED])
    more = f" and {len(rows) - MAX_LISTED} more" if len(rows) > MAX_LISTED else ""
    return f"{word}{'' if len(rows) == 1 else 's'} {shown}{more}"


def _file_rows(mask: np.ndarray) -> list[int]:
    """Positions of True in a per-data-row mask, as file row numbers (header = row 1)."""
    return [int(i) + 2 for i in np.flatnonzero(mask)]


def _existing_file(path: PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}", source=path.name)
    if not path.is_file():
        raise DataError(f"not a file: {path}", source=path.name)
    return path


def _read_csv(path: Path, problems: list[str]) -> tuple[pd.DataFrame | None, str]:
    """Read a CSV as text cells (so every value can be checked); return it and the sha256."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        problems.append("file is empty")
        return None, sha256
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        problems.append("file is empty")
        return None, sha256
    except pd.errors.ParserError as exc:
        problems.append(f"not a readable CSV file ({str(exc).strip().splitlines()[-1]})")
        return None, sha256
    frame.columns = [str(column).strip() for column in frame.columns]
    if frame.empty:
        problems.append("file has a header but no data rows")
    return frame, sha256


def _column_values(
    frame: pd.DataFrame, name: str, problems: list[str], *, allow_missing: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """One column as floats, and the mask of its empty (NaN) cells.

    Reports non-numeric and infinite cells, and empty cells unless
    ``allow_missing``. Bad and empty cells come back as NaN. Cells are parsed with
    Python's ``float``, so text written by ``repr`` reads back bit for bit.
    """
    label = f"column {name!r}"
    column = frame[name]
    if pd.api.types.is_numeric_dtype(column.dtype):
        values = column.to_numpy(dtype=float)
        missing = np.isnan(values)
        bad = np.zeros(len(values), dtype=bool)
    else:
        text = column.astype(str).str.strip()
        missing = text.str.lower().isin(_MISSING_TEXT).to_numpy()
        cells = np.where(missing, "nan", text.to_numpy(dtype=object))
        try:
            values = np.asarray(cells, dtype=float)
            bad = np.zeros(len(values), dtype=bool)
        except ValueError:
            values = np.full(len(cells), np.nan)
            bad = np.zeros(len(cells), dtype=bool)
            for i, cell in enumerate(cells):
                try:
                    values[i] = float(cell)
                except ValueError:
                    bad[i] = True
        if bad.any():
            examples = ", ".join(repr(str(cell)) for cell in text.to_numpy()[bad][:3])
            problems.append(
                f"{label} has {_plural(int(bad.sum()), 'non-numeric value')} "
                f"({_rows_text(_file_rows(bad))}: {examples})"
            )
    if not allow_missing:
        _report_missing(name, missing, problems)
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(
            f"{label} has {_plural(int(infinite.sum()), 'infinite value')} ({_rows_text(_file_rows(infinite))})"
        )
        values = np.where(infinite, np.nan, values)
    return values, missing


def _report_missing(name: str, missing: np.ndarray, problems: list[str]) -> None:
    if missing.any():
        problems.append(
            f"column {name!r} has {_plural(int(missing.sum()), 'NaN value')} ({_rows_text(_file_rows(missing))})"
        )


def _check_integer_counter(values: np.ndarray, name: str, problems: list[str], *, decreasing_is_problem: bool) -> None:
    finite = np.isfinite(values)
    not_integer = finite & (values != np.round(values))
    if not_integer.any():
        problems.append(f"column {name!r} has non-integer values ({_rows_text(_file_rows(not_integer))})")
    negative = finite & (values < 0)
    if negative.any():
        problems.append(f"column {name!r} has negative values ({_rows_text(_file_rows(negative))})")
    if decreasing_is_problem:
        positions = np.flatnonzero(finite)
        drops = positions[1:][np.diff(values[positions]) < 0]
        if drops.size:
            problems.append(f"{name!r} decreases at {_rows_text([int(i) + 2 for i in drops])}")


def _first_cycle_offset(cycle: np.ndarray) -> int:
    """1 when the file counts cycles from 0 (the table counts from 1), else 0."""
    finite = cycle[np.isfinite(cycle)]
    return 1 if finite.size and finite.min() == 0 else 0


def _normalize_to_first(discharge_mAh: np.ndarray) -> np.ndarray:
    """Discharge capacity over the first positive discharge capacity (NaN if none)."""
    positive = np.flatnonzero(np.isfinite(discharge_mAh) & (discharge_mAh > 0))
    if positive.size == 0:
        return np.full(len(discharge_mAh), np.nan)
    return discharge_mAh / discharge_mAh[positive[0]]


def _cycle_table(
    cycle: np.ndarray,
    discharge_mAh: np.ndarray | None = None,
    charge_mAh: np.ndarray | None = None,
    coulombic_efficiency: np.ndarray | None = None,
    normalized: np.ndarray | None = None,
) -> pd.DataFrame:
    """Assemble the canonical table; fills CE and normalized capacity when not given."""
    n = len(cycle)
    nan = np.full(n, np.nan)
    discharge = nan.copy() if discharge_mAh is None else np.asarray(discharge_mAh, dtype=float)
    charge = nan.copy() if charge_mAh is None else np.asarray(charge_mAh, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        from_capacities = np.where(charge > 0, discharge / charge, np.nan)
    if coulombic_efficiency is None:
        coulombic_efficiency = from_capacities
    else:  # as given; gaps filled from the capacities where both are known
        given = np.asarray(coulombic_efficiency, dtype=float)
        coulombic_efficiency = np.where(np.isnan(given), from_capacities, given)
    if normalized is None:
        normalized = _normalize_to_first(discharge)
    return pd.DataFrame(
        {
            CYCLE: np.asarray(cycle, dtype=np.int64),
            DISCHARGE_CAPACITY_MAH: discharge,
            CHARGE_CAPACITY_MAH: charge,
            COULOMBIC_EFFICIENCY: np.asarray(coulombic_efficiency, dtype=float),
            NORMALIZED_CAPACITY: np.asarray(normalized, dtype=float),
        }
    )


# --- time series -> per-cycle capacities ---------------------------------------------


def detect_cycles(current_A: Sequence[float] | np.ndarray, rest_current_A: float = 0.0) -> np.ndarray:
    """Cycle number (1-based) of each sample of a current time series.

    A new cycle starts at each sample where the cell starts charging
    (current > ``rest_current_A`` [A]) after having last been discharging
    (current < -``rest_current_A``). Rest samples in between do not break a cycle.
    """
    current = np.asarray(current_A, dtype=float)
    sign = np.where(current > rest_current_A, 1.0, np.where(current < -rest_current_A, -1.0, np.nan))
    last_sign = pd.Series(sign).ffill().shift(1).to_numpy()
    starts = (sign == 1.0) & (last_sign == -1.0)
    return 1 + np.cumsum(starts)


def _positive_part_integral(start: np.ndarray, end: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Integral of max(x, 0) over each interval where x goes linearly from start to end."""
    span = np.abs(start) + np.abs(end)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (np.maximum(start, 0.0) ** 2 + np.maximum(end, 0.0) ** 2) / span
    same_sign = (start >= 0) & (end >= 0)
    height = np.where(same_sign, start + end, np.where(span > 0, crossing, 0.0))
    return height * dt / 2.0


def per_cycle_capacities(
    time_s: Sequence[float] | np.ndarray,
    current_A: Sequence[float] | np.ndarray,
    cycle: Sequence[int] | np.ndarray | None = None,
    *,
    rest_current_A: float = 0.0,
) -> pd.DataFrame:
    """Per-cycle charge and discharge capacities [mAh] of a current time series.

    ``time_s`` [s] must not decrease; ``current_A`` [A] is positive when charging.
    ``cycle`` gives each sample's cycle number; without it cycles are found by
    :func:`detect_cycles`. Capacities are the trapezoidal integral of the charging
    (positive) and discharging (negative) parts of the current, with the current
    linear between samples: an interval where the current changes sign is split
    at the zero crossing. Equal time stamps (a step change logged twice) add
    nothing. The part of an interval with the sign of its end sample belongs to
    the end sample's cycle, the rest to the start sample's cycle. A cycle with
    no charging (discharging) sample has a NaN charge (discharge) capacity. The
    CE is discharge / charge; the normalized capacity is discharge / the first
    positive discharge capacity.
    """
    time = np.asarray(time_s, dtype=float)
    current = np.asarray(current_A, dtype=float)
    problems: list[str] = []
    if time.ndim != 1 or current.ndim != 1 or len(time) != len(current):
        problems.append(f"time and current must be 1-D of one length (got {time.shape} and {current.shape})")
    elif len(time) == 0:
        problems.append("no samples")
    if cycle is not None and np.shape(cycle) != np.shape(current):
        problems.append(f"cycle must have the shape of current (got {np.shape(cycle)} and {current.shape})")
    if not problems:
        if not (np.isfinite(time).all() and np.isfinite(current).all()):
            problems.append("time and current must be finite")
        elif np.any(np.diff(time) < 0):
            problems.append("time goes backwards")
    if problems:
        raise DataError(problems)
    cycles = detect_cycles(current, rest_current_A) if cycle is None else np.asarray(cycle, dtype=np.int64)

    dt = np.diff(time)
    start, end = current[:-1], current[1:]
    charge_As = _positive_part_integral(start, end, dt)
    discharge_As = _positive_part_integral(-start, -end, dt)
    charge_cycle = np.where(end > 0, cycles[1:], cycles[:-1])
    discharge_cycle = np.where(end < 0, cycles[1:], cycles[:-1])

    numbers = np.unique(cycles)
    charge = pd.Series(charge_As).groupby(charge_cycle).sum().reindex(numbers, fill_value=0.0)
    discharge = pd.Series(discharge_As).groupby(discharge_cycle).sum().reindex(numbers, fill_value=0.0)
    has_charge = pd.Series(current > rest_current_A).groupby(cycles).any().reindex(numbers)
    has_discharge = pd.Series(current < -rest_current_A).groupby(cycles).any().reindex(numbers)
    charge_mAh = np.where(has_charge.to_numpy(), charge.to_numpy() / AMPERE_SECONDS_PER_MAH, np.nan)
    discharge_mAh = np.where(has_discharge.to_numpy(), discharge.to_numpy() / AMPERE_SECONDS_PER_MAH, np.nan)
    return _cycle_table(numbers, discharge_mAh, charge_mAh)


# Discharged-capacity fractions a voltage curve is resampled on: 0 (start of the
# discharge) to 1 (its end), so curves of cycles with different capacities compare.
VOLTAGE_CURVE_FRACTIONS = np.linspace(0.0, 1.0, 21)


def discharge_voltage_curves(
    time_s: Sequence[float] | np.ndarray,
    voltage_V: Sequence[float] | np.ndarray,
    current_A: Sequence[float] | np.ndarray,
    cycle: Sequence[int] | np.ndarray,
    *,
    rest_current_A: float = 0.0,
    fractions: np.ndarray = VOLTAGE_CURVE_FRACTIONS,
) -> dict[int, np.ndarray]:
    """Each cycle's discharge voltage [V] at `fractions` of its discharged capacity.

    ``current_A`` [A] is positive when charging (BDF); discharge samples are those
    with current < -``rest_current_A``. The discharged charge is the trapezoidal
    integral of the discharge current over consecutive discharge samples; the voltage
    is interpolated linearly in it. Cycles without discharge are left out.
    """
    time = np.asarray(time_s, dtype=float)
    voltage = np.asarray(voltage_V, dtype=float)
    current = np.asarray(current_A, dtype=float)
    numbers = np.asarray(cycle, dtype=np.int64)
    curves: dict[int, np.ndarray] = {}
    for number in np.unique(numbers[numbers >= 0]):
        rows = np.flatnonzero((numbers == number) & (current < -rest_current_A))
        if len(rows) < 2:
            continue
        discharge_A = -current[rows]
        step_As = 0.5 * (discharge_A[1:] + discharge_A[:-1]) * np.diff(time[rows])
        # a gap (charge or rest between two discharge samples) adds nothing
        step_As[np.diff(rows) > 1] = 0.0
        charge_As = np.concatenate([[0.0], np.cumsum(step_As)])
        if not charge_As[-1] > 0:
            continue
        # np.interp needs increasing abscissae: keep the first of equal charges
        charge_As, first = np.unique(charge_As, return_index=True)
        curves[int(number)] = np.interp(fractions * charge_As[-1], charge_As, voltage[rows][first])
    return curves


def _time_series_to_cycle_data(
    frame: pd.DataFrame,
    *,
    source: str,
    sha256: str,
    cell_id: str | None,
    meta: dict[str, Any],
    problems: list[str],
    rest_current_A: float,
) -> CycleData:
    """Validate a time-series frame (text or numbers) and reduce it to cycles."""
    found, unitless = _resolve_columns(frame.columns, BDF_VARIABLE_MAP, _BDF_UNITLESS, problems)
    for required in BDF_REQUIRED_COLUMNS:
        if required not in found and required not in unitless:
            problems.append(f"missing column {required!r}")

    values: dict[str, np.ndarray] = {}
    for canonical, (name, scale) in found.items():
        allow_missing = canonical == BDF_AMBIENT_TEMPERATURE
        values[canonical] = _column_values(frame, name, problems, allow_missing=allow_missing)[0] * scale

    if BDF_TEST_TIME in values:
        time = values[BDF_TEST_TIME]
        positions = np.flatnonzero(np.isfinite(time))
        backwards = positions[1:][np.diff(time[positions]) < 0]
        if backwards.size:
            name = found[BDF_TEST_TIME][0]
            problems.append(f"{name!r} goes backwards at {_rows_text([int(i) + 2 for i in backwards])}")
    for counter in (BDF_CYCLE_COUNT, BDF_STEP_COUNT):
        if counter in values:
            _check_integer_counter(values[counter], found[counter][0], problems, decreasing_is_problem=True)

    cycle: np.ndarray | None = None
    offset = 0
    if BDF_CURRENT in values:
        current = values[BDF_CURRENT]
        if BDF_CYCLE_COUNT in values:
            raw_cycle = values[BDF_CYCLE_COUNT]
            offset = _first_cycle_offset(raw_cycle)
            labelled = np.isfinite(raw_cycle)
            cycle = np.where(labelled, raw_cycle + offset, -1).astype(np.int64)
        else:
            cycle = detect_cycles(np.nan_to_num(current), rest_current_A)
        # A cycle is empty when every current in it is known and at rest; NaN or
        # non-numeric currents are reported above, not as an empty cycle.
        samples = pd.DataFrame(
            {
                "cycle": cycle,
                "active": np.abs(np.nan_to_num(current)) > rest_current_A,
                "known": np.isfinite(current),
                "row": np.arange(len(cycle)) + 2,
            }
        )
        for number, group in samples[samples["cycle"] >= 0].groupby("cycle", sort=True):
            if group["known"].all() and not group["active"].any():
                rows = group["row"].to_numpy()
                where = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"
                problems.append(f"cycle {number} has no current ({where})")

    if problems:
        raise DataError(problems, source=source)
    assert cycle is not None  # current was found, or a problem was raised
    cycles = per_cycle_capacities(values[BDF_TEST_TIME], values[BDF_CURRENT], cycle, rest_current_A=rest_current_A)
    meta = {
        **meta,
        "samples": len(frame),
        "cycle_source": (
            f"column {found[BDF_CYCLE_COUNT][0]!r}"
            if BDF_CYCLE_COUNT in found
            else "detected: a cycle starts where charging follows discharging"
        ),
        "cycle_offset": offset,
        "normalization": NORMALIZED_TO_FIRST_CYCLE,
    }
    voltage = values[BDF_VOLTAGE][np.isfinite(values[BDF_VOLTAGE])]
    if voltage.size:  # the cycled window, to check the data against the stated cathode
        meta["voltage_min_V"], meta["voltage_max_V"] = float(voltage.min()), float(voltage.max())
    if BDF_AMBIENT_TEMPERATURE in values and np.isfinite(values[BDF_AMBIENT_TEMPERATURE]).any():
        meta["ambient_temperature_degC_mean"] = float(np.nanmean(values[BDF_AMBIENT_TEMPERATURE]))
    curves = discharge_voltage_curves(
        values[BDF_TEST_TIME], values[BDF_VOLTAGE], values[BDF_CURRENT], cycle, rest_current_A=rest_current_A
    )
    return CycleData(cycles=cycles, source=source, cell_id=cell_id, sha256=sha256, meta=meta,
                     voltage_curves=curves)


# --- readers -----------------------------------------------------------------------


def read_bdf_csv(path: PathLike, cell_id: str | None = None, *, rest_current_A: float = 0.0) -> CycleData:
    """Read a Battery Data Format time-series CSV and reduce it to cycles.

    Required columns: ``Test Time / s``, ``Voltage / V``, ``Current / A`` (positive
    current charges). Recommended: ``Cycle Count / 1`` (without it cycles are
    detected: a new one starts where charging follows discharging),
    ``Step Count / 1``, ``Ambient Temperature / degC``. Names match case-insensitively,
    as the BDF machine-readable names (``test_time_second``, ``voltage_volt``,
    ``current_ampere``, ``cycle_count``, ...) and with ms/min/h, mV and mA units
    (converted). A column without a unit (``Voltage``) is a problem: units are
    required. Per-cycle capacities [mAh] come from :func:`per_cycle_capacities`;
    ``rest_current_A`` [A] is the largest |current| counted as rest.
    Raises :class:`DataError` listing every problem (missing columns,
    non-numeric or NaN cells, time going backwards, cycles with no current, ...).
    """
    path = _existing_file(path)
    problems: list[str] = []
    frame, sha256 = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    return _time_series_to_cycle_data(
        frame,
        source=path.name,
        sha256=sha256,
        cell_id=cell_id,
        meta={"format": "bdf"},
        problems=problems,
        rest_current_A=rest_current_A,
    )


def _summary_values(frame: pd.DataFrame, problems: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Validate a per-cycle summary frame; return canonical values and file column names."""
    found, unitless = _resolve_columns(frame.columns, SUMMARY_VARIABLE_MAP, _SUMMARY_UNITLESS, problems)
    if CYCLE not in found:
        problems.append(f"missing column {CYCLE!r}")
    if (
        DISCHARGE_CAPACITY_MAH not in found
        and NORMALIZED_CAPACITY not in found
        and DISCHARGE_CAPACITY_MAH not in unitless
    ):
        columns = ", ".join(repr(str(c)) for c in frame.columns)
        problems.append(
            "missing a capacity column: one of 'discharge_capacity_mAh', 'discharge_capacity_Ah', "
            f"'normalized_capacity' (found {columns})"
        )
    names = {canonical: name for canonical, (name, _) in found.items()}
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for canonical, (name, scale) in found.items():
        column, missing[canonical] = _column_values(frame, name, problems, allow_missing=True)
        values[canonical] = column * scale
    # The capacity the table rests on: discharge capacity, unless that column is
    # empty and a normalized capacity is given. It and the cycle may have no gaps.
    capacities = [c for c in (DISCHARGE_CAPACITY_MAH, NORMALIZED_CAPACITY) if c in found]
    primary = next((c for c in capacities if not missing[c].all()), capacities[0] if capacities else None)
    for required in (CYCLE, primary):
        if required in found:
            _report_missing(names[required], missing[required], problems)

    if CYCLE in values:
        cycle = values[CYCLE]
        name = names[CYCLE]
        _check_integer_counter(cycle, name, problems, decreasing_is_problem=False)
        finite = np.isfinite(cycle)
        duplicated = finite & pd.Series(cycle).duplicated(keep=False).to_numpy()
        if duplicated.any():
            groups = [
                f"{int(number) if float(number).is_integer() else number} "
                f"({_rows_text(_file_rows(duplicated & (cycle == number)))})"
                for number in pd.unique(cycle[duplicated])
            ]
            problems.append(f"duplicate cycle numbers: {', '.join(groups[:MAX_LISTED])}")
        positions = np.flatnonzero(finite)
        drops = positions[1:][np.diff(cycle[positions]) < 0]
        if drops.size:
            problems.append(f"cycle numbers are not increasing at {_rows_text([int(i) + 2 for i in drops])}")
    for canonical in (DISCHARGE_CAPACITY_MAH, CHARGE_CAPACITY_MAH, NORMALIZED_CAPACITY):
        if canonical in values:
            negative = values[canonical] < 0
            if negative.any():
                problems.append(
                    f"column {names[canonical]!r} has {_plural(int(negative.sum()), 'negative value')} "
                    f"({_rows_text(_file_rows(negative))})"
                )
    if COULOMBIC_EFFICIENCY in values:
        efficiency = values[COULOMBIC_EFFICIENCY]
        outside = np.isfinite(efficiency) & ((efficiency <= 0) | (efficiency > COULOMBIC_EFFICIENCY_MAX))
        if outside.any():
            message = (
                f"column {names[COULOMBIC_EFFICIENCY]!r} has {_plural(int(outside.sum()), 'value')} "
                f"outside (0, {COULOMBIC_EFFICIENCY_MAX}] ({_rows_text(_file_rows(outside))})"
            )
            if np.nanmedian(efficiency) > 50:
                message += ": they look like percent; give a fraction or name the column 'coulombic_efficiency_percent'"
            problems.append(message)
    return values, names


def _summary_table(values: dict[str, np.ndarray]) -> tuple[pd.DataFrame, int]:
    offset = _first_cycle_offset(values[CYCLE])
    table = _cycle_table(
        values[CYCLE] + offset,
        values.get(DISCHARGE_CAPACITY_MAH),
        values.get(CHARGE_CAPACITY_MAH),
        values.get(COULOMBIC_EFFICIENCY),
        values.get(NORMALIZED_CAPACITY),
    )
    return table, offset


def read_cycle_summary_csv(path: PathLike, cell_id: str | None = None) -> CycleData:
    """Read a per-cycle summary CSV.

    Required: ``cycle`` and one of ``discharge_capacity_mAh``,
    ``discharge_capacity_Ah`` (converted to mAh) or ``normalized_capacity``.
    Optional: ``charge_capacity_mAh`` / ``charge_capacity_Ah``,
    ``coulombic_efficiency`` (a fraction; ``coulombic_efficiency_percent`` is
    converted). A few aliases are accepted through :data:`SUMMARY_VARIABLE_MAP`
    (``cycle_number``, ``Discharge Capacity / mAh``, ...); a capacity column with no
    unit in its name is a problem. Missing CE is discharge / charge; missing
    normalized capacity is discharge / first positive discharge. Cycles counted
    from 0 are shifted to count from 1. Optional columns may have empty cells;
    the cycle and the capacity column used may not.
    Raises :class:`DataError` listing every problem (duplicate or decreasing
    cycle numbers, negative capacities, CE outside (0, 1.2], NaN, ...).
    """
    path = _existing_file(path)
    problems: list[str] = []
    frame, sha256 = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    values, _ = _summary_values(frame, problems)
    if problems:
        raise DataError(problems, source=path.name)
    table, offset = _summary_table(values)
    normalization = "as given in the file" if NORMALIZED_CAPACITY in values else NORMALIZED_TO_FIRST_CYCLE
    meta = {"format": "summary", "cycle_offset": offset, "normalization": normalization}
    return CycleData(cycles=table, source=path.name, cell_id=cell_id, sha256=sha256, meta=meta)


def _anode_free_cycle(k: int) -> int:
    """Cycle of column ``norm_capacity_k``: k = 1 is cycle 1, k >= 2 is cycle 10*(k-1)."""
    return 1 if k == 1 else 10 * (k - 1)


class _AnodeFreeTable(NamedTuple):
    frame: pd.DataFrame
    sha256: str
    id_column: str
    capacity_columns: list[tuple[int, str]]  # (k, file column), sorted by k
    other_columns: list[str]
    cell_ids: list[str]


def _load_anode_free_table(path: Path, problems: list[str]) -> _AnodeFreeTable | None:
    frame, sha256 = _read_csv(path, problems)
    if frame is None:
        return None
    by_key = {_normalize_name(column): column for column in frame.columns}
    id_column = by_key.get(ANODE_FREE_CELL_ID)
    capacity_columns = sorted(
        (int(match[1]), column)
        for column in frame.columns
        if (match := re.fullmatch(r"norm_capacity_(\d+)", _normalize_name(column)))
    )
    if id_column is None:
        problems.append(f"missing column {ANODE_FREE_CELL_ID!r}")
    if not capacity_columns or capacity_columns[0][0] != 1:
        problems.append(f"missing column '{ANODE_FREE_CAPACITY_PREFIX}1'")
    cell_ids: list[str] = []
    if id_column is not None:
        ids = frame[id_column].astype(str).str.strip()
        empty = ids.eq("").to_numpy()
        if empty.any():
            problems.append(
                f"column {id_column!r} has {_plural(int(empty.sum()), 'empty value')} ({_rows_text(_file_rows(empty))})"
            )
        duplicated = ids.duplicated(keep=False).to_numpy() & ~empty
        if duplicated.any():
            groups = [
                f"{cell} ({_rows_text(_file_rows(duplicated & ids.eq(cell).to_numpy()))})"
                for cell in pd.unique(ids[duplicated])
            ]
            problems.append(f"duplicate cell ids: {', '.join(groups[:MAX_LISTED])}")
        cell_ids = ids.tolist()
    capacity_names = {column for _, column in capacity_columns}
    other = [c for c in frame.columns if c != id_column and c not in capacity_names]
    return _AnodeFreeTable(frame, sha256, id_column or "", capacity_columns, other, cell_ids)


def list_anode_free_cells(path: PathLike) -> list[str]:
    """Cell ids of the anode-free wide table, in file order."""
    path = _existing_file(path)
    problems: list[str] = []
    table = _load_anode_free_table(path, problems)
    if problems or table is None:
        raise DataError(problems, source=path.name)
    return list(table.cell_ids)


def _listing(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED])
    return f"{shown}, ... ({len(ids)} in all)" if len(ids) > MAX_LISTED else shown


def _cell_value(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def read_anode_free_table(path: PathLike, cell_id: str | None) -> CycleData:
    """Read one cell of the wide anode-free Cu||LFP table (one row per cell).

    ``norm_capacity_k`` is the discharge capacity over the cathode's theoretical
    capacity [-] at cycle 1 (k = 1) or cycle 10*(k-1) (k >= 2). A 0 or empty cell
    means no measurement (the cell was stopped): it is dropped, not read as zero
    capacity (``meta['dropped_cycles']`` lists them). The table's
    ``normalized_capacity`` holds the values as given; the capacities in mAh and
    the CE are NaN (the file has neither). ``meta`` carries the other columns
    (``solvent_smiles``, ``salt_smiles``, ``salt_conc_M`` [M],
    ``theoretical_capacity_mAh_g`` [mAh/g], ``electrolyte_uL`` [uL]) and
    ``replicate_cell_ids``: the other cells with the same electrolyte and cell
    build. ``cell_id`` may be None only when the file has one cell.
    """
    path = _existing_file(path)
    problems: list[str] = []
    table = _load_anode_free_table(path, problems)
    if table is None or not table.id_column:
        raise DataError(problems, source=path.name)
    ids = [cell for cell in table.cell_ids if cell]
    row: int | None = None
    if cell_id is None:
        if len(ids) == 1:
            row = table.cell_ids.index(ids[0])
        else:
            problems.append(f"the file has {len(ids)} cells; --cell is required (one of {_listing(ids)})")
    else:
        wanted = str(cell_id).strip()
        matches = [i for i, cell in enumerate(table.cell_ids) if cell == wanted]
        if not matches:
            matches = [i for i, cell in enumerate(table.cell_ids) if cell.lower() == wanted.lower()]
        if len(matches) >= 1:
            row = matches[0]
        else:
            close = difflib.get_close_matches(wanted, ids, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"unknown cell {wanted!r}{hint}; valid cells include {_listing(ids)}")
    if row is None:
        raise DataError(problems, source=path.name)

    frame = table.frame
    cell = table.cell_ids[row]
    cycles: list[int] = []
    capacity: list[float] = []
    dropped: list[int] = []
    for k, column in table.capacity_columns:
        number = _anode_free_cycle(k)
        text = str(frame.iloc[row][column]).strip()
        if text.lower() in _MISSING_TEXT:
            dropped.append(number)
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(f"cell {cell!r}: {column!r} is not a number ({text!r}, row {row + 2})")
            continue
        if not np.isfinite(value) or value < 0:
            problems.append(f"cell {cell!r}: {column!r} is {text!r}, not a capacity >= 0 (row {row + 2})")
        elif value == 0:
            dropped.append(number)
        else:
            cycles.append(number)
            capacity.append(value)
    if not cycles and table.capacity_columns and not problems:
        problems.append(f"cell {cell!r} has no measurements (every {ANODE_FREE_CAPACITY_PREFIX}k is 0 or empty)")
    if problems:
        raise DataError(problems, source=path.name)

    def build(i: int) -> tuple[float | str, ...]:
        return tuple(_cell_value(str(frame.iloc[i][c]).strip()) for c in table.other_columns)

    mine = build(row)
    replicates = [other for i, other in enumerate(table.cell_ids) if i != row and other and build(i) == mine]
    meta: dict[str, Any] = {"format": "anode-free-table", "normalization": NORMALIZED_TO_THEORETICAL}
    meta.update(dict(zip(table.other_columns, mine, strict=True)))
    meta["replicate_cell_ids"] = replicates
    meta["dropped_cycles"] = dropped
    cycles_frame = _cycle_table(np.asarray(cycles), normalized=np.asarray(capacity))
    return CycleData(cycles=cycles_frame, source=path.name, cell_id=cell, sha256=table.sha256, meta=meta)


# --- vendor binary files (optional, through galvani) ---------------------------------


def _galvani_module(name: str, source: str, what: str) -> Any:
    """Import ``galvani.<name>`` lazily; a DataError says what to install if missing."""
    try:
        import importlib

        return importlib.import_module(f"galvani.{name}")
    except ImportError:
        raise DataError(
            f"reading {what} files needs the 'galvani' package, which is not installed: "
            "pip install galvani (or export the data as a BDF CSV)",
            source=source,
        ) from None


def _read_biologic_mpr(path: Path, cell_id: str | None) -> CycleData:
    """BioLogic .mpr through galvani's ``BioLogic.MPRfile`` (I/mA: positive charges)."""
    biologic = _galvani_module("BioLogic", path.name, "BioLogic .mpr")
    try:
        data = biologic.MPRfile(str(path)).data
    except Exception as exc:  # galvani raises many kinds on files it cannot parse
        raise DataError(f"galvani could not read the file: {exc}", source=path.name) from exc
    columns = list(data.dtype.names or ())

    def first(*candidates: str) -> str | None:
        return next((c for c in candidates if c in columns), None)

    time, voltage = first("time/s"), first("Ewe/V", "Ecell/V", "<Ewe>/V")
    current, cycle = first("I/mA", "<I>/mA"), first("cycle number")
    missing = [
        what for what, column in (("time/s", time), ("Ewe/V or Ecell/V", voltage), ("I/mA", current)) if column is None
    ]
    if missing:
        raise DataError(
            [f"missing column {m!r}" for m in missing] + [f"columns found: {', '.join(columns)}"], source=path.name
        )
    frame = pd.DataFrame(
        {
            BDF_TEST_TIME: np.asarray(data[time], dtype=float),
            BDF_VOLTAGE: np.asarray(data[voltage], dtype=float),
            BDF_CURRENT: np.asarray(data[current], dtype=float) * 1e-3,
        }
    )
    if cycle is not None:
        frame[BDF_CYCLE_COUNT] = np.asarray(data[cycle], dtype=float)
    return _time_series_to_cycle_data(
        frame,
        source=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        cell_id=cell_id,
        meta={"format": "biologic-mpr"},
        problems=[],
        rest_current_A=0.0,
    )


def _read_arbin_res(path: Path, cell_id: str | None) -> CycleData:
    """Arbin .res through galvani's ``res2sqlite`` (needs mdbtools' ``mdb-export``)."""
    res2sqlite = _galvani_module("res2sqlite", path.name, "Arbin .res")
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "res.sqlite"
        try:
            with contextlib.redirect_stdout(sys.stderr):  # galvani prints progress
                res2sqlite.convert_arbin_to_sqlite(str(path), str(database))
            with contextlib.closing(sqlite3.connect(database)) as connection:
                raw = pd.read_sql_query(
                    "SELECT Test_Time, Voltage, Current, Cycle_Index FROM Channel_Normal_Table "
                    "ORDER BY Test_ID, Data_Point",
                    connection,
                )
        except Exception as exc:  # a missing mdb-export is a RuntimeError there
            raise DataError(f"galvani could not convert the file: {exc}", source=path.name) from exc
    frame = pd.DataFrame(
        {
            BDF_TEST_TIME: raw["Test_Time"].to_numpy(dtype=float),
            BDF_VOLTAGE: raw["Voltage"].to_numpy(dtype=float),
            BDF_CURRENT: raw["Current"].to_numpy(dtype=float),
            BDF_CYCLE_COUNT: raw["Cycle_Index"].to_numpy(dtype=float),
        }
    )
    return _time_series_to_cycle_data(
        frame,
        source=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        cell_id=cell_id,
        meta={"format": "arbin-res"},
        problems=[],
        rest_current_A=0.0,
    )


# --- dispatch ----------------------------------------------------------------------


def detect_format(path: PathLike) -> str:
    """Which reader a file needs, from its extension or its CSV header.

    ``.mpr`` -> ``"biologic-mpr"``, ``.res`` -> ``"arbin-res"``; a CSV with time or
    current columns -> ``"bdf"``; with ``cell_id`` and ``norm_capacity_k`` columns ->
    ``"anode-free-table"``; with a cycle column -> ``"summary"``.
    """
    path = _existing_file(path)
    suffix = path.suffix.lower()
    if suffix == ".mpr":
        return "biologic-mpr"
    if suffix == ".res":
        return "arbin-res"
    problems: list[str] = []
    frame, _ = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    keys = {_normalize_name(column) for column in frame.columns}
    quantities = {_quantity_key(column) for column in frame.columns}
    time_series = {BDF_TEST_TIME, BDF_CURRENT}
    if any(BDF_VARIABLE_MAP[k].canonical in time_series for k in keys if k in BDF_VARIABLE_MAP) or quantities & {
        "test_time",
        "time",
        "current",
    }:
        return "bdf"
    if ANODE_FREE_CELL_ID in keys and any(k.startswith(ANODE_FREE_CAPACITY_PREFIX) for k in keys):
        return "anode-free-table"
    if any(SUMMARY_VARIABLE_MAP[k].canonical == CYCLE for k in keys if k in SUMMARY_VARIABLE_MAP):
        return "summary"
    columns = ", ".join(repr(str(c)) for c in frame.columns)
    raise DataError(
        f"cannot tell the format from the columns ({columns}): expected a BDF time series "
        f"({', '.join(repr(c) for c in BDF_REQUIRED_COLUMNS)}), a per-cycle summary ('cycle' and "
        "'discharge_capacity_mAh') or the anode-free table ('cell_id', 'norm_capacity_1', ...); "
        "or name the format",
        source=path.name,
    )


def read_cycling_data(path: PathLike, cell_id: str | None = None, format: str = "auto") -> CycleData:
    """Read any supported cycling file into a :class:`CycleData`.

    ``format``: one of :data:`FORMATS`; ``"auto"`` picks by :func:`detect_format`.
    ``cell_id`` selects a cell of the anode-free table; for single-cell formats
    it is only recorded. Raises :class:`DataError` for a missing file, an unknown
    format and every problem in the file.
    """
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}", source=Path(path).name)
    path = _existing_file(path)
    chosen = detect_format(path) if format == "auto" else format
    readers: dict[str, Callable[[Path, str | None], CycleData]] = {
        "bdf": read_bdf_csv,
        "summary": read_cycle_summary_csv,
        "anode-free-table": read_anode_free_table,
        "biologic-mpr": _read_biologic_mpr,
        "arbin-res": _read_arbin_res,
    }
    return readers[chosen](path, cell_id)


def select_cycles(data: CycleData, max_cycle: int) -> tuple[CycleData, CycleData]:
    """Split into the cycles to fit (cycle <= ``max_cycle``) and the unseen rest.

    Both keep the source, cell, hash and meta (plus ``meta['selection']``); values
    are not renormalized. Raises :class:`DataError` when no cycle is left to fit.
    """
    if isinstance(max_cycle, bool) or not isinstance(max_cycle, (int, np.integer)) or max_cycle < 1:
        raise DataError(f"max_cycle must be an integer >= 1 (got {max_cycle!r})", source=data.source)
    table = data.cycles
    fitted_rows = table[CYCLE] <= max_cycle
    if not fitted_rows.any():
        first = int(table[CYCLE].min()) if len(table) else None
        raise DataError(f"no cycle at or below max_cycle={max_cycle} (first cycle is {first})", source=data.source)

    def part(rows: pd.Series, selection: str) -> CycleData:
        return dataclasses.replace(
            data, cycles=table[rows].reset_index(drop=True), meta={**data.meta, "selection": selection}
        )

    return part(fitted_rows, f"cycle <= {max_cycle}"), part(~fitted_rows, f"cycle > {max_cycle}")


# --- writers -----------------------------------------------------------------------


def _write_atomically(path: PathLike, write: Callable[[IO[str]], None]) -> Path:
    """Render with `write`, then write through twin.files.write_atomic: a failure at
    any point leaves any existing file at ``path`` untouched. A new file gets mode
    0o644 (a replaced file keeps its mode)."""
    buffer = io.StringIO(newline="")
    write(buffer)
    return write_atomic(path, buffer.getvalue(), new_file_mode=0o644)


def write_bdf_csv(
    path: PathLike,
    time_s: Sequence[float] | np.ndarray,
    voltage_V: Sequence[float] | np.ndarray,
    current_A: Sequence[float] | np.ndarray,
    cycle: Sequence[int] | np.ndarray,
    step: Sequence[int] | np.ndarray | None = None,
) -> Path:
    """Write a BDF time-series CSV atomically; returns the path.

    Columns: ``Test Time / s`` [s], ``Voltage / V`` [V], ``Current / A`` [A, positive
    charges], ``Cycle Count / 1`` and, when given, ``Step Count / 1``. Floats are
    written in shortest round-trip form, so :func:`read_bdf_csv` gets the same
    numbers back. Raises :class:`DataError` (and writes nothing) for arrays of
    different lengths, non-finite values or non-integer cycle/step numbers.
    """
    path = Path(path)
    columns: dict[str, Any] = {
        BDF_TEST_TIME: time_s,
        BDF_VOLTAGE: voltage_V,
        BDF_CURRENT: current_A,
        BDF_CYCLE_COUNT: cycle,
    }
    if step is not None:
        columns[BDF_STEP_COUNT] = step
    problems: list[str] = []
    arrays: dict[str, np.ndarray] = {}
    for name, raw in columns.items():
        try:
            array = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            problems.append(f"{name!r} is not numeric")
            continue
        if array.ndim != 1:
            problems.append(f"{name!r} must be 1-D (got shape {array.shape})")
            continue
        bad = ~np.isfinite(array)
        if bad.any():
            samples = _rows_text([int(i) for i in np.flatnonzero(bad)], "sample")
            problems.append(f"{name!r} has {_plural(int(bad.sum()), 'non-finite value')} ({samples})")
        if name in (BDF_CYCLE_COUNT, BDF_STEP_COUNT) and np.any(np.isfinite(array) & (array != np.round(array))):
            problems.append(f"{name!r} has non-integer values")
        arrays[name] = array
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        problems.append("columns have different lengths: " + ", ".join(f"{n!r} {k}" for n, k in lengths.items()))
    elif lengths and next(iter(lengths.values())) == 0:
        problems.append("no samples to write")
    if problems:
        raise DataError(problems, source=path.name)
    frame = pd.DataFrame(arrays)
    for counter in (BDF_CYCLE_COUNT, BDF_STEP_COUNT):
        if counter in frame:
            frame[counter] = frame[counter].astype(np.int64)
    return _write_atomically(path, lambda stream: frame.to_csv(stream, index=False, lineterminator="\n"))


def write_cycle_summary_csv(path: PathLike, df: pd.DataFrame | CycleData) -> Path:
    """Write a per-cycle summary CSV atomically; returns the path.

    ``df`` is a per-cycle table (canonical columns, or any name of
    :data:`SUMMARY_VARIABLE_MAP`, e.g. ``discharge_capacity_Ah``) or a
    :class:`CycleData`. It is checked as :func:`read_cycle_summary_csv` checks a
    file (so what is written reads back), then written with the canonical columns
    (capacities in mAh) that hold any value; other columns are left out.
    """
    path = Path(path)
    frame = df.cycles if isinstance(df, CycleData) else df
    problems: list[str] = []
    values, _ = _summary_values(frame.reset_index(drop=True), problems)
    if problems:
        raise DataError(problems, source=path.name)
    out = pd.DataFrame({CYCLE: values[CYCLE].astype(np.int64)})
    for canonical in CYCLE_COLUMNS[1:]:
        if canonical in values and np.isfinite(values[canonical]).any():
            out[canonical] = values[canonical]
    return _write_atomically(path, lambda stream: out.to_csv(stream, index=False, lineterminator="\n"))


__all__ = [
    "AMPERE_SECONDS_PER_MAH",
    "ANODE_FREE_CAPACITY_PREFIX",
    "ANODE_FREE_CELL_ID",
    "BDF_AMBIENT_TEMPERATURE",
    "BDF_CURRENT",
    "BDF_CYCLE_COUNT",
    "BDF_REQUIRED_COLUMNS",
    "BDF_STEP_COUNT",
    "BDF_TEST_TIME",
    "BDF_VARIABLE_MAP",
    "BDF_VOLTAGE",
    "CHARGE_CAPACITY_MAH",
    "COULOMBIC_EFFICIENCY",
    "COULOMBIC_EFFICIENCY_MAX",
    "CYCLE",
    "CYCLE_COLUMNS",
    "ColumnAlias",
    "CycleData",
    "DISCHARGE_CAPACITY_MAH",
    "DataError",
    "FORMATS",
    "NORMALIZED_CAPACITY",
    "NORMALIZED_TO_FIRST_CYCLE",
    "NORMALIZED_TO_THEORETICAL",
    "SUMMARY_VARIABLE_MAP",
    "VOLTAGE_CURVE_FRACTIONS",
    "detect_cycles",
    "discharge_voltage_curves",
    "detect_format",
    "list_anode_free_cells",
    "per_cycle_capacities",
    "read_anode_free_table",
    "read_bdf_csv",
    "read_cycle_summary_csv",
    "read_cycling_data",
    "select_cycles",
    "write_bdf_csv",
    "write_cycle_summary_csv",
]
