"""The wide anode-free Cu||LFP table (one row per cell, ``norm_capacity_k`` columns)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from twin.calibration.readers.common import (
    ANODE_FREE_CAPACITY_PREFIX,
    ANODE_FREE_CELL_ID,
    CycleData,
    DataError,
    MAX_LISTED,
    NORMALIZED_TO_THEORETICAL,
    PathLike,
    _MISSING_TEXT,
    _cycle_table,
    _existing_file,
    _file_rows,
    _normalize_name,
    _plural,
    _read_csv,
    _rows_text,
)

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
