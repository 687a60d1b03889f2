"""BioLogic ``.mpr`` files, read through galvani (``pip install 'twin[vendors]'``).

Library choice (for every vendor module here): galvani (echemdata, GPL-3.0+) parses
BioLogic ``.mpr`` and Arbin ``.res`` and needs only numpy, so it sits beside PyBaMM's
numpy 2 / pandas 3. navani 0.1.22 wraps galvani and NewareNDA but pins numpy<2 and
pandas<3 (installing it downgraded numpy under PyBaMM), so it is not used; cellpy 1.0.3
pins pandas<3 and pulls in IPython, paramiko and PyTables, and reads Maccor text only
through a per-lab configuration; batterydf 0.1.0 reads Neware and BioLogic ``.mpt`` but
neither ``.mpr``, ``.res`` nor Maccor, and rewrites ``warnings.formatwarning`` on import.
So the twin uses the two small parsers those tools share (galvani, NewareNDA) and keeps
its own validation, cycle reduction and aggregated messages.
"""

from __future__ import annotations

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
    noise_rest_current_A,
    quiet_call,
    vendor_cycle_data,
    vendor_module,
)


def read_biologic_mpr(path: Path, cell_id: str | None = None) -> CycleData:
    """Read a BioLogic ``.mpr`` (EC-Lab) file and reduce it to cycles.

    Uses ``time/s``, ``Ewe/V`` (or ``Ecell/V``), ``I/mA`` (positive charges, as BDF)
    and ``cycle number`` when the technique records it. Without a cycle number, a
    cycle starts where charging follows discharging, with currents below 1 % of the
    99th-percentile |I| taken as rest (a potentiostat's rest current is noise, and
    splitting on its sign made dozens of spurious cycles).
    """
    path = Path(path)
    biologic = vendor_module("galvani.BioLogic", "galvani", path.name, "BioLogic .mpr")
    try:
        with path.open("rb") as stream:  # galvani leaves a file it opened itself unclosed
            data = quiet_call(biologic.MPRfile, stream).data
    except Exception as exc:  # galvani raises many kinds on files it cannot parse
        raise DataError(f"galvani could not read the file: {exc}", source=path.name) from exc
    columns = list(data.dtype.names or ())

    def first(*candidates: str) -> str | None:
        return next((c for c in candidates if c in columns), None)

    time, voltage = first("time/s"), first("Ewe/V", "Ecell/V", "<Ewe>/V", "<Ewe/V>")
    current, cycle = first("I/mA", "<I>/mA", "control/mA"), first("cycle number")
    missing = [
        what for what, column in (("time/s", time), ("Ewe/V or Ecell/V", voltage), ("I/mA", current)) if column is None
    ]
    if missing:
        raise DataError(
            [f"missing column {m!r}" for m in missing] + [f"columns found: {', '.join(columns)}"], source=path.name
        )
    current_A = np.asarray(data[current], dtype=float) * 1e-3
    frame = pd.DataFrame(
        {
            BDF_TEST_TIME: np.asarray(data[time], dtype=float),
            BDF_VOLTAGE: np.asarray(data[voltage], dtype=float),
            BDF_CURRENT: current_A,
        }
    )
    if cycle is not None:
        frame[BDF_CYCLE_COUNT] = np.asarray(data[cycle], dtype=float)
    return vendor_cycle_data(frame, path, cell_id, {"format": "biologic-mpr", "reader": "galvani"},
                             rest_current_A=noise_rest_current_A(current_A))
