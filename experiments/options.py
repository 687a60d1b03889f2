"""Shared click options, output writers and error handling for every subcommand."""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from twin.experiments.lifecycle import interrupted_exit, masked_interrupt, signals_as_interrupts, signals_received
from twin.files import OutputPathError, resolve_output_path, write_atomic

FORMATS = ("table", "json", "csv")


def field_option(cls: type, name: str, overrides: str | None = None) -> Callable[[Callable], Callable]:
    """The CLI option of field `name` of `twin.design.CellDesign` or `twin.protocol.Protocol`,
    generated from the field's `FieldSpec` (flag, type, default, unit, help). With
    `overrides` (e.g. "the recipe"), the option has no default: given, it replaces that
    source's value."""
    from twin.field_specs import field_defaults, field_specs

    spec = field_specs(cls)[name]
    if spec.flag is None:
        raise ValueError(f"{cls.__name__}.{name} has no CLI flag")
    if spec.check == "choice":
        kind: Any = click.Choice(list(spec.choices), case_sensitive=False)
    elif spec.check == "count":
        kind = click.IntRange(spec.minimum, spec.maximum)
    else:
        kind = float
    if overrides is not None:
        return click.option(spec.flag, type=kind, default=None, help=f"{spec.help_text()[:-1]} (overrides {overrides}).")
    return click.option(spec.flag, type=kind, default=field_defaults(cls)[name], show_default=True,
                        help=spec.help_text())


def _apply(func: Callable, cls: type, names: tuple[str, ...]) -> Callable:
    for name in reversed(names):
        func = field_option(cls, name)(func)
    return func


def design_options(func: Callable) -> Callable:
    """--cathode, --np-ratio, --areal-capacity, --electrolyte-amount, --temperature."""
    from twin.design import CellDesign

    return _apply(func, CellDesign, ("cathode", "np_ratio", "areal_capacity_mAh_cm2", "electrolyte_g_per_Ah",
                                     "temperature_degC"))


def stack_options(func: Callable) -> Callable:
    """--electrode-area, --layers, --separator-thickness, --stack-pressure: the pouch cell
    around the design."""
    from twin.design import CellDesign

    return _apply(func, CellDesign, ("electrode_area_cm2", "layers", "separator_thickness_um",
                                     "stack_pressure_kPa"))


def protocol_options(func: Callable) -> Callable:
    """--charge-rate, --discharge-rate [C]."""
    from twin.protocol import Protocol

    return _apply(func, Protocol, ("charge_rate_C", "discharge_rate_C"))


class OutputPath(click.ParamType):
    """An output file path, checked before any work (twin.files rules: a regular file
    or a new one in an existing folder; symlinks written through): a device, FIFO,
    socket, folder or missing folder is a usage error (exit 2) up front."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        try:
            resolve_output_path(path)
        except OutputPathError as err:  # one line, exit 2, before any work
            option = param.opts[0] if param is not None and param.opts else "output"
            raise InputError(f"{option}: {err}") from None
        return path


OUTPUT_PATH = OutputPath()


def output_options(func: Callable) -> Callable:
    func = click.option("--out", type=OUTPUT_PATH, default=None,
                        help="Write the result to this file (atomically) instead of stdout.")(func)
    func = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table",
                        show_default=True, help="Output format.")(func)
    return func


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also rejects NaN (which passes every comparison)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if isinstance(number, float) and math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


class InputError(click.UsageError):
    """A user mistake: one line on stderr, exit code 2, no usage dump, no traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def finite(value: float, name: str) -> float:
    """Reject NaN and infinities early, naming the option."""
    if value is not None and (math.isnan(value) or math.isinf(value)):
        raise InputError(f"{name} must be a finite number, got {value}")
    return value


# Library errors name API arguments; on the command line the same thing is a flag.
ARGUMENT_FLAGS: dict[str, str] = {
    "eol_fraction": "--eol",
    "storage": "--storage",
    "tracking_uri": "--tracking-uri",
    "study_name": "--study",
}


def cli_message(err: BaseException) -> str:
    """The one-line message of a library error, the API argument it names (its
    `argument`) written as the CLI flag (`ARGUMENT_FLAGS`)."""
    import re

    message = str(err)
    argument = getattr(err, "argument", None)
    flag = ARGUMENT_FLAGS.get(argument) if argument else None
    if flag:
        message = re.sub(rf"(?<![\w-]){re.escape(argument)}(?![\w-])", flag, message)
    return message


def handle_errors(func: Callable) -> Callable:
    """Turn errors into one-line messages and exit codes, by type, in one place:
    `twin.errors.TwinInputError` (bad input) exits 2 (usage); `TwinRuntimeError`, the
    solver's own errors and a library's ValueError exit 1; never a traceback."""
    from twin.errors import TwinError, TwinInputError, solver_failure_types

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        received_before = signals_received()
        try:
            try:
                with signals_as_interrupts():  # SIGTERM unwinds like Ctrl-C: journals and runs closed
                    return func(*args, **kwargs)
            except Exception as err:
                masked = masked_interrupt(received_before)
                if masked is not None and not isinstance(err, click.exceptions.Exit):
                    raise masked from None  # a library's error on the way out of an interruption
                raise
        except (click.ClickException, click.exceptions.Exit):
            raise
        except TwinInputError as err:
            raise InputError(cli_message(err)) from None
        except TwinError as err:
            raise click.ClickException(f"{type(err).__name__}: {cli_message(err)}") from None
        except ValueError as err:  # from a library: a failure, not a usage error
            raise click.ClickException(f"{type(err).__name__}: {err}") from None
        except KeyboardInterrupt as err:
            raise interrupted_exit(err) from None
        except OSError as err:  # an output file or folder that cannot be written
            where = f" {err.filename}" if err.filename else ""
            raise click.ClickException(f"cannot write{where}: {err.strerror or err}") from None
        except Exception as err:
            if isinstance(err, solver_failure_types()):
                raise click.ClickException(f"{type(err).__name__}: {err}") from None
            raise

    return wrapper


def emit(text: str, out: Path | None) -> None:
    """Result to `out` (atomically) or to stdout."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_atomic(out, text)
        click.echo(f"wrote {out}", err=True)


def to_json(obj: Any) -> str:
    """JSON text; a result object (a dict) gains a ``provenance`` entry (twin, PyBaMM and
    Python versions, the git commit from the project's own checkout) unless it has one."""
    if isinstance(obj, dict) and "provenance" not in obj:
        from twin.provenance import provenance

        obj = {**obj, "provenance": provenance()}
    return json.dumps(obj, indent=2, allow_nan=False) + "\n"


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def parse_float_list(text: str, option: str) -> list[float]:
    """'0, 1,2.5' -> [0.0, 1.0, 2.5]: a comma-separated list of finite numbers; the
    error names the option and the bad value."""
    values = []
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            raise InputError(f"{option}: empty value in {text!r} (use comma-separated numbers, e.g. 1,2,3)")
        try:
            value = float(item)
        except ValueError:
            raise InputError(f"{option}: {item!r} is not a number") from None
        if math.isnan(value) or math.isinf(value):
            raise InputError(f"{option}: {item!r} is not a finite number")
        values.append(value)
    return values


def parse_parameter_overrides(items: tuple[str, ...] | list[str], option: str = "--set") -> dict[str, float]:
    """('Dead lithium fraction at reference current density=0.05', ...) -> {name: value};
    names a malformed item (parameter names themselves are checked by the twin)."""
    overrides: dict[str, float] = {}
    for item in items:
        name, sep, text = str(item).rpartition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"{option}: {item!r} is not NAME=VALUE")
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{option}: {name!r}: {text.strip()!r} is not a number") from None
        if math.isnan(value) or math.isinf(value):
            raise InputError(f"{option}: {name!r}: {text.strip()!r} is not a finite number")
        overrides[name] = value
    return overrides


PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_option(help_text: str) -> Callable[[Callable], Callable]:
    """--plot FILE.png: a figure written atomically (matplotlib is imported only then)."""

    def check(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in PLOT_SUFFIXES:
            raise InputError(f"--plot: {value.name}: use a file name ending in {', '.join(PLOT_SUFFIXES)}")
        return value

    return click.option("--plot", "plot_path", type=OUTPUT_PATH,
                        default=None, callback=check, metavar="FILE.png", help=help_text)


def load_strategies(names: tuple[str, ...] | list[str], files: tuple[Path, ...] | list[Path],
                    replace_presets: bool = False) -> list[Any]:
    """Strategy names (presets, or names defined in `files`) and TOML files -> validated
    twin.strategies.Strategy objects; a bad name or file is a one-line InputError."""
    from twin.strategies import parse_strategy_spec, resolve

    try:
        items = [name for spec in names for name in parse_strategy_spec(spec)]
        return resolve(items, files, replace_presets=replace_presets)
    except ValueError as err:
        raise InputError(str(err)) from None


def strategy_options(func: Callable) -> Callable:
    """--strategy NAME and --strategy-file FILE (both repeatable; NAME may be A+B).
    The command receives `strategies`: the validated Strategy objects (empty: none)."""

    @wraps(func)
    def wrapper(*args: Any, strategy_names: tuple[str, ...] = (), strategy_files: tuple[Path, ...] = (),
                replace_preset: bool = False, **kwargs: Any) -> Any:
        strategies = (load_strategies(strategy_names, strategy_files, replace_preset)
                      if strategy_names or strategy_files else [])
        return func(*args, strategies=strategies, **kwargs)

    wrapper = click.option(
        "--replace-preset", "replace_preset", is_flag=True, default=False,
        help="Let a --strategy-file whose name is a preset's replace that preset.")(wrapper)

    wrapper = click.option(
        "--strategy-file", "strategy_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE.toml", help="A protection strategy defined in a TOML file (repeatable; "
                                  "see experiments/strategies/).")(wrapper)
    wrapper = click.option(
        "--strategy", "strategy_names", multiple=True, metavar="NAME",
        help="Protection strategy preset (repeatable; combine with several --strategy or A+B; "
             "see `twin strategies list`).")(wrapper)
    return wrapper


TEST_CELLS = ("full", "anode-free", "li-cu", "li-li")


def cell_options(func: Callable) -> Callable:
    """--cell and the Li||Cu / Li||Li test options. The command receives `test_cell`, a
    dict: cell, current_density_mA_cm2 (None = the cell's default), capacity_mAh_cm2,
    ce_protocol, cutoff_V, overpotential_limit_V, foil_thickness_um."""

    @wraps(func)
    def wrapper(*args: Any, cell: str = "full", current_density: float | None = None,
                test_capacity: float = 1.0, ce_protocol: str = "repeated", cutoff: float = 0.5,
                overpotential_limit: float = 0.1, foil_thickness: float = 50.0, **kwargs: Any) -> Any:
        for name, value in (("--current-density", current_density), ("--test-capacity", test_capacity),
                            ("--cutoff", cutoff), ("--overpotential-limit", overpotential_limit),
                            ("--foil-thickness", foil_thickness)):
            finite(value, name)
        if current_density is not None and current_density <= 0:  # zero never means "the default"
            raise InputError(f"--current-density must be greater than zero, got {current_density:g}")
        test_cell = {"cell": cell, "current_density_mA_cm2": current_density, "capacity_mAh_cm2": test_capacity,
                     "ce_protocol": ce_protocol, "cutoff_V": cutoff, "overpotential_limit_V": overpotential_limit,
                     "foil_thickness_um": foil_thickness}
        return func(*args, test_cell=test_cell, **kwargs)

    options = [
        click.option("--cell", type=click.Choice(TEST_CELLS), default="full", show_default=True,
                     help="full: the design's Li||cathode cell; anode-free: the same with N:P 0; li-cu: "
                          "Li||Cu Coulombic-efficiency test; li-li: symmetric cell lifespan."),
        click.option("--current-density", type=float, default=None,
                     help="Test cells: current density [mA/cm2] (default 0.5 for li-cu, 1.0 for li-li)."),
        click.option("--test-capacity", type=float, default=1.0, show_default=True,
                     help="Test cells: areal capacity plated per (half-)cycle [mAh/cm2]; li-cu reservoir "
                          "protocol: the reservoir Q_T is 5x this."),
        click.option("--ce-protocol", type=click.Choice(["repeated", "reservoir"]), default="repeated",
                     show_default=True, help="li-cu: repeated plate/strip, or the Adams et al. (2018) "
                                             "reservoir protocol."),
        click.option("--cutoff", type=float, default=0.5, show_default=True,
                     help="li-cu: stripping cut-off voltage [V vs Li]."),
        click.option("--overpotential-limit", type=float, default=0.1, show_default=True,
                     help="li-li: end of life when the cell overpotential passes this [V]."),
        click.option("--foil-thickness", type=float, default=50.0, show_default=True,
                     help="li-li: Li foil thickness of each electrode [um]."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
