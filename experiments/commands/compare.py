"""`twin compare`: two or more designs side by side."""

from __future__ import annotations

from pathlib import Path

import click

from twin.experiments.commands.sweep import life_labels, make_settings, resolve_scheduler, run_options, scheduler_option
from twin.experiments.options import (
    OUTPUT_PATH,
    InputError, design_options, emit, finite, handle_errors, output_options, plot_option,
    protocol_options, to_json,
)

# row of the side-by-side table -> (sweep column, format)
TABLE_ROWS = {
    "cycle life": ("cycle_life", None),
    "end of life": ("end_of_life_reason", "{}"),
    "initial capacity [mAh/cm2]": ("initial_capacity_mAh_cm2", "{:.3f}"),
    "swelling at EOL [%]": ("swelling_at_eol_pct", "{:.1f}"),
    "dead Li at EOL [mAh/cm2]": ("dead_li_at_eol_mAh_cm2", "{:.3f}"),
    "SEI Li at EOL [mAh/cm2]": ("sei_li_at_eol_mAh_cm2", "{:.3f}"),
    "cycles simulated": ("cycles_simulated", "{}"),
    "elapsed [s]": ("elapsed_s", "{:.1f}"),
}
# machine-readable columns of --format json/csv
DATA_COLUMNS = [
    "label", "cathode", "np_ratio", "areal_capacity_mAh_cm2", "electrolyte_g_per_Ah", "charge_rate_C",
    "discharge_rate_C", "temperature_degC", "strategy", "cell_model", "mode", "eol_fraction", "max_cycles",
    "cycle_life", "end_of_life_reason", "initial_capacity_mAh_cm2", "swelling_at_eol_pct",
    "dead_li_at_eol_mAh_cm2", "sei_li_at_eol_mAh_cm2", "cycles_simulated", "elapsed_s",
]


@click.command("compare")
@click.option("--design", "specs", multiple=True, required=True, metavar="KEY=VALUE,...",
              help="One design (repeat for each): comma-separated KEY=VALUE with keys np_ratio, "
                   "areal_capacity, electrolyte_amount, charge_rate, discharge_rate, temperature, "
                   "cathode, strategy, label. Keys not given take the values of the options below.")
@design_options
@protocol_options
@run_options
@output_options
@plot_option("One figure: capacity retention, Li inventory split (cyclable / dead / SEI) and "
             "swelling versus cycle for every design.")
@click.option("--curves", "curves_path", type=OUTPUT_PATH, default=None, metavar="FILE.csv|FILE.parquet",
              help="Also write every design's per-cycle curves in long format (one row per design and cycle).")
@scheduler_option
@handle_errors
def cli(specs: tuple[str, ...], cathode: str, np_ratio: float, areal_capacity: float,
        electrolyte_amount: float, temperature: float, charge_rate: float, discharge_rate: float,
        max_cycles: int, eol: float, cell_model: str, mode: str | None, assignments: tuple[str, ...],
        stop_on_dendrite_risk: bool, workers: int | None, fmt: str, out: Path | None, plot_path: Path | None,
        curves_path: Path | None = None, scheduler: str | None = None) -> None:
    """Forecast two or more designs and show them side by side.

    Example: `twin compare --design "np_ratio=0,label=anode-free" --design "np_ratio=2"
    --areal-capacity 4 --plot compare.png`
    """
    if len(specs) < 2:
        raise InputError("--design: give at least two designs to compare")
    from twin.experiments.curves import check_curves_path

    check_curves_path(curves_path)
    for name, value in (("--np-ratio", np_ratio), ("--areal-capacity", areal_capacity),
                        ("--electrolyte-amount", electrolyte_amount), ("--temperature", temperature),
                        ("--charge-rate", charge_rate), ("--discharge-rate", discharge_rate)):
        finite(value, name)
    from twin.experiments.sweep import (
        SweepError, case_from_spec, check_cases, check_strategies_supported, default_workers,
        predict_cases, rows_to_table, summarize,
    )
    from twin.design import CellDesign
    from twin.protocol import Protocol

    base_design = CellDesign(cathode=cathode.upper(), np_ratio=np_ratio, areal_capacity_mAh_cm2=areal_capacity,
                             electrolyte_g_per_Ah=electrolyte_amount, temperature_degC=temperature)
    base_protocol = Protocol(charge_rate_C=charge_rate, discharge_rate_C=discharge_rate)
    try:
        cases = unique_labels([case_from_spec(spec, base_design, base_protocol) for spec in specs])
    except SweepError as err:
        raise InputError(f"--design: {err}") from None
    settings = make_settings(max_cycles, eol, cell_model, mode, assignments, stop_on_dendrite_risk)
    check_strategies_supported(cases)
    check_cases(cases, settings)
    scheduler = resolve_scheduler(scheduler)

    from twin.experiments.progress import cycle_progress

    with cycle_progress(len(cases), "designs") as advance:
        predictions = predict_cases(cases, settings, workers or default_workers(), progress=advance,
                                    scheduler=scheduler)
    table = rows_to_table([summarize(case, settings, p) for case, p in zip(cases, predictions)])
    if plot_path is not None:
        from twin.experiments.plots import plot_comparison

        plot_comparison(predictions, [case.label for case in cases], plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if curves_path is not None:
        from twin.experiments.curves import curves_table
        from twin.experiments.sweep import write_curves

        write_curves(curves_path, curves_table([case.label for case in cases], predictions))
        click.echo(f"wrote {curves_path}", err=True)
    emit(render(table, fmt), out)


def unique_labels(cases: list) -> list:
    """Two designs with the same label get '#2', '#3' so legends stay readable."""
    import dataclasses

    seen: dict[str, int] = {}
    out = []
    for case in cases:
        count = seen.get(case.label, 0) + 1
        seen[case.label] = count
        out.append(case if count == 1 else dataclasses.replace(case, label=f"{case.label} #{count}"))
    return out


def render(table, fmt: str) -> str:
    """JSON (a list of designs), CSV (one row per design) or a side-by-side table."""
    columns = [c for c in DATA_COLUMNS if c in table.columns]
    columns += [c for c in table.columns if c.startswith("dendrite_risk_")]
    data = table[columns]
    if fmt == "csv":
        return data.to_csv(index=False)
    if fmt == "json":
        from twin.experiments.sweep import plain_value

        records = [{k: plain_value(v) for k, v in row.items()} for row in data.to_dict(orient="records")]
        return to_json({"designs": records})
    lives = life_labels(table)
    lines = {"": list(table["label"])}
    for name, (column, pattern) in TABLE_ROWS.items():
        if column == "cycle_life":
            lines[name] = lives
        else:
            lines[name] = [pattern.format(v) for v in table[column]]
    if "dendrite_risk_flag" in table.columns:
        lines["dendrite risk"] = ["yes" if bool(v) else "no" for v in table["dendrite_risk_flag"]]
    width = max(len(k) for k in lines)
    col_widths = [max(len(str(lines[k][i])) for k in lines) for i in range(len(table))]
    text = []
    for name, values in lines.items():
        cells = "  ".join(str(v).rjust(w) for v, w in zip(values, col_widths))
        text.append(f"{name.ljust(width)}  {cells}")
    return "\n".join(text) + "\n"
