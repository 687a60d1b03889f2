"""Per-cycle summary CSV (one row per cycle): reader and writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.calibration.readers.common import (
    CAPACITY_LIMIT_MAH,
    CYCLE_NUMBER_LIMIT,
    NORMALIZED_LIMIT,
    CHARGE_CAPACITY_MAH,
    COULOMBIC_EFFICIENCY,
    COULOMBIC_EFFICIENCY_MAX,
    CYCLE,
    CYCLE_COLUMNS,
    CycleData,
    DISCHARGE_CAPACITY_MAH,
    DataError,
    MAX_LISTED,
    NORMALIZED_CAPACITY,
    NORMALIZED_TO_FIRST_CYCLE,
    PathLike,
    SUMMARY_VARIABLE_MAP,
    _SUMMARY_UNITLESS,
    _check_integer_counter,
    _column_values,
    _cycle_table,
    _existing_file,
    _file_rows,
    _first_cycle_offset,
    _plural,
    _read_csv,
    _report_missing,
    _resolve_columns,
    _rows_text,
    _write_atomically,
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
    limits = {CYCLE: (CYCLE_NUMBER_LIMIT, ""), DISCHARGE_CAPACITY_MAH: (CAPACITY_LIMIT_MAH, " mAh"),
              CHARGE_CAPACITY_MAH: (CAPACITY_LIMIT_MAH, " mAh"), NORMALIZED_CAPACITY: (NORMALIZED_LIMIT, "")}
    for canonical, (limit, unit) in limits.items():
        if canonical in values:
            absurd = np.isfinite(values[canonical]) & (values[canonical] > limit)
            if absurd.any():
                problems.append(
                    f"column {names[canonical]!r} has {_plural(int(absurd.sum()), 'absurd value')} above "
                    f"{limit:g}{unit} ({_rows_text(_file_rows(absurd))}; worst {np.nanmax(values[canonical]):.6g})"
                )
                values[canonical] = np.where(absurd, np.nan, values[canonical])
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
