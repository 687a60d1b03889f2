"""Every command that writes refuses a FIFO, a device, a missing folder up front (exit 2),
and writes through a symlink to a regular file (twin.files rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin.experiments.cli import main

# (command arguments before the output option, the output option)
WRITERS = [
    (["predict"], "--out"),
    (["predict"], "--plot"),
    (["compare", "--design", "np_ratio=1", "--design", "np_ratio=2"], "--out"),
    (["compare", "--design", "np_ratio=1", "--design", "np_ratio=2"], "--plot"),
    (["sweep", "--np-ratio", "1,2"], "--out"),
    (["sweep", "--np-ratio", "1,2", "--out", "{tmp}/s.csv"], "--plot"),
    (["simulate"], "--out"),
    (["simulate", "--out", "{tmp}/sim.csv"], "--summary-out"),
    (["calibrate", "{tmp}/data.csv"], "--out"),
    (["strategies", "show", "ceramic-coating"], "--out"),
    (["compare", "--design", "np_ratio=1", "--design", "np_ratio=2"], "--curves"),
    (["sweep", "--np-ratio", "1,2", "--out", "{tmp}/s.csv"], "--curves"),
]


def test_simulate_checks_the_derived_summary_path_up_front(tmp_path: Path) -> None:
    fifo = tmp_path / "cell.cycles.csv"  # where `--out cell.csv` puts the per-cycle summary
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, ["simulate", "--out", str(tmp_path / "cell.csv")])
    assert result.exit_code == 2, result.output
    assert "--summary-out:" in result.stderr and "is a FIFO (named pipe)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cell.cycles.csv"]


def run(tmp_path: Path, args: list[str], option: str, target: Path) -> tuple[int, str]:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    suffix = {"--plot": ".png", "--curves": ".csv"}.get(option, "")
    if suffix and not target.parent.exists():
        target = target.with_suffix(suffix)
    elif suffix:
        link = tmp_path / f"target{suffix}"
        if not link.exists() and not link.is_symlink():
            link.symlink_to(target)
        target = link
    result = CliRunner().invoke(main, [*args, option, str(target)])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("args", "option"), WRITERS)
def test_fifo_is_refused_before_any_work(tmp_path: Path, args: list[str], option: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, stderr = run(tmp_path, args, option, fifo)
    assert code == 2, stderr
    assert "is a FIFO (named pipe)" in stderr and "refusing to write over it" in stderr
    assert fifo.is_fifo()


@pytest.mark.parametrize(("args", "option"), WRITERS)
def test_missing_folder_is_refused_not_created(tmp_path: Path, args: list[str], option: str) -> None:
    code, stderr = run(tmp_path, args, option, tmp_path / "missing" / "x.out")
    assert code == 2, stderr
    assert "does not exist (create it first)" in stderr
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(("args", "option"), WRITERS)
def test_device_is_refused(tmp_path: Path, args: list[str], option: str) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    code, stderr = run(tmp_path, args, option, device)
    assert code == 2, stderr
    assert "is a character device" in stderr
    assert device.is_char_device()
