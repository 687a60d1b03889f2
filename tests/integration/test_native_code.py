"""Native code for the simulations solved many times (fast mode's design-input model,
sweeps): PyBaMM's IDAKLU compiles their casadi functions through the C compiler into the
twin cache (`twin.compiled.native_code_dir`); the numbers are those of casadi's virtual
machine, only the integration is compiled (not every variable read from a solution), a
missing library is a cache miss, and TWIN_COMPILE=0 (or no compiler) keeps the virtual
machine."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import twin.compiled as compiled
from twin.compiled import NATIVE_FOLDER, artefact_key, compiling_enabled, machine_tag
from twin.design import CellDesign
from twin.protocol import Protocol
from twin.scenario import Scenario

REPO = Path(__file__).resolve().parents[2]
# A lean, long-lived design: ~700 cycles, most of them skipped, the dry-out cliff solved.
DESIGN = ["--np-ratio", "2", "--electrolyte-amount", "3", "--strategy", "iodine-carbon-host"]
needs_compiler = pytest.mark.skipif(shutil.which(compiled.C_COMPILER) is None, reason="no C compiler")


def _predict(cache: Path, out: Path, *args: str, compile_: bool = True) -> dict:
    """The JSON of `twin predict ARGS` in a fresh process with TWIN_CACHE_DIR=cache."""
    env = {**os.environ, "TWIN_CACHE_DIR": str(cache), compiled.COMPILE_ENV: "1" if compile_ else "0",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop(compiled.PYBAMM_NATIVE_CACHE_ENV, None)
    done = subprocess.run([sys.executable, "-m", "twin.experiments.cli", "predict", "--format", "json",
                           "--out", str(out), *args], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def _libraries(cache: Path) -> list[Path]:
    return sorted((cache / NATIVE_FOLDER).glob("*/*.so"))


def _capacities(prediction: dict) -> list[float]:
    return [row["discharge_capacity_mAh_cm2"] for row in prediction["cycles"]]


def test_compiling_is_off_without_a_compiler_or_when_switched_off(monkeypatch):
    monkeypatch.setenv(compiled.COMPILE_ENV, "0")
    assert not compiling_enabled()
    monkeypatch.setenv(compiled.COMPILE_ENV, "1")
    monkeypatch.setattr(compiled.shutil, "which", lambda name: None)
    assert not compiling_enabled()
    monkeypatch.setattr(compiled.shutil, "which", lambda name: "/usr/bin/" + name)
    assert compiling_enabled()


def test_an_artefact_of_native_code_is_keyed_to_the_machine_and_the_switch(monkeypatch):
    # the libraries are built for this CPU: an artefact naming them is another key
    # than one of the virtual machine's functions, and the key names the machine kind
    monkeypatch.setattr(compiled.shutil, "which", lambda name: "/usr/bin/" + name)
    scenario = Scenario.build(CellDesign(), Protocol())
    monkeypatch.setenv(compiled.COMPILE_ENV, "1")
    native = artefact_key(scenario, "spm", None)
    monkeypatch.setattr(compiled, "machine_tag", lambda: "another-cpu")
    other_machine = artefact_key(scenario, "spm", None)
    monkeypatch.setenv(compiled.COMPILE_ENV, "0")
    virtual = artefact_key(scenario, "spm", None)
    assert len({native, other_machine, virtual}) == 3
    assert len(machine_tag()) == 12 and machine_tag() == machine_tag()


@needs_compiler
def test_native_code_gives_the_virtual_machines_numbers_and_compiles_only_the_integration(tmp_path):
    vm = _predict(tmp_path / "vm", tmp_path / "vm.json", *DESIGN, compile_=False)
    assert _libraries(tmp_path / "vm") == []
    native = _predict(tmp_path / "native", tmp_path / "native.json", *DESIGN)
    libraries = _libraries(tmp_path / "native")
    # one library per distinct step model of the cycle (charge, hold, rest, discharge;
    # the rests share one): none for the variables read from the solutions
    assert 1 <= len(libraries) <= 5
    assert native["cycle_life"] == vm["cycle_life"] > 300
    assert native["end_of_life_reason"] == vm["end_of_life_reason"] == "electrolyte_dry_out"
    first = vm["cycles"][0]["discharge_capacity_mAh_cm2"]
    worst = max(abs(a - b) for a, b in zip(_capacities(native), _capacities(vm)))
    assert worst < 1e-5 * first  # rounding of compiled C vs the virtual machine, not a method change


@needs_compiler
def test_an_artefact_whose_libraries_are_gone_is_a_miss_and_is_rebuilt(tmp_path):
    cache = tmp_path / "cache"
    first = _predict(cache, tmp_path / "first.json", "--max-cycles", "40")
    assert _libraries(cache)
    shutil.rmtree(cache / NATIVE_FOLDER)  # e.g. a cleaned cache folder; the artefact stays
    second = _predict(cache, tmp_path / "second.json", "--max-cycles", "40")
    assert _libraries(cache)  # compiled again by PyBaMM's way
    assert second["cycle_life"] == first["cycle_life"]
    assert _capacities(second) == pytest.approx(_capacities(first), rel=1e-12, abs=0)
