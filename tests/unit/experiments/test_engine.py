"""Choosing where sweeps run: the scheduler option, the Dask variable, bad addresses."""

import time

import pytest

from twin.experiments.engine import (
    SCHEDULER_ENV, EngineError, SchedulerAddressError, connect, map_unordered, scheduler_address,
)

pytestmark = pytest.mark.unit


def test_option_wins_over_the_dask_variable():
    env = {SCHEDULER_ENV: "tcp://10.0.0.2:8786"}
    assert scheduler_address("tcp://10.0.0.1:8786", env) == "tcp://10.0.0.1:8786"
    assert scheduler_address(None, env) == "tcp://10.0.0.2:8786"
    assert scheduler_address(None, {}) is None
    assert scheduler_address(None, {SCHEDULER_ENV: "  "}) is None  # set but empty: this machine
    assert scheduler_address("scheduler.lab:8786", {}) == "scheduler.lab:8786"


@pytest.mark.parametrize("address, problem", [
    ("localhost", "not a scheduler address"),
    ("tcp://host:port", "not a scheduler address"),
    ("tcp://host:70000", "not a scheduler address"),
    ("http://host:8786", "unknown scheme 'http'"),
])
def test_bad_addresses_are_named(address, problem):
    with pytest.raises(SchedulerAddressError) as err:
        scheduler_address(address, {})
    assert str(err.value).startswith(f"--scheduler {address!r}: {problem}")


def test_unreachable_scheduler_is_one_runtime_error(monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setattr("twin.experiments.engine.CONNECT_TIMEOUT_S", 1.0)
    start = time.monotonic()
    with pytest.raises(EngineError, match=f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}"):
        connect(f"tcp://127.0.0.1:{port}")
    assert time.monotonic() - start < 15


def _square(item, offset):
    return item * item + offset


def test_local_map_returns_every_item_once():
    results = dict(map_unordered(_square, [1, 2, 3], 10, workers=1))
    assert results == {0: 11, 1: 14, 2: 19}


def test_many_cells_need_an_output_folder(tmp_path):
    from click.testing import CliRunner

    from twin.experiments.cli import main

    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("cycle,discharge_capacity_mAh\n1,1.0\n2,0.9\n")
    args = ["calibrate", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--no-tracking"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip() == "Error: several cells to fit: give --out-dir DIR for one result file per cell"
    result = CliRunner().invoke(main, [*args, "--out-dir", str(tmp_path / "fits"), "--cell", "all"])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: --cell all: a.csv is a single-cell file without cell ids; "
                                     "leave --cell out")
    assert not (tmp_path / "fits").exists()
