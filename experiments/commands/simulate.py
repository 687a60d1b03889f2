"""`twin simulate`: a synthetic cycling dataset (BDF time series + per-cycle summary)."""

from __future__ import annotations

from pathlib import Path

import click

from twin.design import CellDesign
from twin.experiments.options import field_option
from twin.experiments.options import (
    OUTPUT_PATH,
    InputError, design_options, emit, finite, handle_errors, parse_parameter_overrides,
    protocol_options, to_json,
)


def summary_path_for(out: Path) -> Path:
    """cell.csv -> cell.cycles.csv (beside the time series)."""
    return out.with_name(f"{out.stem}.cycles.csv")


@click.command("simulate")
@design_options
@protocol_options
@click.option("--cycles", type=click.IntRange(1, 5000), default=50, show_default=True,
              help="Cycles to simulate (fewer if the cell dies first).")
@click.option("--noise", type=click.FloatRange(0, 0.2), default=0.0, show_default=True,
              help="Relative measurement noise: each charge/discharge step's capacity is off by "
                   "about this fraction (0.005 = 0.5 %); voltage gets noise x 1 V.")
@click.option("--seed", type=int, default=None, help="Seed of the noise (same seed, same data).")
@click.option("--set", "parameters", multiple=True, metavar="NAME=VALUE",
              help="Twin parameter value, e.g. --set 'Dead lithium fraction at reference current "
                   "density=0.03'. Repeatable.")
@click.option("--option", "model_options", multiple=True, metavar="NAME=VALUE",
              help="Li-metal submodel option, e.g. --option 'SEI on lithium metal=diffusion limited'.")
@click.option("--rest", type=click.FloatRange(0, 600), default=10.0, show_default=True,
              help="Rest after charge and after discharge [min].")
@field_option(CellDesign, "electrode_area_cm2")
@field_option(CellDesign, "layers")
@click.option("--model", "cell_model", type=click.Choice(["spm", "spme", "dfn"]), default="spm",
              show_default=True, help="PyBaMM cell model on the cathode side.")
@click.option("--out", type=OUTPUT_PATH, required=True,
              help="BDF time-series CSV to write; the per-cycle summary goes beside it as "
                   "<name>.cycles.csv (both written atomically).")
@click.option("--summary-out", type=OUTPUT_PATH, default=None,
              help="Write the per-cycle summary CSV here instead.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="What to print about the dataset on stdout.")
@handle_errors
def cli(cathode: str, np_ratio: float, areal_capacity: float, electrolyte_amount: float, temperature: float,
        charge_rate: float, discharge_rate: float, cycles: int, noise: float, seed: int | None,
        parameters: tuple[str, ...], model_options: tuple[str, ...], rest: float, electrode_area: float,
        layers: int, cell_model: str, out: Path, summary_out: Path | None, fmt: str) -> None:
    """Write a synthetic cycling dataset from a design, a protocol and parameters.

    The twin cycles the cell; the time series is written as a Battery Data Format CSV
    (Test Time / s, Voltage / V, Current / A with positive = charging, Cycle Count / 1,
    Step Count / 1) and reduced to a per-cycle summary (cycle, capacities in mAh, CE)
    by the same code that reads lab files. Use it for demos, tests and to check which
    parameters a dataset can identify (fit it back with `twin calibrate`).
    """
    for name, value in (("--np-ratio", np_ratio), ("--areal-capacity", areal_capacity),
                        ("--electrolyte-amount", electrolyte_amount), ("--temperature", temperature),
                        ("--charge-rate", charge_rate), ("--discharge-rate", discharge_rate),
                        ("--electrode-area", electrode_area)):
        finite(value, name)
    overrides = parse_parameter_overrides(parameters, "--set")
    options = {}
    for item in model_options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--option: {item!r} is not NAME=VALUE")
        options[key.strip()] = value.strip()
    summary_out = summary_out or summary_path_for(out)
    if summary_out.resolve() == out.resolve():
        raise InputError("--summary-out must differ from --out")
    from twin.files import OutputPathError, resolve_output_path

    try:  # the derived summary path too, before the simulation runs
        resolve_output_path(summary_out)
    except OutputPathError as err:
        raise InputError(f"--summary-out: {err}") from None
    from twin.calibration.synthetic import describe, simulate_dataset
    from twin.design import CellDesign
    from twin.protocol import Protocol

    design = CellDesign(cathode=cathode.upper(), np_ratio=np_ratio, areal_capacity_mAh_cm2=areal_capacity,
                        electrolyte_g_per_Ah=electrolyte_amount, temperature_degC=temperature,
                        electrode_area_cm2=electrode_area, layers=layers)
    protocol = Protocol(charge_rate_C=charge_rate, discharge_rate_C=discharge_rate,
                        rest_after_charge_min=rest, rest_after_discharge_min=rest)
    dataset = simulate_dataset(design, protocol, cycles, overrides, noise=noise, seed=seed,
                               cell_model=cell_model, options=options)
    dataset.write(out, summary_out)
    click.echo(f"wrote {out} and {summary_out}", err=True)
    info = describe(dataset) | {"time_series": str(out), "summary": str(summary_out)}
    if fmt == "json":
        emit(to_json(info), None)
        return
    table = dataset.cycles
    step = max(1, len(table) // 15)
    shown = table.iloc[sorted(set(range(0, len(table), step)) | {len(table) - 1})]
    head = [
        f"time series  {out} ({info['samples']} samples)",
        f"summary      {summary_out} ({info['cycles']} cycles)",
        f"design       {design.cathode}, {design.areal_capacity_mAh_cm2} mAh/cm2, N:P {design.np_ratio}, "
        f"{design.electrode_area_cm2} cm2 x {design.layers}",
        f"noise        {noise:g} (seed {seed})",
        "",
    ]
    emit("\n".join(head) + shown.to_string(index=False, float_format=lambda v: f"{v:.5f}") + "\n", None)
