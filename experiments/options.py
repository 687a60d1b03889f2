"""Shared click options, output writers and error handling for every subcommand."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

FORMATS = ("table", "json", "csv")


def design_options(func: Callable) -> Callable:
    """--cathode, --np-ratio, --areal-capacity, --electrolyte-amount and the stack."""
    options = [
        click.option("--cathode", default="NMC811", show_default=True,
                     type=click.Choice(["NMC811", "LFP"], case_sensitive=False),
                     help="Cathode chemistry."),
        click.option("--np-ratio", type=float, default=2.0, show_default=True,
                     help="Li-metal capacity / cathode capacity; 0 = anode-free."),
        click.option("--areal-capacity", type=float, default=4.0, show_default=True,
                     help="Cathode areal capacity [mAh/cm2]."),
        click.option("--electrolyte-amount", type=float, default=3.0, show_default=True,
                     help="Electrolyte amount [g/Ah]."),
        click.option("--temperature", type=float, default=25.0, show_default=True,
                     help="Cell temperature [degC]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def protocol_options(func: Callable) -> Callable:
    """--charge-rate, --discharge-rate [C]."""
    func = click.option("--discharge-rate", type=float, default=0.5, show_default=True,
                        help="CC discharge rate [C].")(func)
    func = click.option("--charge-rate", type=float, default=0.3, show_default=True,
                        help="CC charge rate [C] (then CV to C/20).")(func)
    return func


def output_options(func: Callable) -> Callable:
    func = click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write the result to this file (atomically) instead of stdout.")(func)
    func = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                        show_default=True, help="Output format.")(func)
    return func


class InputError(click.UsageError):
    """A user mistake: one line on stderr, exit code 2, no usage dump, no traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def finite(value: float, name: str) -> float:
    """Reject NaN and infinities early, naming the option."""
    if value is not None and (math.isnan(value) or math.isinf(value)):
        raise InputError(f"{name} must be a finite number, got {value}")
    return value


def handle_errors(func: Callable) -> Callable:
    """Turn the twin's and calibration's errors into one-line messages and exit codes:
    user mistakes exit 2 (usage), domain failures exit 1; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException:
            raise
        except ValueError as err:  # DesignError, ProtocolError, OptionError, DataError
            raise InputError(str(err)) from None
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as err:  # SimulationError and anything a solver throws
            if type(err).__module__.startswith(("twin", "calibration", "pybamm")):
                raise click.ClickException(f"{type(err).__name__}: {err}") from None
            raise

    return wrapper


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(text, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    """Result to `out` (atomically) or to stdout."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(out, text)
        click.echo(f"wrote {out}", err=True)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()
