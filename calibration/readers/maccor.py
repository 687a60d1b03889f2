"""Maccor text exports (tab-separated, from MacTest/MIMS "export to text").

No maintained library reads these with numpy 2 / pandas 3 beside PyBaMM (cellpy, which
does, pins pandas<3 and needs a per-lab configuration for each export template), so this
module reads them itself: the header line starting ``Rec#``, a decimal comma or point,
``TestTime`` as seconds or ``Nd HH:MM:SS.ss``, ``Amps`` [A] or ``mAmps`` [mA],
``Volts``, ``Cyc#`` and ``State`` (C charge, D discharge, R rest).

Maccor logs |current| in some templates: the sign comes from ``State`` (C positive,
D negative, as BDF). An export with milli units (``mAmps``, ``mAmp-hr``) writes
``Volts`` in mV as well (the WMG/SIMBA template; cellpy's ``maccor_txt_three``
configuration says so): such a column whose values are all above 100 is read as mV,
and ``meta['voltage_unit']`` records it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from twin.calibration.readers.common import (
    BDF_CURRENT,
    BDF_CYCLE_COUNT,
    BDF_TEST_TIME,
    BDF_VOLTAGE,
    CycleData,
    DataError,
    vendor_cycle_data,
)

_DURATION = re.compile(r"^\s*(?:(?P<days>\d+)\s*d\s*)?(?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:[.,]\d*)?)\s*$")


def looks_like_maccor(text: str) -> bool:
    """True when a text file has a tab-separated header line starting ``Rec#``."""
    return any(line.split("\t", 1)[0].strip() == "Rec#" for line in text.splitlines()[:40])


def _seconds(cells: pd.Series) -> np.ndarray:
    """``TestTime`` cells as seconds: plain numbers, or ``Nd HH:MM:SS.ss``."""
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells.astype(str)):
        match = _DURATION.match(cell)
        if match:
            out[i] = (
                int(match["days"] or 0) * 86400
                + int(match["h"]) * 3600
                + int(match["m"]) * 60
                + float(match["s"].replace(",", "."))
            )
        else:
            try:
                out[i] = float(cell.replace(",", "."))
            except ValueError:
                pass
    return out


def read_maccor_txt(path: Path, cell_id: str | None = None) -> CycleData:
    """Read a Maccor text export and reduce it to cycles (see the module notes)."""
    path = Path(path)
    raw = path.read_bytes()
    text = raw.decode("latin-1")  # Maccor writes ISO-8859-1
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.split("\t", 1)[0].strip() == "Rec#"]
    if not headers:
        raise DataError("not a Maccor text export: no header line starting 'Rec#'", source=path.name)
    # Some templates repeat the header; the data follow the last one.
    start = headers[-1]
    body = "\n".join(line for line in lines[start:] if line.strip())
    sample = "\n".join(lines[start + 1 : start + 50])
    decimal = "," if re.search(r"\t-?\d+,\d", sample) and not re.search(r"\t-?\d+\.\d+\t", sample) else "."
    frame = pd.read_csv(io.StringIO(body), sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]

    def numbers(name: str) -> np.ndarray:
        return pd.to_numeric(frame[name].str.strip().str.replace(decimal, ".", regex=False), errors="coerce").to_numpy(
            dtype=float
        )

    problems: list[str] = []
    current_column = next((c for c in ("Amps", "mAmps", "Current [A]", "Current") if c in frame.columns), None)
    voltage_column = next((c for c in ("Volts", "Voltage [V]", "Voltage") if c in frame.columns), None)
    time_column = next((c for c in ("TestTime", "Test Time", "Test Time (sec)") if c in frame.columns), None)
    for label, column in (("TestTime", time_column), ("Amps or mAmps", current_column), ("Volts", voltage_column)):
        if column is None:
            problems.append(f"missing column {label!r} (columns found: {', '.join(frame.columns)})")
    if problems:
        raise DataError(problems, source=path.name)
    assert current_column and voltage_column and time_column
    current_A = numbers(current_column) * (1e-3 if current_column == "mAmps" else 1.0)
    voltage_V = numbers(voltage_column)
    meta: dict[str, object] = {"format": "maccor-txt", "reader": "twin", "voltage_unit": "V"}
    if current_column == "mAmps" and np.nanmin(voltage_V) > 100:
        voltage_V = voltage_V * 1e-3
        meta["voltage_unit"] = "mV (milli-unit export template: 'mAmps' and 'Volts' above 100)"
    if "State" in frame.columns:
        state = frame["State"].str.strip().str.upper().to_numpy()
        current_A = np.where(state == "C", np.abs(current_A), np.where(state == "D", -np.abs(current_A), current_A))
    out = pd.DataFrame({BDF_TEST_TIME: _seconds(frame[time_column]), BDF_VOLTAGE: voltage_V, BDF_CURRENT: current_A})
    if "Cyc#" in frame.columns:
        cycles = numbers("Cyc#")
        # A template that never advances Cyc# leaves it constant: detect cycles instead.
        if np.unique(cycles[np.isfinite(cycles)]).size > 1:
            out[BDF_CYCLE_COUNT] = cycles
    return vendor_cycle_data(out, path, cell_id, meta)
