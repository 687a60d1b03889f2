"""twin: a digital twin of lithium-metal cells on PyBaMM. How long will a cell live, and why?

The front door of the package. Everything below is importable from `twin` directly and
loads lazily: `import twin` is instant and imports neither PyBaMM nor pandas until a
name is used.

    import twin

    design = twin.CellDesign(np_ratio=2, areal_capacity_mAh_cm2=4, electrolyte_g_per_Ah=3)
    result = twin.predict(design, twin.load_named_protocol("fast-charge"), max_cycles=300)
    result.cycle_life, result.end_of_life_reason   # cycles to 80 % of the first discharge, and why
    result.cycles                                  # pandas DataFrame, one row per cycle
    result.plot()                                  # matplotlib Figure

Jobs: `predict` (one design; fast mode, as the CLI), `compare`, `sweep`, `li_cu` /
`li_li` (lab test cells), `simulate` (a synthetic dataset), `calibrate` (fit lab data).
Inputs: `CellDesign`, `Protocol`, named protocols, strategies and recipes. Data:
`read_cycling_data` and the format readers. Results: `PredictionResult`,
`LabCellResult`, `Comparison`, `SweepTable`, `CalibrationFit`, `SyntheticDataset`.
PyBaMM directly: `build_model`, `parameter_values` (the sets are also registered as
`pybamm.ParameterValues("LithiumMetal_NMC811_Twin2026")` and `..._LFP_Twin2026`).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> "module:attribute", imported on first use
_API: dict[str, str] = {
    # inputs
    "CellDesign": "twin.design:CellDesign",
    "Protocol": "twin.protocol:Protocol",
    "load_protocol": "twin.protocol_files:load_protocol",
    "load_named_protocol": "twin.protocol_files:load_named_protocol",
    "protocol_names": "twin.protocol_files:protocol_names",
    "Strategy": "twin.strategies:Strategy",
    "get_strategy": "twin.api:get_strategy",
    "strategy_names": "twin.api:strategy_names",
    "strategy_example_files": "twin.api:strategy_example_files",
    "load_strategy_file": "twin.strategies:load_strategy_file",
    "load_named_recipe": "twin.calibration.recipes:load_named_recipe",
    "recipe_names": "twin.calibration.recipes:recipe_names",
    # jobs
    "predict": "twin.api:predict",
    "compare": "twin.experiments.api:compare",
    "sweep": "twin.experiments.api:sweep",
    "li_cu": "twin.api:li_cu",
    "li_li": "twin.api:li_li",
    "simulate": "twin.calibration.api:simulate",
    "calibrate": "twin.calibration.api:calibrate",
    # PyBaMM directly
    "build_model": "twin.model:build_model",
    "parameter_values": "twin.api:parameter_values",
    # data
    "CycleData": "twin.calibration.data:CycleData",
    "read_cycling_data": "twin.calibration.data:read_cycling_data",
    "read_bdf_csv": "twin.calibration.data:read_bdf_csv",
    "read_cycle_summary_csv": "twin.calibration.data:read_cycle_summary_csv",
    "read_anode_free_table": "twin.calibration.data:read_anode_free_table",
    "list_anode_free_cells": "twin.calibration.data:list_anode_free_cells",
    # results
    "PredictionResult": "twin.results:PredictionResult",
    "LabCellResult": "twin.results:LabCellResult",
    "Comparison": "twin.results:Comparison",
    "SweepTable": "twin.results:SweepTable",
    "CalibrationFit": "twin.calibration.api:CalibrationFit",
    "SyntheticDataset": "twin.calibration.synthetic:SyntheticDataset",
    # errors
    "TwinError": "twin.errors:TwinError",
}

__all__ = ["__version__", *_API]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("twin")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on first use: importlib.metadata costs every command ~20 ms
        globals()[name] = _version()
        return globals()[name]
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'twin' has no attribute {name!r}")
    module_name, attribute = target.split(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API) | {"__version__"})
