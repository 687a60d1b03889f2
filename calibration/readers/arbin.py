"""Arbin ``.res`` files, read through galvani's ``res2sqlite`` (``pip install
'twin[vendors]'`` plus the system package ``mdbtools``, whose ``mdb-export`` galvani runs:
``.res`` is a Microsoft Access database). See :mod:`.biologic` for the library choice."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pandas as pd

from twin.calibration.readers.common import (
    BDF_CURRENT,
    BDF_CYCLE_COUNT,
    BDF_TEST_TIME,
    BDF_VOLTAGE,
    CycleData,
    DataError,
    quiet_call,
    vendor_cycle_data,
    vendor_module,
)


def read_arbin_res(path: Path, cell_id: str | None = None) -> CycleData:
    """Read an Arbin ``.res`` file (``Channel_Normal_Table``: ``Test_Time`` [s],
    ``Voltage`` [V], ``Current`` [A, positive charges], ``Cycle_Index``) and reduce it
    to cycles. A trailing cycle of rest samples only is left out (listed in
    ``meta['rest_only_cycles']``)."""
    path = Path(path)
    res2sqlite = vendor_module("galvani.res2sqlite", "galvani", path.name, "Arbin .res")
    if shutil.which("mdb-export") is None:
        raise DataError(
            "reading Arbin .res files needs mdbtools' 'mdb-export' program, which is not on PATH: "
            "install the system package mdbtools (apt-get install mdbtools, brew install mdbtools), "
            "or export the data as a BDF CSV",
            source=path.name,
        )
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "res.sqlite"
        try:
            quiet_call(res2sqlite.convert_arbin_to_sqlite, str(path), str(database))
            with contextlib.closing(sqlite3.connect(database)) as connection:
                raw = pd.read_sql_query(
                    "SELECT Test_Time, Voltage, Current, Cycle_Index FROM Channel_Normal_Table "
                    "ORDER BY Test_ID, Data_Point",
                    connection,
                )
        except Exception as exc:  # mdb-export failures come back as RuntimeError
            raise DataError(f"galvani could not convert the file: {exc}", source=path.name) from exc
    frame = pd.DataFrame(
        {
            BDF_TEST_TIME: raw["Test_Time"].to_numpy(dtype=float),
            BDF_VOLTAGE: raw["Voltage"].to_numpy(dtype=float),
            BDF_CURRENT: raw["Current"].to_numpy(dtype=float),
            BDF_CYCLE_COUNT: raw["Cycle_Index"].to_numpy(dtype=float),
        }
    )
    return vendor_cycle_data(frame, path, cell_id, {"format": "arbin-res", "reader": "galvani"})
