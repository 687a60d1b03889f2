"""The front door: `import twin` is instant, lists its public API and resolves every name."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import twin

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]

PUBLIC_API = [
    "__version__",
    # inputs
    "CellDesign", "Protocol", "load_protocol", "load_named_protocol", "protocol_names",
    "Strategy", "get_strategy", "strategy_names", "strategy_example_files", "load_strategy_file",
    "load_named_recipe", "recipe_names",
    # jobs
    "predict", "compare", "sweep", "li_cu", "li_li", "simulate", "calibrate",
    # PyBaMM directly
    "build_model", "parameter_values",
    # data
    "CycleData", "read_cycling_data", "read_bdf_csv", "read_cycle_summary_csv",
    "read_anode_free_table", "list_anode_free_cells",
    # results
    "PredictionResult", "LabCellResult", "Comparison", "SweepTable", "CalibrationFit", "SyntheticDataset",
    # errors
    "TwinError",
]


def test_all_is_the_public_api() -> None:
    assert twin.__all__ == PUBLIC_API


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in PUBLIC_API[1:]:
        value = getattr(twin, name)
        assert value.__doc__ and value.__doc__.strip(), name
    assert set(PUBLIC_API) <= set(dir(twin))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'twin' has no attribute 'predict_life'"):
        twin.predict_life  # noqa: B018


def test_version_is_the_installed_distribution_s() -> None:
    assert twin.__version__ == importlib.metadata.version("twin")
    assert twin.__version__ == tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_import_twin_imports_neither_pybamm_nor_pandas() -> None:
    code = ("import json, sys, twin; twin.__version__; "
            "print(json.dumps(sorted(m for m in ('pybamm', 'casadi', 'pandas', 'numpy', 'matplotlib', "
            "'optuna', 'mlflow', 'click') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO / "tests")
    assert json.loads(out.stdout) == []


def test_named_protocols_and_recipes() -> None:
    assert twin.protocol_names() == ["checkup", "fast-charge", "standard"]
    assert twin.load_named_protocol("fast-charge").charge_rate_C == 1.0
    assert twin.load_named_protocol("checkup").checkup_every > 0
    with pytest.raises(ValueError, match=r"'slow' is neither a file nor a named protocol "
                                         r"\(named: checkup, fast-charge, standard\)"):
        twin.load_named_protocol("slow")
    assert {"anode-free-cu-lfp", "full-cell"} <= set(twin.recipe_names())
    assert twin.load_named_recipe("anode-free-cu-lfp").cell_type == "anode-free"
    assert twin.load_named_recipe(None, "anode-free-table").name == twin.load_named_recipe("anode-free-cu-lfp").name
    with pytest.raises(ValueError, match=r"'nope' is neither a TOML file nor a recipe name \(known: "):
        twin.load_named_recipe("nope")


def test_strategies_by_name_and_example_files() -> None:
    names = twin.strategy_names()
    assert names and all(isinstance(n, str) for n in names)
    assert twin.get_strategy(names[0]).name == names[0]
    with pytest.raises(ValueError, match="no-such-strategy"):
        twin.get_strategy("no-such-strategy")
    examples = twin.strategy_example_files()
    assert {p.name for p in examples} >= {"ceramic-coating.toml"}
    ceramic = next(p for p in examples if p.name == "ceramic-coating.toml")
    assert twin.get_strategy("ceramic-coating", [ceramic]).family == twin.load_strategy_file(ceramic).family


def test_calibration_figures_leave_the_matplotlib_backend_alone() -> None:
    code = ("import matplotlib; matplotlib.use('pdf'); import twin.calibration.figures as f, sys; "
            "fig, ax = f._figure_and_axes(); ax.plot([1, 2]); f.png_bytes(fig); "
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["pdf", "False"]
