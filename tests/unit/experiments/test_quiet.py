"""Solver and library chatter stays off stderr unless --verbose."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import logging, os, sys, warnings
    from twin.experiments.quiet import configure_output
    undo = configure_output({verbose})
    os.write(2, b"[IDAS ERROR]  IDASolve IDA_BAD_K\\n")   # what SUNDIALS prints from C
    warnings.warn("pybamm: a solver warning")
    logging.getLogger("twin.readers").debug("Reading Channel_Normal_Table...")
    print("error line for the user", file=sys.stderr)
    undo()
    os.write(2, b"after the command\\n")
""")


def run(verbose: bool) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(verbose=verbose)], capture_output=True, text=True,
                          check=True)
    return done.stderr


def test_chatter_is_hidden_and_our_lines_kept() -> None:
    assert run(False).splitlines() == ["error line for the user", "after the command"]


def test_verbose_shows_everything() -> None:
    stderr = run(True)
    for line in ("IDA_BAD_K", "a solver warning", "twin.readers: Reading Channel_Normal_Table",
                 "error line for the user", "after the command"):
        assert line in stderr
