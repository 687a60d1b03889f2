"""The `twin` command line. Subcommands load lazily so `twin --help` never imports
PyBaMM and answers at once."""

from __future__ import annotations

import importlib
import importlib.util

import click

# name -> (module under experiments.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "predict": ("predict", "Forecast the cycle life of one cell design."),
    "sweep": ("sweep", "Cycle life over a grid of designs, in parallel, resumable."),
    "compare": ("compare", "Two or more designs side by side."),
    "strategies": ("strategies", "Protection strategies: list and show presets."),
    "simulate": ("simulate", "Write a synthetic cycling dataset from a design."),
    "calibrate": ("calibrate", "Fit the twin to lab cycling data and forecast life."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module = importlib.import_module(f"twin.experiments.commands.{COMMANDS[cmd_name][0]}")
        return module.cli

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(name: str) -> bool:
    return importlib.util.find_spec(f"twin.experiments.commands.{COMMANDS[name][0]}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="twin")
@click.option("--verbose", "-v", is_flag=True,
              help="Show solver (SUNDIALS), PyBaMM and cycler-file reader messages on stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Digital twin of lithium-metal cells: how long a design lives, and why.

    Results go to stdout (table, JSON or CSV); progress and diagnostics to stderr.
    """
    from twin.experiments.quiet import configure_output

    ctx.call_on_close(configure_output(verbose))


if __name__ == "__main__":
    main()
