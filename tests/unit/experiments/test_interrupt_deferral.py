"""A signal inside a deferring block waits for the block's end (or a nested live block):
optuna's trial bookkeeping is never cut in half by Ctrl-C."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# Run in a child: the handler records the signal for the whole process (and starts the
# clean-up watchdog), which must not leak into the test session.
PROBE = r"""
import json, os, signal, sys
from twin.errors import InterruptedRun, interrupts_deferred
from twin.experiments.lifecycle import signals_as_interrupts

seen = []
with signals_as_interrupts():
    try:
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            seen.append("after the signal, still deferred")
            if sys.argv[1] == "live block":
                try:
                    with interrupts_deferred(False):
                        seen.append("never: a live block raises a signal noted before it")
                except InterruptedRun:
                    seen.append("live block raised")
                    raise
            seen.append("block ends")
    except InterruptedRun as err:
        seen.append(f"raised {signal.Signals(err.signum).name}")
print(json.dumps(seen))
"""


def run_child(code: str, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return run


def probe(then: str) -> list[str]:
    """What the probe saw, with `then` ("live block" or "block ends") after the signal."""
    return json.loads(run_child(PROBE, then).stdout.strip().splitlines()[-1])


def test_a_deferred_signal_is_raised_by_the_next_live_block_not_where_it_landed() -> None:
    assert probe("live block") == ["after the signal, still deferred", "live block raised", "raised SIGINT"]


def test_a_deferred_signal_is_raised_when_the_block_ends() -> None:
    assert probe("block ends") == ["after the signal, still deferred", "block ends", "raised SIGINT"]


WEAKREF_PROBE = r"""
import os, signal, weakref
from twin.errors import InterruptedRun, raise_if_interrupted
from twin.experiments.lifecycle import signals_as_interrupts

class Held:
    pass

def callback(_ref):
    os.kill(os.getpid(), signal.SIGINT)  # the handler raises inside the callback
    sum(range(10000))

with signals_as_interrupts():
    held = Held()
    ref = weakref.ref(held, callback)
    del held
    print("the callback swallowed it")
    try:
        raise_if_interrupted()
    except InterruptedRun:
        print("the next check raised it")
"""


def test_a_signal_inside_a_weakref_callback_prints_no_traceback_and_is_raised_at_the_next_check() -> None:
    run = run_child(WEAKREF_PROBE)
    assert run.stdout.split("\n")[:2] == ["the callback swallowed it", "the next check raised it"]
    assert "Exception ignored" not in run.stderr and "Traceback" not in run.stderr, run.stderr
