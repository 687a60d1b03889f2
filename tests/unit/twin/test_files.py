"""twin.files.write_atomic: regular files only, symlinks written through, no folders made."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from twin.files import OutputPathError, clean_stale_temporaries, write_atomic


def test_refuses_a_fifo_and_leaves_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputPathError, match=r"pipe is a FIFO \(named pipe\): refusing to write over it"):
        write_atomic(fifo, "x")
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temporary left


def test_refuses_a_character_device(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | 0o020000, os.makedev(1, 3))  # a copy of /dev/null's node, in tmp
    except PermissionError:
        pytest.skip("mknod needs root")
    with pytest.raises(OutputPathError, match="null is a character device"):
        write_atomic(device, "x")
    assert device.is_char_device()


def test_refuses_a_directory_and_a_socket(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="is a directory"):
        write_atomic(tmp_path, "x")
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock_path))
        with pytest.raises(OutputPathError, match="s.sock is a socket"):
            write_atomic(sock_path, "x")


def test_never_creates_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match=r"folder .*missing does not exist \(create it first\)"):
        write_atomic(tmp_path / "missing" / "x.json", "x")
    assert not (tmp_path / "missing").exists()


def test_a_file_as_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputPathError, match=r"cannot write .*file/x.json: folder .*file is not a folder"):
        write_atomic(tmp_path / "file" / "x.json", "x")


def test_symlink_to_a_regular_file_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_symlink_to_a_fifo_or_nowhere_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(OutputPathError, match=r"is a FIFO \(named pipe\) \(symlink .*link points to it\)"):
        write_atomic(link, "x")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputPathError, match="which does not exist: refusing to write through it"):
        write_atomic(dangling, "x")
    assert not (tmp_path / "nowhere").exists()


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".out.json.abc123.tmp"
    stale.write_text("half")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    young = tmp_path / ".out.json.def456.tmp"  # may belong to a run still writing
    young.write_text("half")
    other = tmp_path / ".other.json.abc.tmp"
    other.write_text("half")
    os.utime(other, (old, old))
    write_atomic(tmp_path / "out.json", "{}")
    assert not stale.exists() and young.exists() and other.exists()
    assert clean_stale_temporaries(tmp_path / "out.json", older_than_s=-1.0) == [young]
