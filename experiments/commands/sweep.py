"""`twin sweep`: cycle life over a grid of designs, in parallel, resumable."""

from __future__ import annotations

from pathlib import Path

import click

from twin.design import CellDesign
from twin.experiments.options import (
    OUTPUT_PATH,
    FiniteFloatRange, InputError, finite, handle_errors, parse_float_list, parse_parameter_overrides, plot_option,
)
from twin.experiments.options import field_option
from twin.protocol import Protocol

# grid option -> (API axis, help)
GRID_OPTIONS = {
    "--np-ratio": ("np_ratio", "N:P values (Li-metal / cathode capacity; 0 = anode-free)."),
    "--areal-capacity": ("areal_capacity_mAh_cm2", "Cathode areal capacities [mAh/cm2]."),
    "--electrolyte-amount": ("electrolyte_g_per_Ah", "Electrolyte amounts [g/Ah]."),
    "--charge-rate": ("charge_rate_C", "CC charge rates [C] (then CV to C/20)."),
}
# what the table on stdout shows (the file has every column)
SHOWN_COLUMNS = [
    "np_ratio", "areal_capacity_mAh_cm2", "electrolyte_g_per_Ah", "charge_rate_C", "strategy",
    "cycle_life", "end_of_life_reason", "retention_at_100", "swelling_at_eol_pct",
    "dead_li_at_eol_mAh_cm2", "sei_li_at_eol_mAh_cm2", "elapsed_s",
]


def mode_option(func):
    return click.option("--mode", type=click.Choice(["fast", "full"]), default=None,
                        help="fast: representative cycles simulated, slow states advanced between "
                             "them; full: every cycle simulated. Default: fast when available.")(func)


def run_options(func):
    """--max-cycles, --eol, --model, --mode, --set, --workers (shared with compare)."""
    options = [
        click.option("--max-cycles", type=click.IntRange(1, 100_000), default=1000, show_default=True,
                     help="Stop a design here if end of life is not reached."),
        click.option("--eol", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=0.8,
                     show_default=True, help="End of life: fraction of the first cycle's discharge capacity."),
        click.option("--model", "cell_model", type=click.Choice(["spm", "spme", "dfn"]), default="spm",
                     show_default=True, help="PyBaMM cell model on the cathode side."),
        mode_option,
        click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
                     help="Expert: override a twin parameter by its full name, e.g. "
                          "'Dead lithium fraction at reference current density=0.05'. Repeatable."),
        click.option("--stop-on-dendrite-risk", is_flag=True, default=False,
                     help="End a design's life at cycle 1 when the Chazalviel model flags its charge."),
        click.option("--workers", type=click.IntRange(1, 512), default=None,
                     help="Parallel processes [default: all cores]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def scheduler_option(func):
    """--scheduler: run on an existing Dask cluster instead of local processes."""
    return click.option("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler (tcp://HOST:PORT) to run on an existing cluster; default "
                             "$DASK_SCHEDULER_ADDRESS, else local processes (--workers).")(func)


def resolve_scheduler(option: str | None) -> str | None:
    """The scheduler address from the option or the environment (bad one: exit 2)."""
    from twin.experiments.engine import SchedulerAddressError, scheduler_address

    try:
        return scheduler_address(option)
    except SchedulerAddressError as err:
        raise InputError(str(err)) from None


def make_settings(max_cycles: int, eol: float, cell_model: str, mode: str | None,
                  assignments: tuple[str, ...], stop_on_dendrite_risk: bool = False):
    overrides = parse_parameter_overrides(assignments)
    from twin.experiments.sweep import RunSettings, overrides_tuple, resolve_mode

    return RunSettings(eol_fraction=eol, max_cycles=max_cycles, cell_model=cell_model,
                       mode=resolve_mode(mode), overrides=overrides_tuple(overrides),
                       stop_on_dendrite_risk=stop_on_dendrite_risk)


@click.command("sweep")
@click.option("--np-ratio", "np_ratios", default="0,1,2,3", show_default=True, metavar="LIST",
              help=GRID_OPTIONS["--np-ratio"][1])
@click.option("--areal-capacity", "areal_capacities", default="4", show_default=True, metavar="LIST",
              help=GRID_OPTIONS["--areal-capacity"][1])
@click.option("--electrolyte-amount", "electrolyte_amounts", default="3", show_default=True, metavar="LIST",
              help=GRID_OPTIONS["--electrolyte-amount"][1])
@click.option("--charge-rate", "charge_rates", default="0.3", show_default=True, metavar="LIST",
              help=GRID_OPTIONS["--charge-rate"][1])
@click.option("--strategy", "strategies", default="none", show_default=True, metavar="LIST",
              help="Protection strategies, comma-separated; 'a+b' combines two in one design; "
                   "'none' is the unprotected cell.")
@field_option(Protocol, "discharge_rate_C")
@field_option(CellDesign, "cathode")
@field_option(CellDesign, "temperature_degC")
@click.option("--vary", "variations", multiple=True, metavar="FIELD=LIST",
              help="One more grid axis: any numeric design or protocol field by its name, e.g. "
                   "--vary separator_thickness_um=12,20 (repeatable).")
@run_options
@click.option("--out", type=OUTPUT_PATH, required=True,
              help="Result table, .csv or .parquet. Rerunning with the same file resumes: "
                   "finished designs are not recomputed.")
@click.option("--overwrite", is_flag=True, default=False,
              help="Replace rows of another sweep (other grid or settings) in --out; without it such a "
                   "rerun is refused and nothing is lost.")
@plot_option("Draw a cycle-life heatmap (N:P by areal capacity, one panel per other axis value).")
@click.option("--curves", "curves_path", type=OUTPUT_PATH, default=None, metavar="FILE.csv|FILE.parquet",
              help="Also write every design's per-cycle curves in long format (one row per design and cycle).")
@scheduler_option
@handle_errors
def cli(np_ratios: str, areal_capacities: str, electrolyte_amounts: str, charge_rates: str,
        strategies: str, discharge_rate: float, cathode: str, temperature: float, max_cycles: int,
        eol: float, cell_model: str, mode: str | None, assignments: tuple[str, ...],
        stop_on_dendrite_risk: bool, workers: int | None, out: Path, plot_path: Path | None,
        variations: tuple[str, ...] = (), curves_path: Path | None = None, scheduler: str | None = None,
        overwrite: bool = False) -> None:
    """Cycle life of every design on a grid, one row per design, in parallel.

    Each grid option takes comma-separated values, e.g.
    `twin sweep --np-ratio 0,1,2,3 --areal-capacity 2,3,4 --charge-rate 0.3,1 --out s.csv`.
    Finished designs are journaled beside the output (OUT.partial.jsonl), so an
    interrupted sweep rerun with the same --out continues where it stopped.
    """
    finite(discharge_rate, "--discharge-rate")
    finite(temperature, "--temperature")
    grid = {
        "np_ratios": parse_float_list(np_ratios, "--np-ratio"),
        "areal_capacities_mAh_cm2": parse_float_list(areal_capacities, "--areal-capacity"),
        "electrolyte_g_per_Ah": parse_float_list(electrolyte_amounts, "--electrolyte-amount"),
        "charge_rates_C": parse_float_list(charge_rates, "--charge-rate"),
    }
    strategy_names = [s.strip() for s in strategies.split(",")]
    axes = parse_variations(variations)
    if any(not name for name in strategy_names):  # an empty item is a typo, not "none"
        raise InputError(f"--strategy: empty name in {strategies!r} (use NAME,NAME or none)")
    from twin.experiments.sweep import SweepError, expand_grid, run_sweep, table_format

    try:
        table_format(out)
    except SweepError as err:
        raise InputError(f"--out: {err}") from None
    from twin.experiments.curves import check_curves_path

    check_curves_path(curves_path)
    if curves_path is not None and curves_path.resolve() == out.resolve():
        raise InputError("--curves must differ from --out")
    base_design = CellDesign(cathode=cathode.upper(), temperature_degC=temperature)
    base_protocol = Protocol(discharge_rate_C=discharge_rate)
    try:
        cases = expand_grid(base_design, base_protocol, strategies=strategy_names, axes=axes, **grid)
    except SweepError as err:
        raise InputError(_option_names(str(err))) from None
    settings = make_settings(max_cycles, eol, cell_model, mode, assignments, stop_on_dendrite_risk)
    scheduler = resolve_scheduler(scheduler)

    from twin.experiments.progress import cycle_progress

    def announce(done: int, total: int) -> None:
        left = total - done
        click.echo(f"{done} of {total} designs already done in {out}; {left} to compute"
                   if done else f"{total} designs to compute", err=True)

    with cycle_progress(len(cases), "designs") as advance:
        def on_start(done: int, total: int) -> None:
            announce(done, total)
            advance(done)

        try:
            result = run_sweep(cases, settings, out, workers=workers, on_start=on_start, progress=advance,
                               curves=curves_path, scheduler=scheduler, overwrite=overwrite)
        except KeyboardInterrupt as err:
            from twin.experiments.lifecycle import interrupted_exit

            raise interrupted_exit(err, f"finished designs are kept in {out.name}.partial.jsonl: "
                                        "rerun the same command to resume") from None
    click.echo(f"wrote {out}: {len(result.table)} designs ({result.reused} reused, "
               f"{result.computed} computed) in {result.elapsed_s:.1f} s", err=True)
    if result.dropped:
        click.echo(f"note: {result.dropped} rows of the earlier {out.name} were for designs or settings "
                   "outside this sweep and were not kept", err=True)
    if curves_path is not None:
        click.echo(f"wrote {curves_path}", err=True)
    if plot_path is not None:
        from twin.experiments.plots import plot_sweep_heatmap

        plot_sweep_heatmap(result.table, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    click.echo(render_summary(result.table))


def _option_names(message: str) -> str:
    """Grid errors name the option the user typed, not the API field."""
    for option, (field, _) in GRID_OPTIONS.items():
        if message.startswith(field):
            return f"{option}: {message}"
    return message


def life_labels(table) -> list[str]:
    """Cycle life for people: '>N' when the cycle limit came first, '-' after a failed solve."""
    from twin.experiments.sweep import plain_value

    labels = []
    for life, limit, error in zip(table["cycle_life"], table["max_cycles"], table["error"].fillna("")):
        life = plain_value(life)
        if error:
            labels.append("-")
        elif life is None:
            labels.append(f">{limit}")
        else:
            labels.append(str(int(life)))
    return labels


def render_summary(table) -> str:
    shown = [c for c in SHOWN_COLUMNS if c in table.columns]
    if "strategy" in shown and set(table["strategy"]) == {"none"}:
        shown.remove("strategy")
    view = table[shown].copy()
    view["cycle_life"] = life_labels(table)
    return view.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.4g}")


def parse_variations(items: tuple[str, ...]) -> dict[str, list[float]]:
    """('separator_thickness_um=12,20', ...) -> {field: values}; names a malformed item
    (the field names themselves are checked by the sweep engine)."""
    axes: dict[str, list[float]] = {}
    for item in items:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--vary: {item!r} is not FIELD=LIST (e.g. separator_thickness_um=12,20)")
        if name in axes:
            raise InputError(f"--vary: {name!r} given twice")
        axes[name] = parse_float_list(text, f"--vary {name}")
    return axes
