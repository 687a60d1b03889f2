"""Cycling data in, one canonical per-cycle table out: one reader module per format.

* :mod:`.bdf`: Battery Data Format time-series CSV (:func:`read_bdf_csv`);
* :mod:`.summary`: per-cycle summary CSV (:func:`read_cycle_summary_csv`);
* :mod:`.anode_free`: the wide anode-free Cu||LFP table (:func:`read_anode_free_table`);
* :mod:`.biologic`: BioLogic ``.mpr`` through galvani;
* :mod:`.arbin`: Arbin ``.res`` through galvani and mdbtools;
* :mod:`.maccor`: Maccor text exports;
* :mod:`.neware`: Neware BTS CSV exports, and ``.nda``/``.ndax`` through NewareNDA;
* :mod:`.common`: the canonical table, :class:`DataError` (every problem of a file in one
  message), variable maps, validation and the time series -> cycles reduction;
* :mod:`.sanity`: plausibility of a per-cycle table against the cell it claims to be.

The vendor libraries are an optional extra: ``pip install 'twin[vendors]'``; without it a
vendor file gets a DataError naming the extra. :func:`read_cycling_data` picks the reader
from the extension, then the header.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from twin.calibration.readers.anode_free import list_anode_free_cells, read_anode_free_table
from twin.calibration.readers.arbin import read_arbin_res
from twin.calibration.readers.bdf import read_bdf_csv, write_bdf_csv
from twin.calibration.readers.biologic import read_biologic_mpr
from twin.calibration.readers.common import (
    AMPERE_SECONDS_PER_MAH,
    ANODE_FREE_CAPACITY_PREFIX,
    ANODE_FREE_CELL_ID,
    BDF_AMBIENT_TEMPERATURE,
    BDF_CURRENT,
    BDF_CYCLE_COUNT,
    BDF_REQUIRED_COLUMNS,
    BDF_STEP_COUNT,
    BDF_TEST_TIME,
    BDF_VARIABLE_MAP,
    BDF_VOLTAGE,
    CHARGE_CAPACITY_MAH,
    COULOMBIC_EFFICIENCY,
    COULOMBIC_EFFICIENCY_MAX,
    CYCLE,
    CYCLE_COLUMNS,
    DISCHARGE_CAPACITY_MAH,
    FORMATS,
    NORMALIZED_CAPACITY,
    NORMALIZED_TO_FIRST_CYCLE,
    NORMALIZED_TO_THEORETICAL,
    SUMMARY_VARIABLE_MAP,
    VENDORS_EXTRA,
    VOLTAGE_CURVE_FRACTIONS,
    ColumnAlias,
    CycleData,
    DataError,
    PathLike,
    _existing_file,
    _normalize_name,
    _quantity_key,
    _read_csv,
    detect_cycles,
    discharge_voltage_curves,
    per_cycle_capacities,
)
from twin.calibration.readers.maccor import looks_like_maccor, read_maccor_txt
from twin.calibration.readers.neware import looks_like_neware_csv, read_neware_csv, read_neware_nda
from twin.calibration.readers.summary import read_cycle_summary_csv, write_cycle_summary_csv

VENDOR_SUFFIXES: dict[str, str] = {
    ".mpr": "biologic-mpr",
    ".res": "arbin-res",
    ".nda": "neware-nda",
    ".ndax": "neware-nda",
}
"""Binary vendor formats, known by their extension."""

READERS: dict[str, Callable[[Path, str | None], CycleData]] = {
    "bdf": read_bdf_csv,
    "summary": read_cycle_summary_csv,
    "anode-free-table": read_anode_free_table,
    "biologic-mpr": read_biologic_mpr,
    "arbin-res": read_arbin_res,
    "maccor-txt": read_maccor_txt,
    "neware-csv": read_neware_csv,
    "neware-nda": read_neware_nda,
}
"""Format name -> reader(path, cell_id)."""


def check_text_file(path: Path) -> None:
    """Refuse a binary or UTF-16 file given where a text table is expected, naming it
    (pandas would otherwise report a confusing tokenizer error or read garbage)."""
    head = path.read_bytes()[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (head[:2].count(b"\x00") == 1 and head.count(b"\x00") > len(head) // 4):
        raise DataError(
            f"{path.name} is UTF-16 text: save it as UTF-8 (CSV UTF-8 in a spreadsheet program)", source=path.name
        )
    if b"\x00" in head:
        known = ", ".join(sorted(VENDOR_SUFFIXES))
        raise DataError(
            f"{path.name} is a binary file, not a text table: a vendor binary format needs its extension "
            f"({known}), or export the data as a BDF CSV",
            source=path.name,
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
    if suffix in VENDOR_SUFFIXES:
        return VENDOR_SUFFIXES[suffix]
    check_text_file(path)
    head = path.read_bytes()[:65536].decode("latin-1")
    if looks_like_maccor(head):
        return "maccor-txt"
    problems: list[str] = []
    frame, _ = _read_csv(path, problems)
    if frame is None:
        raise DataError(problems, source=path.name)
    if looks_like_neware_csv(list(frame.columns)):
        return "neware-csv"
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
    if chosen not in VENDOR_SUFFIXES.values():
        check_text_file(path)
    return READERS[chosen](path, cell_id)


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
    "READERS",
    "SUMMARY_VARIABLE_MAP",
    "VENDORS_EXTRA",
    "VOLTAGE_CURVE_FRACTIONS",
    "detect_cycles",
    "detect_format",
    "discharge_voltage_curves",
    "list_anode_free_cells",
    "per_cycle_capacities",
    "read_anode_free_table",
    "read_arbin_res",
    "read_bdf_csv",
    "read_biologic_mpr",
    "read_cycle_summary_csv",
    "read_cycling_data",
    "read_maccor_txt",
    "read_neware_csv",
    "read_neware_nda",
    "select_cycles",
    "write_bdf_csv",
    "write_cycle_summary_csv",
]
