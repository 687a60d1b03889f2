"""Installable for real: the sdist and the wheel built from it install non-editable into a
clean virtual environment, and every command and the Python API work from a folder
outside the repository that holds a user's own `calibration/` and `experiments/`
packages (which must not shadow the installed ones).

By default pip installs the wheel with every dependency into the new environment, as a
user would (2-5 minutes, from pip's cache when warm). For a quick local check,
TWIN_INSTALL_TEST_SHARED_DEPENDENCIES=1 lets the new environment see the test run's own
third-party packages through a `.pth` file and installs the wheel with `--no-deps` (`pip
check` then confirms the wheel's declared dependencies are met). Either way `twin` itself
comes only from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
TINY_RECIPE = REPO / "tests" / "fixtures" / "tiny_calibration_recipe.toml"
DEAD_LI = "Dead lithium fraction at reference current density"
SHADOW = 'raise ImportError("the user\'s own {name} package was imported instead of twin.{name}")\n'
# The tiny recipe's cell (anode-free LFP, one 1.13 cm2 layer): a few cycles solve in seconds.
TINY_CELL = ["--cathode", "LFP", "--np-ratio", "0", "--areal-capacity", "1.5", "--electrolyte-amount", "35",
             "--electrode-area", "1.13", "--layers", "1", "--charge-rate", "0.5", "--discharge-rate", "0.5",
             "--rest", "0"]

API_SCRIPT = r'''
import json, sys
import twin
from twin.experiments import cli  # the installed CLI package, not ./experiments

assert "pybamm" not in sys.modules and "pandas" not in sys.modules  # import twin is lazy
result = twin.predict(twin.CellDesign(np_ratio=1), twin.load_named_protocol("fast-charge"), max_cycles=3)
li_cu = twin.li_cu(cycles=3)
data = twin.read_cycling_data("cell.cycles.csv")
fit = twin.calibrate(data, "tiny.toml", trials=2, seed=1)
figure = fit.plot()
print(json.dumps({
    "version": twin.__version__,
    "mode": result.mode,
    "cycles": len(result.cycles),
    "charge_rate_C": result.protocol.charge_rate_C,
    "li_cu_ce": li_cu.coulombic_efficiency,
    "data_cycles": len(data.cycles),
    "trials": fit.result.trials,
    "best_params": fit.best_params,
    "forecast_columns": list(fit.forecast.columns),
    "figure_axes": len(figure.axes),
    "pyplot_imported": "matplotlib.pyplot" in sys.modules,
    "cli_module": cli.__file__,
    "recipes": twin.recipe_names(),
}))
'''


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout_s: float = 300) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _install(root: Path) -> dict[str, Path | dict[str, str]]:
    """sdist and wheel built (the wheel from the sdist), a clean venv with the wheel
    installed non-editable, and a user folder outside the repository."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update({"TWIN_CACHE_DIR": str(root / "cache"), "MPLBACKEND": "Agg", "NO_COLOR": "1"})
    # built from a copy: the build writes twin.egg-info into its source folder
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache", "*.db", "mlruns"))
    log = _run([sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(source)], root, env, 600)
    # `python -m build` makes the sdist, then the wheel from the sdist (so the sdist builds)
    assert f"Successfully built twin-{VERSION}.tar.gz and twin-{VERSION}-py3-none-any.whl" in log
    (wheel,) = (root / "dist").glob("twin-*.whl")
    (sdist,) = (root / "dist").glob("twin-*.tar.gz")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], root, env)
    python, pip = venv / "bin" / "python", [str(venv / "bin" / "python"), "-m", "pip"]
    if os.environ.get("TWIN_INSTALL_TEST_SHARED_DEPENDENCIES") != "1":
        _run([*pip, "install", "--quiet", str(wheel)], root, env, 1800)
    else:
        purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            root, env).strip())
        # the dependencies of this test run (never its `twin`: .pth files of an added
        # path are not processed, so an editable install there stays inactive)
        (purelib / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        _run([*pip, "install", "--quiet", "--no-deps", str(wheel)], root, env)
    assert "No broken requirements" in _run([*pip, "check"], root, env)
    user = root / "user"
    for name in ("calibration", "experiments"):
        (user / name).mkdir(parents=True)
        (user / name / "__init__.py").write_text(SHADOW.format(name=name))
    (user / "tiny.toml").write_text(TINY_RECIPE.read_text())
    return {"venv": venv, "user": user, "env": env, "sdist": sdist, "wheel": wheel}


def _twin(installed: dict, *args: str, timeout_s: float = 300) -> str:
    return _run([str(installed["venv"] / "bin" / "twin"), *args], installed["user"], installed["env"], timeout_s)


def _check_twin_is_installed_from_the_wheel_not_the_repository(installed: dict) -> None:
    out = _run([str(installed["venv"] / "bin" / "python"), "-c",
                "import twin, twin.calibration.api, twin.experiments.cli as c; print(twin.__file__); print(c.__file__)"],
               installed["user"], installed["env"])
    for line in out.split():
        assert Path(line).is_relative_to(installed["venv"]), line
    assert not any(Path(line).is_relative_to(REPO) for line in out.split())


def _check_version_and_help(installed: dict) -> None:
    assert _twin(installed, "--version").strip().endswith(f"version {VERSION}")
    # `python -m` puts the user's folder first on sys.path: the shadow packages are there
    out = _run([str(installed["venv"] / "bin" / "python"), "-m", "twin.experiments.cli", "--help"],
               installed["user"], installed["env"])
    for command in ("predict", "sweep", "compare", "strategies", "simulate", "calibrate"):
        assert f"\n  {command} " in out, command


def _check_predict_json_and_a_named_protocol(installed: dict) -> None:
    result = json.loads(_twin(installed, "predict", "--max-cycles", "5", "--format", "json"))
    assert result["mode"] == "fast"
    assert [c["cycle"] for c in result["cycles"]] == [1, 2, 3, 4, 5]
    assert result["inputs"]["design"]["np_ratio"] == 2.0
    assert 3.5 < result["initial_capacity_mAh_cm2"] < 4.1  # 4 mAh/cm2 design, CC-CV at 0.3 C
    fast = json.loads(_twin(installed, "predict", "--protocol", "fast-charge", "--max-cycles", "2",
                            "--format", "json"))
    assert fast["inputs"]["protocol"]["charge_rate_C"] == 1.0  # read from the packaged TOML


def _check_strategies_list(installed: dict) -> None:
    rows = json.loads(_twin(installed, "strategies", "list", "--format", "json"))
    assert len(rows) >= 5
    anchored = [r for r in rows if r["reported_ce"] is not None]
    # every anchor is reproduced by the twin's own Li||Cu test
    assert anchored and all(abs(r["simulated_ce"] - r["reported_ce"]) < 0.005 for r in anchored)
    example = str(installed["venv"] / "lib")  # the example files ship inside the package
    shipped = _run([str(installed["venv"] / "bin" / "python"), "-c",
                    "import twin; print(*twin.strategy_example_files())"], installed["user"], installed["env"])
    assert "ceramic-coating.toml" in shipped and example in shipped


def _check_simulate_then_calibrate(installed: dict) -> None:
    user = installed["user"]
    info = json.loads(_twin(installed, "simulate", *TINY_CELL, "--cycles", "10", "--out", "cell.csv",
                            "--format", "json"))
    assert info["cycles"] == 10 and info["samples"] > 100
    summary = pd.read_csv(user / "cell.cycles.csv")
    assert list(summary["cycle"]) == list(range(1, 11))
    assert (summary["discharge_capacity_mAh"].diff().dropna() < 0).all()  # an anode-free cell fades
    fit = json.loads(_twin(installed, "calibrate", "cell.cycles.csv", "--recipe", "tiny.toml", "--trials", "3",
                           "--in-memory", "--no-tracking", "--seed", "1", "--format", "json"))
    assert fit["trials"] == 3
    assert 1e-3 <= fit["best_params"][DEAD_LI] <= 0.05  # inside the recipe's bounds
    assert fit["forecast"]["eol_fraction"] == pytest.approx(0.8)
    assert not (user / "mlflow.db").exists() and not (user / "mlruns").exists()


def _check_sweep_and_compare(installed: dict) -> None:
    user = installed["user"]
    _twin(installed, "sweep", "--np-ratio", "0,2", "--max-cycles", "4", "--workers", "1", "--out", "sweep.csv")
    table = pd.read_csv(user / "sweep.csv")
    assert list(table["np_ratio"]) == [0.0, 2.0]
    assert (table["error"].fillna("") == "").all()
    compared = json.loads(_twin(installed, "compare", "--design", "np_ratio=0,label=anode-free",
                                "--design", "np_ratio=2", "--max-cycles", "4", "--workers", "1",
                                "--format", "json"))
    assert [d["label"] for d in compared["designs"]][0] == "anode-free"
    assert [d["np_ratio"] for d in compared["designs"]] == [0.0, 2.0]


def _check_python_api_script(installed: dict) -> None:
    user = installed["user"]
    (user / "use_twin.py").write_text(API_SCRIPT)
    # `python script.py` puts the user's folder first on sys.path, beside the shadow packages
    out = json.loads(_run([str(installed["venv"] / "bin" / "python"), "use_twin.py"], user, installed["env"]))
    assert out["version"] == VERSION
    assert (out["mode"], out["cycles"], out["charge_rate_C"]) == ("fast", 3, 1.0)
    assert 0.5 < out["li_cu_ce"] < 1.0
    assert out["data_cycles"] == 10 and out["trials"] == 2
    assert 1e-3 <= out["best_params"][DEAD_LI] <= 0.05
    assert out["forecast_columns"] == ["cycle", "p10", "p50", "p90"]
    assert out["figure_axes"] == 1 and out["pyplot_imported"] is False
    assert Path(out["cli_module"]).is_relative_to(installed["venv"])
    assert {"anode-free-cu-lfp", "full-cell"} <= set(out["recipes"])


def _check_the_sdist_installs_too(installed: dict) -> None:
    """Last: replaces the wheel's install by the sdist's (pip builds it in isolation)."""
    pip = [str(installed["venv"] / "bin" / "python"), "-m", "pip"]
    _run([*pip, "uninstall", "--yes", "--quiet", "twin"], installed["user"], installed["env"])
    _run([*pip, "install", "--quiet", "--no-deps", str(installed["sdist"])], installed["user"], installed["env"], 600)
    assert _twin(installed, "--version").strip().endswith(f"version {VERSION}")
    out = _run([str(installed["venv"] / "bin" / "python"), "-c",
                "import twin; print(twin.load_named_protocol('fast-charge').charge_rate_C, *twin.recipe_names())"],
               installed["user"], installed["env"])
    assert out.split() == ["1.0", "anode-free-cu-lfp", "full-cell"]


def test_installed_wheel_and_sdist_work_from_a_user_folder(tmp_path: Path) -> None:
    """One test, so that a parallel run (-n 2) builds and installs once."""
    installed = _install(tmp_path)
    _check_twin_is_installed_from_the_wheel_not_the_repository(installed)
    _check_version_and_help(installed)
    _check_predict_json_and_a_named_protocol(installed)
    _check_strategies_list(installed)
    _check_simulate_then_calibrate(installed)
    _check_sweep_and_compare(installed)
    _check_python_api_script(installed)
    _check_the_sdist_installs_too(installed)  # last: replaces the wheel's install
