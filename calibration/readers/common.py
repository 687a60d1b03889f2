"""Shared pieces of the cycling-data readers: the canonical per-cycle table, the
aggregated :class:`DataError`, column variable maps, cell validation and the reduction
of a current time series to per-cycle capacities.

Every reader collects all problems of a file before raising one :class:`DataError`.
Row numbers in messages count the header line as row 1, as a spreadsheet shows them.
Conventions: positive current charges the cell (BDF); capacities are in mAh; a cycle
is a charge followed by a discharge, so its Coulombic efficiency is discharge / charge.

Column names are matched through variable maps (``BDF_VARIABLE_MAP``,
``SUMMARY_VARIABLE_MAP``), as pvlib's readers do: keys are *normalized* names (lower
case, runs of other characters as ``_``, ``%`` spelled ``percent``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeAlias

import numpy as np
import pandas as pd

from twin.errors import TwinInputError
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
    "maccor-txt",
    "neware-csv",
    "neware-nda",
)
"""Values accepted by ``read_cycling_data(format=...)``."""

AMPERE_SECONDS_PER_MAH = 3.6
"""1 mAh = 3.6 A s."""
COULOMBIC_EFFICIENCY_MAX = 1.2
"""Largest Coulombic efficiency a summary file may give; above it the value is a mistake."""
MAX_LISTED = 5
"""How many rows (or ids) a message lists before saying 'and N more'."""

_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none", "#n/a"})


class DataError(TwinInputError):
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
    drop_rest_only_cycles: bool = False,
) -> CycleData:
    """Validate a time-series frame (text or numbers) and reduce it to cycles.

    ``drop_rest_only_cycles``: a cycle whose samples are all at rest (a vendor file's
    trailing rest, counted as a cycle by the cycler) is left out and listed in
    ``meta['rest_only_cycles']`` instead of being a problem (vendor readers set it;
    a BDF file written for the twin should not have such cycles).
    """
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

    plausible = check_time_series_values(values, found, problems)
    cycle: np.ndarray | None = None
    offset = 0
    rest_only: list[int] = []
    if BDF_CURRENT in values and plausible:
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
                if drop_rest_only_cycles:
                    rest_only.append(int(number))
                    continue
                rows = group["row"].to_numpy()
                where = f"row {rows[0]}" if len(rows) == 1 else f"rows {rows[0]}-{rows[-1]}"
                problems.append(f"cycle {number} has no current ({where})")

    if problems:
        raise DataError(problems, source=source)
    assert cycle is not None  # current was found, or a problem was raised
    if rest_only:
        keep = ~np.isin(cycle, rest_only)
        values = {name: column[keep] for name, column in values.items()}
        cycle = cycle[keep]
        meta = {**meta, "rest_only_cycles": rest_only}
    check_cycle_clock(values[BDF_TEST_TIME], cycle, source)
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
    # the voltage range while current flows (rest voltages relax toward OCV)
    active = np.abs(values[BDF_CURRENT]) > rest_current_A
    if BDF_VOLTAGE in values and np.isfinite(values[BDF_VOLTAGE][active]).any():
        meta["voltage_min_V"] = float(np.nanmin(values[BDF_VOLTAGE][active]))
        meta["voltage_max_V"] = float(np.nanmax(values[BDF_VOLTAGE][active]))
    if BDF_AMBIENT_TEMPERATURE in values and np.isfinite(values[BDF_AMBIENT_TEMPERATURE]).any():
        meta["ambient_temperature_degC_mean"] = float(np.nanmean(values[BDF_AMBIENT_TEMPERATURE]))
    curves = discharge_voltage_curves(
        values[BDF_TEST_TIME], values[BDF_VOLTAGE], values[BDF_CURRENT], cycle, rest_current_A=rest_current_A
    )
    return CycleData(cycles=cycles, source=source, cell_id=cell_id, sha256=sha256, meta=meta,
                     voltage_curves=curves)


# --- plausibility of time series (shared by every time-series reader) ---------------

CURRENT_LIMIT_A = 1.0e3
"""Largest |current| [A] taken as a measurement: no lab cycler channel drives more."""
VOLTAGE_RANGE_V = (-5.0, 10.0)
"""Cell voltages [V] taken as measurements; outside it a value is a unit or logging error."""
CYCLE_NUMBER_LIMIT = 1_000_000
"""Largest cycle or step counter taken as a count (a Li-metal cell lives < 10^4 cycles)."""
CAPACITY_LIMIT_MAH = 1.0e7
"""Largest per-cycle capacity [mAh] taken as a measurement (10 kAh: beyond any one cell)."""
NORMALIZED_LIMIT = 100.0
"""Largest normalized capacity [-] taken as a value (plausibility is judged later, against the median)."""
TEST_TIME_LIMIT_S = 1.0e9
"""Longest test time [s] taken as a measurement (about 32 years)."""


def _outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
    finite = np.isfinite(values)
    return finite & ((values < low) | (values > high))


def check_time_series_values(
    values: Mapping[str, np.ndarray], found: Mapping[str, tuple[str, float]], problems: list[str]
) -> bool:
    """Report absurd samples (a current of 1e300 A, 3700 'V', a cycle counter of 1e12).

    Appends one problem per column naming its rows and worst value; returns False
    when any was found, so no reduction to cycles is attempted on such numbers
    (a counter of 1e12 would otherwise make a table of 10^12 cycles).
    """
    limits = {
        BDF_CURRENT: (-CURRENT_LIMIT_A, CURRENT_LIMIT_A, "A"),
        BDF_VOLTAGE: (*VOLTAGE_RANGE_V, "V"),
        BDF_TEST_TIME: (-TEST_TIME_LIMIT_S, TEST_TIME_LIMIT_S, "s"),
        BDF_CYCLE_COUNT: (0, CYCLE_NUMBER_LIMIT, ""),
        BDF_STEP_COUNT: (0, 100 * CYCLE_NUMBER_LIMIT, ""),
    }
    plausible = True
    for canonical, (low, high, unit) in limits.items():
        if canonical not in values:
            continue
        bad = _outside(values[canonical], low, high)
        if bad.any():
            plausible = False
            worst = values[canonical][bad][np.argmax(np.abs(values[canonical][bad]))]
            name = found[canonical][0] if canonical in found else canonical
            where = _rows_text(_file_rows(bad))
            problems.append(
                f"column {name!r} has {_plural(int(bad.sum()), 'absurd value')} outside "
                f"[{low:g}, {high:g}]{' ' + unit if unit else ''} ({where}; worst {worst:.6g})"
            )
    return plausible


def check_cycle_clock(time_s: np.ndarray, cycle: np.ndarray, source: str) -> None:
    """Refuse cycles over which the clock does not move (a frozen logger clock).

    A cycle of several samples whose first and last time stamps are equal would
    integrate to zero capacity and look like a dead cell. Raises :class:`DataError`
    naming the cycles.
    """
    if len(cycle) == 0:
        return
    frame = pd.DataFrame({"cycle": cycle, "time": time_s})
    spans = frame.groupby("cycle", sort=True)["time"].agg(["min", "max", "size"])
    frozen = spans[(spans["size"] > 1) & (spans["max"] <= spans["min"])]
    if len(frozen):
        raise DataError(
            f"the clock does not advance over {_rows_text([int(c) for c in frozen.index], 'cycle')} "
            "(every sample has the same time stamp): a frozen logger clock",
            source=source,
        )


def noise_rest_current_A(current_A: np.ndarray, fraction: float = 0.01) -> float:
    """A rest threshold [A] for files that carry no cycle counter: ``fraction`` of the
    99th percentile of |current|. A potentiostat's rest current is noise around 0 A;
    splitting cycles on its sign made 63 'cycles' of one BioLogic file."""
    magnitude = np.abs(np.asarray(current_A, dtype=float))
    magnitude = magnitude[np.isfinite(magnitude)]
    return float(fraction * np.percentile(magnitude, 99)) if magnitude.size else 0.0


VENDORS_EXTRA = "pip install 'twin[vendors]'"
"""How to install the optional vendor-file readers (galvani, NewareNDA)."""


def vendor_module(module: str, package: str, source: str, what: str) -> Any:
    """Import a vendor reader library lazily; a DataError names the extra to install."""
    import importlib

    try:
        importlib.import_module(module.split(".")[0])  # the package itself, even if a submodule is cached
        return importlib.import_module(module)
    except ImportError:
        raise DataError(
            f"reading {what} files needs the {package!r} package, which is not installed: "
            f"{VENDORS_EXTRA} (or pip install {package}), or export the data as a BDF CSV",
            source=source,
        ) from None


def quiet_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a vendor library with its prints (stdout and stderr) sent to the debug log.

    galvani prints progress lines; they stay off the terminal unless the CLI runs with
    ``--verbose`` (which turns the ``twin`` logger to DEBUG).
    """
    import contextlib
    import logging

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            return function(*args, **kwargs)
    finally:
        chatter = buffer.getvalue().strip()
        if chatter:
            logging.getLogger("twin.readers").debug("%s", chatter)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(path: PathLike, write: Callable[[IO[str]], None]) -> Path:
    """Render with `write`, then write through twin.files.write_atomic: a failure at
    any point leaves any existing file at ``path`` untouched. A new file gets mode
    0o644 (a replaced file keeps its mode)."""
    buffer = io.StringIO(newline="")
    write(buffer)
    return write_atomic(path, buffer.getvalue(), new_file_mode=0o644)


def vendor_cycle_data(frame: pd.DataFrame, path: Path, cell_id: str | None, meta: dict[str, Any],
                      rest_current_A: float = 0.0) -> CycleData:
    """The per-cycle data of a vendor file's time series `frame` (BDF columns: time [s],
    voltage [V], current [A], cycle counter if the file has one); a trailing cycle of
    rest only is dropped, `rest_current_A` is the current still counted as rest."""
    return _time_series_to_cycle_data(frame, source=path.name, sha256=file_sha256(path), cell_id=cell_id,
                                      meta=meta, problems=[], rest_current_A=rest_current_A,
                                      drop_rest_only_cycles=True)
