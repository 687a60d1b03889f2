"""`twin predict`: cycle life of one design."""

from __future__ import annotations

import math
from pathlib import Path

import click

from twin.experiments.options import (
    design_options, emit, finite, handle_errors, output_options, plot_option, protocol_options, to_json,
)
from twin.experiments.options import FiniteFloatRange, InputError, cell_options, stack_options, strategy_options
from twin.experiments.options import field_option
from twin.experiments.progress import cycle_progress
from twin.protocol import Protocol
from twin.units import SECONDS_PER_HOUR

TABLE_COLUMNS = [
    "cycle", "discharge_capacity_mAh_cm2", "coulombic_efficiency", "li_coulombic_efficiency",
    "active_li_mAh_cm2", "dead_li_mAh_cm2", "sei_li_mAh_cm2", "swelling_pct", "electrolyte_g_per_Ah",
]


@click.command("predict")
@design_options
@stack_options
@protocol_options
@field_option(Protocol, "v_max", overrides="the cathode's standard cut-off and --protocol")
@click.option("--max-cycles", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Stop here if end of life is not reached.")
@click.option("--eol", type=FiniteFloatRange(0, 1, min_open=True, max_open=True), default=0.8,
              show_default=True, help="End of life: fraction of the first cycle's discharge capacity.")
@click.option("--model", "cell_model", type=click.Choice(["spm", "spme", "dfn"]), default="spm",
              show_default=True, help="PyBaMM cell model on the cathode side.")
@click.option("--mode", type=click.Choice(["fast", "full"]), default="fast", show_default=True,
              help="fast: simulate representative cycles and advance the degradation states "
                   "across the cycles between them (error-controlled); full: simulate every cycle.")
@click.option("--protocol", "protocol_file", default=None, metavar="FILE|NAME",
              help="Cycling protocol from a TOML file, or a named one under experiments/protocols "
                   "(standard, fast-charge, checkup); --charge-rate/--discharge-rate given on the "
                   "command line override its rates.")
@click.option("--stop-on-dendrite-risk", is_flag=True, default=False,
              help="End of life at cycle 1 when the Chazalviel model flags the CC charge "
                   "(charge current density above the limiting current J*; below J* Sand's time does not apply).")
@strategy_options
@cell_options
@output_options
@plot_option("Draw capacity, Coulombic efficiency, Li inventory (active / dead / SEI) and "
             "thickness / swelling versus cycle to this file.")
@handle_errors
def cli(cathode: str, np_ratio: float, areal_capacity: float, electrolyte_amount: float,
        temperature: float, charge_rate: float, discharge_rate: float, max_cycles: int,
        eol: float, cell_model: str, fmt: str, out: Path | None, plot_path: Path | None = None,
        strategies: list | None = None, test_cell: dict | None = None, mode: str = "fast",
        protocol_file: str | None = None, stop_on_dendrite_risk: bool = False,
        electrode_area: float = 25.0, layers: int = 10, separator_thickness: float = 12.0,
        stack_pressure: float = 300.0, upper_cutoff: float | None = None) -> None:
    """Forecast the cycle life of one Li-metal cell design.

    Cycles are simulated with the PyBaMM model and the twin's Li-metal submodels
    (Li inventory, SEI, dead Li, swelling, electrolyte consumption): every cycle with
    --mode full; with --mode fast (default) representative cycles, the degradation
    states advanced across the ones between (every cycle is still reported; the
    column simulated says which were solved).
    """
    for name, value in (("--np-ratio", np_ratio), ("--areal-capacity", areal_capacity),
                        ("--electrolyte-amount", electrolyte_amount), ("--temperature", temperature),
                        ("--charge-rate", charge_rate), ("--discharge-rate", discharge_rate)):
        finite(value, name)
    cell = (test_cell or {}).get("cell", "full")
    max_cycles_given = click.get_current_context().get_parameter_source("max_cycles").name != "DEFAULT"
    if cell in ("li-cu", "li-li"):  # test cells: the strategies' Li||Cu or Li||Li behaviour
        from twin.experiments.commands.strategies import render_test_cell, run_test_cell

        if upper_cutoff is not None:  # a Li||Cu or Li||Li cell has no cathode to cut off
            raise InputError(f"--upper-cutoff is a cathode's charge cut-off; --cell {cell} has no cathode")

        result, combined = run_test_cell(test_cell, strategies or [], max_cycles if max_cycles_given else None,
                                         temperature_degC=temperature)
        emit(render_test_cell(result, combined, fmt), out)
        return
    if cell == "anode-free":
        if np_ratio != 0 and click.get_current_context().get_parameter_source("np_ratio").name != "DEFAULT":
            raise InputError(f"--cell anode-free means N:P 0, but --np-ratio {np_ratio} was given")
        np_ratio = 0.0
    from twin.api import predict
    from twin.design import CellDesign

    finite(electrode_area, "--electrode-area")
    finite(separator_thickness, "--separator-thickness")
    finite(stack_pressure, "--stack-pressure")
    design = CellDesign(cathode=cathode.upper(), np_ratio=np_ratio, areal_capacity_mAh_cm2=areal_capacity,
                        electrolyte_g_per_Ah=electrolyte_amount, temperature_degC=temperature,
                        electrode_area_cm2=electrode_area, layers=layers,
                        separator_thickness_um=separator_thickness, stack_pressure_kPa=stack_pressure)
    protocol = resolve_protocol(protocol_file, charge_rate, discharge_rate, upper_cutoff)
    protocol.voltage_window(design.cathode)  # the upper cut-off must suit the cathode
    from twin.simulation import predict_cycle_life  # PyBaMM only once the input is valid

    with cycle_progress(max_cycles, "cycling") as advance:
        prediction = predict(design, protocol, eol_fraction=eol, max_cycles=max_cycles, cell_model=cell_model,
                             progress=advance, strategies=strategies, mode=mode,
                             stop_on_dendrite_risk=stop_on_dendrite_risk).prediction
    if plot_path is not None:
        from twin.experiments.plots import plot_prediction

        plot_prediction(prediction, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    emit(render(prediction, fmt), out)


def protocol_path(value: str) -> Path:
    """--protocol value -> a TOML file: an existing path, or a named protocol of the
    package (twin.protocol_files)."""
    from twin.errors import ProtocolError
    from twin.protocol_files import _detail, protocol_path as library_protocol_path

    try:
        return library_protocol_path(value)
    except ProtocolError as err:
        raise InputError(f"--protocol: {_detail(err)}") from None


def resolve_protocol(protocol_file: str | None, charge_rate: float, discharge_rate: float,
                     upper_cutoff_V: float | None = None):
    """The protocol of the command: from --protocol (rates given on the command line
    win over the file's) or from --charge-rate/--discharge-rate; --upper-cutoff [V],
    given, wins over both."""
    from dataclasses import replace

    from twin.protocol import Protocol

    if upper_cutoff_V is not None:
        return replace(resolve_protocol(protocol_file, charge_rate, discharge_rate), v_max=upper_cutoff_V)
    if protocol_file is None:
        return Protocol(charge_rate_C=charge_rate, discharge_rate_C=discharge_rate)
    from twin.protocol_files import load_protocol

    protocol = load_protocol(protocol_path(protocol_file))
    ctx = click.get_current_context()
    given = {field: value for option, field, value in (("charge_rate", "charge_rate_C", charge_rate),
                                                       ("discharge_rate", "discharge_rate_C", discharge_rate))
             if ctx.get_parameter_source(option).name in ("COMMANDLINE", "ENVIRONMENT")}
    return replace(protocol, **given) if given else protocol


def render(prediction, fmt: str) -> str:
    """The prediction as JSON, CSV (one row per cycle) or a table for people."""
    if fmt == "json":
        return to_json(prediction.to_dict())
    if fmt == "csv":
        return prediction.cycles.to_csv(index=False)
    d = prediction.design
    life = prediction.cycle_life if prediction.cycle_life is not None else f"> {prediction.max_cycles}"
    cell = prediction.cell_summary()
    head = [
        f"design      {d.cathode}, {d.areal_capacity_mAh_cm2} mAh/cm2, N:P {d.np_ratio}, "
        f"{d.electrolyte_g_per_Ah} g/Ah electrolyte, {d.temperature_degC} degC",
        f"cell        {cell['nominal_capacity_Ah']:.2f} Ah nominal ({d.layers} x {d.electrode_area_cm2} cm2), "
        f"stack {cell['stack_thickness_initial_mm']:.2f} mm -> {cell['stack_thickness_end_mm']:.2f} mm at the last cycle",
        f"protocol    charge {prediction.protocol.charge_rate_C} C (CC-CV), "
        f"discharge {prediction.protocol.discharge_rate_C} C, model {prediction.cell_model}, mode {prediction.mode}",
        f"cycle life  {life} (to {prediction.eol_fraction:.0%} of "
        f"{prediction.initial_capacity_mAh_cm2:.3f} mAh/cm2), end of life: {prediction.end_of_life_reason}",
        f"elapsed     {prediction.elapsed_s:.2f} s",
        "",
    ]
    head[-1:-1] = _dendrite_and_mode_lines(prediction)
    strategy = prediction.strategy
    if strategy is not None:  # which protection strategies, and whose CE anchor sets the loss level
        head.insert(2, f"strategies  {' + '.join(strategy.names)} (loss factor {strategy.loss_factor:.3g}"
                       + (f" from {strategy.loss_level_from})" if strategy.loss_level_from else ")"))
    cycles = prediction.cycles
    step = max(1, len(cycles) // 20)
    shown = cycles.iloc[sorted(set(range(0, len(cycles), step)) | {len(cycles) - 1})]
    return "\n".join(head) + shown[TABLE_COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.4f}") + "\n"


def _dendrite_and_mode_lines(prediction) -> list[str]:
    """Header lines: the Chazalviel dendrite assessment, check-ups and, in fast mode,
    how many cycles were simulated."""
    lines = []
    risk = prediction.dendrite_risk
    if risk is not None:
        sand = "inf" if math.isinf(risk.sand_time_s) else f"{risk.sand_time_s / SECONDS_PER_HOUR:.2f} h"
        verdict = f"RISK ({risk.reason})" if risk.flag else "no risk"
        lines.append(f"dendrites   {verdict}: charge {risk.charge_current_density_mA_cm2:.2f} mA/cm2, "
                     f"limiting {risk.limiting_current_density_mA_cm2:.0f} mA/cm2, Sand's time {sand}")
    if prediction.protocol.checkup_every:
        lines.append(f"check-ups   every {prediction.protocol.checkup_every} cycles at "
                     f"{prediction.protocol.checkup_rate_C} C (not in the end-of-life test)")
    if prediction.mode == "fast" and prediction.simulated_cycles is not None:
        kept = int(prediction.cycles["simulated"].sum())
        lines.append(f"simulated   {kept} representative cycles for {len(prediction.cycles)} reported "
                     f"(column simulated; {prediction.simulated_cycles} full-model cycle solves "
                     "including steps the error control rejected)")
    return lines
