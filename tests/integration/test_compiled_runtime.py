"""Compiled fast mode (twin.compiled): a fresh process with a compiled artefact predicts
without importing PyBaMM, for the design it was compiled from and for designs it never
saw, with the numbers PyBaMM's way gives; a code change or a damaged artefact falls
back to PyBaMM's way and rewrites the artefact."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from twin.compiled import ARTEFACT_FOLDER, artefact_key, load_artefact
from twin.cycle_skipping import ACTIVE, CATHODE
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.scenario import Scenario

# Runs the CLI in a fresh interpreter, then says which heavy packages it imported.
RUNNER = """
import json, sys
from twin.experiments.cli import main
main(sys.argv[1:], standalone_mode=False)
print(json.dumps({name: name in sys.modules for name in ("pybamm", "scipy", "sympy", "pandas")}))
"""
REPO = Path(__file__).resolve().parents[2]


def _predict(cache: Path, out: Path, *args: str) -> tuple[dict, dict, str]:
    """(prediction JSON, {package: imported}, stderr) of `twin predict ARGS` in a fresh
    process with TWIN_CACHE_DIR=cache."""
    env = {**os.environ, "TWIN_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", RUNNER, "predict", "--format", "json", "--out", str(out), *args],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    return json.loads(out.read_text()), modules, done.stderr


def _close(got, expected) -> bool:
    if isinstance(expected, float) and not isinstance(expected, bool):
        return got == pytest.approx(expected, rel=1e-12, abs=0, nan_ok=True)
    return got == expected


def _same_prediction(compiled: dict, reference: dict) -> None:
    """Same cycle life, reason and solves; every reported cycle's numbers to 1e-12."""
    for field in ("cycle_life", "end_of_life_reason", "simulated_cycles", "dendrite_risk", "cell"):
        if isinstance(reference[field], dict):
            for name, value in reference[field].items():
                assert _close(compiled[field][name], value), (field, name)
        else:
            assert compiled[field] == reference[field], field
    assert len(compiled["cycles"]) == len(reference["cycles"])
    for got, expected in zip(compiled["cycles"], reference["cycles"]):
        for column, value in expected.items():
            assert _close(got[column], value), (expected["cycle"], column)


@pytest.fixture(scope="module")
def anchors(tmp_path_factory) -> Path:
    """A cache folder whose anchors.json the cases share (each preset anchored once)."""
    return tmp_path_factory.mktemp("anchors")


def _fresh_cache(tmp_path: Path, name: str, anchors: Path) -> Path:
    cache = tmp_path / name
    cache.mkdir()
    if (anchors / "anchors.json").exists():
        shutil.copy(anchors / "anchors.json", cache / "anchors.json")
    return cache


def _keep_anchors(cache: Path, anchors: Path) -> None:
    if (cache / "anchors.json").exists():
        shutil.copy(cache / "anchors.json", anchors / "anchors.json")


CASES = {
    "anode-free NMC811": ["--cell", "anode-free", "--max-cycles", "40"],
    "LFP N:P 1": ["--cathode", "LFP", "--np-ratio", "1", "--max-cycles", "40"],
    "NMC811 iodine-carbon-host": ["--strategy", "iodine-carbon-host", "--np-ratio", "0.5", "--max-cycles", "40"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_compiled_run_equals_pybamm_run_without_importing_pybamm(case, tmp_path, anchors):
    cache = _fresh_cache(tmp_path, "cache", anchors)
    args = CASES[case]
    reference, cold, _ = _predict(cache, tmp_path / "cold.json", *args)
    _keep_anchors(cache, anchors)
    assert cold["pybamm"]  # nothing compiled yet: PyBaMM's way, which compiles the cycle
    assert len(list((cache / ARTEFACT_FOLDER).glob("*.pkl"))) == 1
    compiled, warm, _ = _predict(cache, tmp_path / "warm.json", *args)
    assert not any(warm.values()), warm  # neither PyBaMM nor scipy/sympy nor pandas
    _same_prediction(compiled, reference)


def test_never_seen_design_runs_compiled_and_equals_pybamm(tmp_path, anchors):
    """One artefact serves other areal capacities, N:P and electrolyte amounts of the
    cathode and protocol: their first run is PyBaMM-free and gives PyBaMM's numbers."""
    compiled_cache = _fresh_cache(tmp_path, "compiled", anchors)
    _, cold, _ = _predict(compiled_cache, tmp_path / "seed.json", "--max-cycles", "30")
    assert cold["pybamm"]
    other = ["--areal-capacity", "3", "--np-ratio", "1", "--electrolyte-amount", "5", "--max-cycles", "30"]
    compiled, warm, _ = _predict(compiled_cache, tmp_path / "other.json", *other)
    assert not warm["pybamm"]
    assert len(list((compiled_cache / ARTEFACT_FOLDER).glob("*.pkl"))) == 1  # the same artefact served it
    reference, cold_other, _ = _predict(_fresh_cache(tmp_path, "reference", anchors), tmp_path / "ref.json", *other)
    assert cold_other["pybamm"]
    _same_prediction(compiled, reference)
    # a baked design field (the electrode area) is another artefact: PyBaMM's way
    _, area, _ = _predict(compiled_cache, tmp_path / "area.json", "--electrode-area", "30", "--max-cycles", "30")
    assert area["pybamm"]
    assert len(list((compiled_cache / ARTEFACT_FOLDER).glob("*.pkl"))) == 2


def test_damaged_artefact_falls_back_cleanly_and_is_rewritten(tmp_path, anchors):
    cache = _fresh_cache(tmp_path, "cache", anchors)
    reference, _, _ = _predict(cache, tmp_path / "cold.json", "--max-cycles", "20")
    (artefact,) = (cache / ARTEFACT_FOLDER).glob("*.pkl")
    whole = artefact.read_bytes()
    artefact.write_bytes(whole[: len(whole) // 2])  # torn
    again, modules, stderr = _predict(cache, tmp_path / "torn.json", "--max-cycles", "20")
    assert modules["pybamm"] and "Traceback" not in stderr
    _same_prediction(again, reference)
    assert artefact.read_bytes() != whole[: len(whole) // 2]  # rewritten whole
    _, modules, _ = _predict(cache, tmp_path / "warm.json", "--max-cycles", "20")
    assert not modules["pybamm"]


def test_code_version_key_and_lean_fallback_inside_a_compiled_run(tmp_path, anchors, monkeypatch):
    cache = _fresh_cache(tmp_path, "cache", anchors)
    _predict(cache, tmp_path / "cold.json", "--np-ratio", "1", "--max-cycles", "5")
    monkeypatch.setenv("TWIN_CACHE_DIR", str(cache))
    scenario = Scenario.build(CellDesign(np_ratio=1.0), Protocol())
    key = artefact_key(scenario, "spm", None)
    assert load_artefact(key) is not None
    # another source fingerprint (a code change) is another key: a miss
    import twin.anchoring

    monkeypatch.setattr(twin.anchoring, "_source_fingerprint", lambda: "another version of the code")
    other = artefact_key(scenario, "spm", None)
    assert other != key and load_artefact(other) is None
    # explicit overrides (a calibration's fitted parameters) are never compiled
    fitted = Scenario.build(CellDesign(np_ratio=1.0), Protocol(), overrides={"Dead lithium fraction at reference current density": 0.1})
    assert artefact_key(fitted, "spm", None) is None
    monkeypatch.undo()
    monkeypatch.setenv("TWIN_CACHE_DIR", str(cache))
    from twin.compiled import compiled_run
    from twin.simulation import _simulator_for

    def pybamm_cycler():
        return _simulator_for(scenario, "fast", "spm", None, None, design_inputs=True)

    run = compiled_run(scenario, load_artefact(key), pybamm_cycler)
    cycler = run.cycler
    reference = pybamm_cycler()
    np.testing.assert_array_equal(cycler.initial_state, reference.initial_state)
    first = cycler.cycle(cycler.initial_state)
    np.testing.assert_array_equal(first.end_state, reference.cycle(reference.initial_state).end_state)
    # a dead cell: the charge's cut-off is crossed at its start; PyBaMM skips the step
    # (its cycler solves this cycle through Simulation.solve), the compiled run skips
    # it the same way without PyBaMM
    dead = cycler.initial_state.copy()
    dead[ACTIVE] = 0.0
    dead[CATHODE] = 1e-9 * cycler.cathode_full_mol_m2
    skipped = cycler.cycle(dead)
    assert cycler.fallback_cycles == 0
    assert skipped.row["charge_capacity_mAh_cm2"] == 0.0
    np.testing.assert_array_equal(skipped.end_state, reference.cycle(dead).end_state)
    # a check-up cycle this artefact has not compiled goes through PyBaMM, as the
    # PyBaMM cycler runs it
    checkup = cycler.cycle(first.end_state, checkup=True)
    assert cycler.fallback_cycles == 1
    np.testing.assert_array_equal(checkup.end_state, reference.cycle(first.end_state, checkup=True).end_state)


def test_concurrent_first_runs_leave_one_whole_artefact(tmp_path, anchors):
    """Two processes (sweep workers) compiling the same cycle at once: both finish, the
    artefact is whole (atomic rename), and the next process runs from it."""
    cache = _fresh_cache(tmp_path, "cache", anchors)
    env = {**os.environ, "TWIN_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    runs = [subprocess.Popen([sys.executable, "-c", RUNNER, "predict", "--format", "json", "--max-cycles", "10",
                              "--out", str(tmp_path / f"run{i}.json")], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in range(2)]
    for run in runs:
        _, stderr = run.communicate(timeout=600)
        assert run.returncode == 0, stderr
    assert len(list((cache / ARTEFACT_FOLDER).glob("*.pkl"))) == 1
    assert not list((cache / ARTEFACT_FOLDER).glob(".*.tmp"))
    compiled, modules, _ = _predict(cache, tmp_path / "warm.json", "--max-cycles", "10")
    assert not modules["pybamm"]
    _same_prediction(compiled, json.loads((tmp_path / "run0.json").read_text()))
