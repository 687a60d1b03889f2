"""Synthetic cycling datasets from the twin: for demos, tests and identifiability checks.

The twin cycles a design with a protocol and chosen parameters; the result is what a
cycler would log: a Battery Data Format time series (time, voltage, current with
positive = charging, cycle count) and the per-cycle summary derived from it by the
same code that reads lab files (``calibration.data.per_cycle_capacities``), so a
synthetic dataset goes through exactly the path real data take.

Measurement noise (``noise``, relative): each charge and each discharge step gets
its own current-gain error drawn from N(0, noise), so each half-cycle's capacity is
off by about `noise` (a cycler's capacity accuracy; 0.5 % is a typical coin-cell
channel) and the CE carries both errors; the voltage gets white noise of
``noise`` x 1 V (5 mV at 0.5 %). Seeded: the same seed gives the same noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.calibration.data import per_cycle_capacities, write_bdf_csv, write_cycle_summary_csv
from twin.design import CellDesign
from twin.errors import TwinInputError
from twin.invariants import check_cycles
from twin.protocol import Protocol
from twin.simulation import CellSimulator

VOLTAGE_NOISE_V_PER_UNIT = 1.0
MAX_NOISE = 0.2


class SyntheticDataError(TwinInputError):
    """Bad settings for a synthetic dataset."""


@dataclass
class SyntheticDataset:
    """Time series (BDF columns) and per-cycle summary (canonical columns)."""

    time_series: pd.DataFrame
    cycles: pd.DataFrame
    twin_summary: pd.DataFrame
    design: CellDesign
    protocol: Protocol
    parameters: dict[str, float]
    noise: float
    seed: int | None
    message: str = ""

    def write(self, time_series_path: str | Path, summary_path: str | Path) -> tuple[Path, Path]:
        """Write the BDF CSV and the summary CSV, each atomically."""
        ts = self.time_series
        first = write_bdf_csv(time_series_path, ts["Test Time / s"], ts["Voltage / V"], ts["Current / A"],
                              ts["Cycle Count / 1"], ts["Step Count / 1"])
        # without the normalized column the reader normalizes to the first cycle itself
        second = write_cycle_summary_csv(summary_path, self.cycles.drop(columns=["normalized_capacity"]))
        return first, second

    def plot(self) -> Any:
        """A matplotlib Figure: voltage [V] versus time [h], and the normalized discharge
        capacity and Coulombic efficiency per cycle."""
        from twin.calibration.figures import dataset_figure

        return dataset_figure(self.time_series, self.cycles, f"{self.design.cathode}, "
                              f"{self.design.areal_capacity_mAh_cm2:g} mAh/cm2, N:P {self.design.np_ratio:g}, "
                              f"noise {self.noise:g}")


def _steps(current_A: np.ndarray, cycle: np.ndarray) -> np.ndarray:
    """Step counter: a new step at every change of the current's sign or of cycle."""
    sign = np.sign(np.round(current_A, 12))
    change = np.ones(len(sign), dtype=bool)
    change[1:] = (sign[1:] != sign[:-1]) | (cycle[1:] != cycle[:-1])
    return np.cumsum(change)


def simulate_dataset(
    design: CellDesign,
    protocol: Protocol,
    cycles: int,
    parameters: Mapping[str, float] | None = None,
    noise: float = 0.0,
    seed: int | None = None,
    cell_model: str = "spm",
    options: Mapping[str, str] | None = None,
) -> SyntheticDataset:
    """Cycle the twin `cycles` times (fewer if the cell dies) and add measurement noise."""
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        raise SyntheticDataError(f"cycles must be a whole number >= 1, got {cycles!r}")
    if not 0 <= noise <= MAX_NOISE:
        raise SyntheticDataError(f"noise must lie between 0 and {MAX_NOISE} (relative), got {noise}")
    parameters = {k: float(v) for k, v in (parameters or {}).items()}
    simulator = CellSimulator(design, protocol, cell_model, options, parameters)
    run = simulator.run(cycles, keep_time_series=True)
    check_cycles(run.summary)  # never a dataset of unphysical cycles
    series = run.time_series
    if series is None or series.empty:
        raise SyntheticDataError("the twin produced no time series: " + run.message)
    # one cycle's time series shares its boundary sample with the next: drop repeats
    series = series.drop_duplicates(subset=["time_s"], keep="first").reset_index(drop=True)
    time_s = series["time_s"].to_numpy(dtype=float)
    time_s = time_s - time_s[0]
    # PyBaMM's current is positive on discharge; BDF's is positive on charge
    current_A = -series["current_A"].to_numpy(dtype=float)
    voltage_V = series["voltage_V"].to_numpy(dtype=float)
    cycle = series["cycle"].to_numpy(dtype=np.int64)
    step = _steps(current_A, cycle)
    rng = np.random.default_rng(seed)
    if noise > 0:
        gains = 1.0 + rng.normal(0.0, noise, size=int(step.max()) + 1)
        current_A = current_A * gains[step]
        voltage_V = voltage_V + rng.normal(0.0, noise * VOLTAGE_NOISE_V_PER_UNIT, size=len(voltage_V))
    time_series = pd.DataFrame({
        "Test Time / s": time_s, "Voltage / V": voltage_V, "Current / A": current_A,
        "Cycle Count / 1": cycle, "Step Count / 1": step,
    })
    table = per_cycle_capacities(time_s, current_A, cycle=cycle)
    return SyntheticDataset(time_series, table, run.summary, design, protocol, parameters, noise, seed,
                            run.message)


def describe(dataset: SyntheticDataset) -> dict[str, Any]:
    """A short JSON-able description of what was simulated."""
    cycles = dataset.cycles
    return {
        "cycles": int(len(cycles)),
        "first_discharge_capacity_mAh": float(cycles["discharge_capacity_mAh"].iloc[0]),
        "last_normalized_capacity": float(cycles["normalized_capacity"].iloc[-1]),
        "samples": int(len(dataset.time_series)),
        "noise": dataset.noise,
        "seed": dataset.seed,
        "design": dataset.design.to_dict(),
        "protocol": dataset.protocol.to_dict(),
        "parameters": dict(dataset.parameters),
        "note": dataset.message,
    }
