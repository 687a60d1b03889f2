"""A small columnar table of per-cycle rows, numpy only.

A fast-mode prediction run from a compiled artefact (`twin.compiled`) imports neither
PyBaMM nor pandas: importing pandas alone takes ~0.3 s, more than the whole cycling of
a 300-cycle design. Its cycles travel as a `CycleTable` (column name -> 1-D numpy
array, all of one length) from the integrator to the JSON output; `to_frame` gives
the pandas DataFrame of the public API (`Prediction.cycles`) when one is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from twin.cycle_rows import SUMMARY_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

# Columns that are not floats: the cycle number and the two flags.
INTEGER_COLUMNS = ("cycle",)
BOOLEAN_COLUMNS = ("simulated", "checkup")


def _column(name: str, values: Any) -> np.ndarray:
    """`values` as a 1-D array of the column's dtype (int, bool or float)."""
    if name in INTEGER_COLUMNS:
        dtype: type = np.int64
    elif name in BOOLEAN_COLUMNS:
        dtype = bool
    else:
        dtype = float
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional, got shape {array.shape}")
    return array


class CycleTable:
    """Per-cycle rows as columns: an ordered mapping of column name -> 1-D numpy array
    (cycle int, simulated/checkup bool, the rest float), all of the same length.

    Parameters
    ----------
    columns
        Column name -> values (one per row). Usually `twin.cycle_rows.SUMMARY_COLUMNS`
        in that order; any names are accepted (a hand-made table of a test).
    """

    def __init__(self, columns: Mapping[str, Any]) -> None:
        self._columns = {name: _column(name, values) for name, values in columns.items()}
        lengths = {len(values) for values in self._columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = SUMMARY_COLUMNS) -> CycleTable:
        """A table of `rows` (dicts holding at least `columns`), in their order."""
        return cls({name: [row[name] for row in rows] for name in columns})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CycleTable:
        """The table of a DataFrame's columns, in its order."""
        return cls({str(name): frame[name].to_numpy() for name in frame.columns})

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> np.ndarray:
        """Column `name` as a numpy array (the table's own: do not modify it)."""
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def with_column(self, name: str, values: Any) -> CycleTable:
        """A copy with column `name` replaced (or appended) by `values`."""
        return CycleTable({**self._columns, name: values})

    def take(self, index: Any) -> CycleTable:
        """The rows at `index` (a slice, integer positions or a boolean mask), in that order."""
        return CycleTable({name: values[index] for name, values in self._columns.items()})

    def head(self, count: int) -> CycleTable:
        """The first `count` rows."""
        return self.take(slice(0, count))

    def up_to_cycle(self, cycle: int) -> CycleTable:
        """The rows whose cycle is at most `cycle`."""
        return self.take(self._columns["cycle"] <= cycle)

    def row(self, i: int) -> dict[str, Any]:
        """Row `i` (negative: from the end) as column -> plain Python value."""
        return {name: values[i].item() for name, values in self._columns.items()}

    def last(self) -> dict[str, Any]:
        """The last row as column -> plain Python value."""
        return self.row(-1)

    def records(self) -> list[dict[str, Any]]:
        """Every row as column -> plain Python value (int, bool, float; NaN stays float nan)."""
        lists = {name: values.tolist() for name, values in self._columns.items()}
        return [dict(zip(lists, values)) for values in zip(*lists.values())]

    def to_frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (int64 cycle, bool flags, float64 the rest)."""
        import pandas as pd

        return pd.DataFrame({name: values.copy() for name, values in self._columns.items()})

    def __repr__(self) -> str:
        return f"CycleTable({len(self)} rows: {', '.join(self._columns)})"


def column_of(cycles: CycleTable | pd.DataFrame, name: str) -> np.ndarray:
    """Column `name` of a CycleTable or a DataFrame as a numpy array."""
    values = cycles[name]
    return values if isinstance(values, np.ndarray) else values.to_numpy()


def records_of(cycles: CycleTable | pd.DataFrame) -> list[dict[str, Any]]:
    """Every row of a CycleTable or a DataFrame as column -> plain Python value."""
    return cycles.records() if isinstance(cycles, CycleTable) else cycles.to_dict(orient="records")
