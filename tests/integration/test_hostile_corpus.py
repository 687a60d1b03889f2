"""A corpus of hostile input, tried as a new user would, across every command
(hostile_cases.json): each case must exit with its code and one line naming the
problem, and leave every file as it was (nothing created, changed or deleted).
Cases run in-process (click's CliRunner) and fail at validation, before any solve.

The lifecycle cases (SIGINT, SIGTERM, kill -9 of a sweep with workers) run in a
subprocess each, with bounded time."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.experiments.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile_files import FIXTURES, KEEP, make_files  # noqa: E402

CASES = json.loads((Path(__file__).resolve().parent / "hostile_cases.json").read_text())
COMMANDS = ("predict", "sweep", "compare", "strategies", "simulate", "calibrate")
SECRET = "s3cret"  # the password in the corpus's URLs: never printed


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` -> a digest of its content ('dir' for folders)."""
    state = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        state[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def expand(text: str, folder: Path) -> str:
    return text.replace("{t}", str(folder)).replace("{fx}", str(FIXTURES))


def test_the_corpus_covers_every_command_with_150_cases() -> None:
    assert len(CASES) >= 150
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert {case["args"][0] for case in CASES} == set(COMMANDS)
    assert all(sum(c["args"][0] == command for c in CASES) >= 10 for command in COMMANDS)


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_hostile_input_is_refused_in_one_line_and_nothing_changes(case: dict, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_files(tmp_path)
    monkeypatch.chdir(tmp_path)  # default databases (mlflow.db, twin-studies.db) would land here
    before = snapshot(tmp_path)
    result = CliRunner().invoke(main, [expand(arg, tmp_path) for arg in case["args"]])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert result.exit_code == case["exit"], result.output
    assert len(errors) == 1, result.output
    assert expand(case["message"], tmp_path) in errors[0]
    assert "Traceback" not in result.output and SECRET not in result.output
    for name in case["unchanged"]:
        assert (tmp_path / name).exists(), name
    assert snapshot(tmp_path) == before  # nothing created, changed or deleted
    if "keep.json" in case["unchanged"]:
        assert (tmp_path / "keep.json").read_text() == KEEP


# ------------------------------------------------------------------ lifecycle

# enough designs (24, ~0.3-1 s each) that work is always left when the signal arrives, even
# when a loaded machine makes the test notice the first finished design late
SWEEP = ["sweep", "--np-ratio", "1,2,3,4,5,6", "--areal-capacity", "2,3,4,5", "--max-cycles", "300", "--mode", "fast"]


def start_twin(args: list[str], folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-m", "twin.experiments.cli", *args], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def journal_rows(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_an_interrupted_sweep_says_so_in_one_line_keeps_its_rows_and_exits_128_plus_signal(
        tmp_path: Path, sig: int, code: int, name: str) -> None:
    out = tmp_path / "s.csv"
    journal = tmp_path / "s.csv.partial.jsonl"
    process = start_twin([*SWEEP, "--workers", "1", "--out", str(out)], tmp_path)
    try:
        wait_for(lambda: journal_rows(journal) >= 1 or process.poll() is not None, 240, "a finished design")
        assert process.poll() is None, process.communicate()
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, stderr
    errors = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("Error")]
    assert errors == [f"Error: interrupted ({name}); finished designs are kept in s.csv.partial.jsonl: "
                      "rerun the same command to resume"]
    assert "Traceback" not in stderr and journal_rows(journal) >= 1 and not out.exists()


def test_sweep_workers_die_with_their_parent_on_kill_9(tmp_path: Path) -> None:
    process = start_twin([*SWEEP, "--workers", "2", "--out", str(tmp_path / "s.csv")], tmp_path)
    try:
        def workers() -> list[int]:
            found = subprocess.run(["pgrep", "-f", "-P", str(process.pid), "multiprocessing.spawn"],
                                   capture_output=True, text=True).stdout.split()
            return [int(pid) for pid in found]

        wait_for(lambda: len(workers()) == 2 or process.poll() is not None, 120, "two workers")
        children = workers()
        assert len(children) == 2 and process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

        def alive(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return Path(f"/proc/{pid}/status").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()

        wait_for(lambda: not any(alive(pid) for pid in children), 10, "the workers to end")
    finally:
        process.kill()
        process.communicate()


# Commands whose input is checked without PyBaMM: their refused cases never import it
# (so never build or solve a model). Test cells (twin.test_cells), `strategies show`,
# strategy resolution, sweep tables, calibrate and simulate load the twin's modules
# first; they too refuse before any solve (the whole corpus runs in seconds).
PYBAMM_FREE = ("predict", "sweep", "compare", "strategies")
PROBE = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, {here!r})
from hostile_files import FIXTURES, make_files
from click.testing import CliRunner
from twin.experiments.cli import main
cases = json.loads(Path({data!r}).read_text())
folder = Path({folder!r}); make_files(folder); os.chdir(folder)
importers = []
for case in cases:
    if case["args"][0] in {commands!r} and "pybamm" not in sys.modules:
        CliRunner().invoke(main, [a.replace("{{t}}", str(folder)).replace("{{fx}}", str(FIXTURES))
                                  for a in case["args"]])
        if "pybamm" in sys.modules:
            importers.append(case["id"])
print(json.dumps(importers))
"""


def test_refused_input_of_the_design_commands_never_imports_pybamm(tmp_path: Path) -> None:
    here = Path(__file__).resolve().parent
    refused_without_tables = [c for c in CASES if c["args"][0] in PYBAMM_FREE
                              and not any(name.endswith((".csv", ".jsonl")) for name in c["unchanged"])
                              and not any(part in c["id"] for part in ("strategy", "-li-", "show"))]
    data = tmp_path / "cases.json"
    data.write_text(json.dumps(refused_without_tables))
    folder = tmp_path / "work"
    folder.mkdir()
    code = PROBE.format(here=str(here), data=str(data), folder=str(folder), commands=PYBAMM_FREE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parents[1]), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []
    assert len(refused_without_tables) >= 80


def test_ctrl_c_during_calibrate_fails_the_trial_kills_the_run_and_exits_130(tmp_path: Path) -> None:
    import numpy as np
    import optuna
    import pandas as pd
    from mlflow.tracking import MlflowClient

    cycles = np.arange(1, 11)
    pd.DataFrame({"cycle": cycles, "discharge_capacity_mAh": 1.65 * 0.975 ** (cycles - 1)}).to_csv(
        tmp_path / "cell.csv", index=False)
    storage, uri = f"sqlite:///{tmp_path / 'studies.db'}", f"sqlite:///{tmp_path / 'mlflow.db'}"
    process = start_twin(["calibrate", "cell.csv", "--recipe", str(FIXTURES / "tiny_calibration_recipe.toml"),
                          "--trials", "500", "--storage", storage, "--study", "stopped", "--tracking-uri", uri,
                          "--seed", "0"], tmp_path)
    try:
        def trials_done() -> int:
            try:
                study = optuna.load_study(study_name="stopped", storage=storage)
            except Exception:  # noqa: BLE001 - not created yet
                return 0
            return len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))

        wait_for(lambda: trials_done() >= 2 or process.poll() is not None, 240, "two finished trials")
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    errors = [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and errors[0].startswith("Error: interrupted (SIGINT)"), stderr
    assert "Traceback" not in stderr
    study = optuna.load_study(study_name="stopped", storage=storage)
    states = [t.state for t in study.get_trials()]
    assert optuna.trial.TrialState.RUNNING not in states and states.count(optuna.trial.TrialState.COMPLETE) >= 2
    client = MlflowClient(uri)
    parents = client.search_runs([client.get_experiment_by_name("twin-calibration").experiment_id],
                                 filter_string="tags.`twin.kind` = 'calibration'")
    assert [run.info.status for run in parents] == ["KILLED"]


def test_a_locked_study_file_is_named_within_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from twin.calibration import study

    monkeypatch.setattr(study, "SQLITE_BUSY_TIMEOUT_S", 0.5)  # the real waits are 10 s / 20 s
    monkeypatch.setattr(study, "SQLITE_LOCK_WAIT_S", 1.0)
    monkeypatch.chdir(tmp_path)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        result = CliRunner().invoke(main, ["calibrate", str(FIXTURES / "anode_free_cu_lfp_subset.csv"), "--cell",
                                           "AF00", "--storage", "sqlite:///locked.db", "--no-tracking"])
        elapsed = time.monotonic() - start
    finally:
        holder.close()
    assert result.exit_code == 2, result.output
    assert ("Error: --storage: study file locked.db is locked by another process (waited "
            in result.stderr), result.stderr
    assert elapsed < 30


# A command whose Ctrl-C lands inside a library that then fails on its own way out
# (optuna's trial bookkeeping: the Interrupted raised in `value == float("-inf")` leaves
# `updated_state` unset, and its `finally` raises UnboundLocalError instead).
MASKED_INTERRUPT = """
import os, signal, time
import click
from twin.experiments.options import handle_errors

@click.command()
@handle_errors
def cli():
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    finally:
        raise UnboundLocalError("cannot access local variable 'updated_state'")

cli()
"""


def test_an_interruption_masked_by_a_librarys_own_error_still_exits_130_with_one_line() -> None:
    done = subprocess.run([sys.executable, "-c", MASKED_INTERRUPT], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(
                              [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])})
    assert done.returncode == 130, done.stderr
    assert done.stderr == "Error: interrupted (SIGINT); finished work is kept; rerun the same command to resume\n"
