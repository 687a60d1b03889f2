"""`twin predict`: cycle life of one design."""

from __future__ import annotations

from pathlib import Path

import click

from experiments.options import (
    design_options, emit, finite, handle_errors, output_options, protocol_options, to_json,
)
from experiments.progress import cycle_progress

TABLE_COLUMNS = [
    "cycle", "discharge_capacity_mAh_cm2", "coulombic_efficiency", "li_coulombic_efficiency",
    "active_li_mAh_cm2", "dead_li_mAh_cm2", "sei_li_mAh_cm2", "swelling_pct", "electrolyte_g_per_Ah",
]


@click.command("predict")
@design_options
@protocol_options
@click.option("--max-cycles", type=click.IntRange(1, 100_000), default=1000, show_default=True,
              help="Stop here if end of life is not reached.")
@click.option("--eol", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.8,
              show_default=True, help="End of life: fraction of the first cycle's discharge capacity.")
@click.option("--model", "cell_model", type=click.Choice(["spm", "spme", "dfn"]), default="spm",
              show_default=True, help="PyBaMM cell model on the cathode side.")
@output_options
@handle_errors
def cli(cathode: str, np_ratio: float, areal_capacity: float, electrolyte_amount: float,
        temperature: float, charge_rate: float, discharge_rate: float, max_cycles: int,
        eol: float, cell_model: str, fmt: str, out: Path | None) -> None:
    """Forecast the cycle life of one Li-metal cell design.

    Every cycle is simulated with the PyBaMM model and the twin's Li-metal submodels
    (Li inventory, SEI, dead Li, swelling, electrolyte consumption).
    """
    for name, value in (("--np-ratio", np_ratio), ("--areal-capacity", areal_capacity),
                        ("--electrolyte-amount", electrolyte_amount), ("--temperature", temperature),
                        ("--charge-rate", charge_rate), ("--discharge-rate", discharge_rate)):
        finite(value, name)
    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.simulation import predict_cycle_life

    design = CellDesign(cathode=cathode.upper(), np_ratio=np_ratio, areal_capacity_mAh_cm2=areal_capacity,
                        electrolyte_g_per_Ah=electrolyte_amount, temperature_degC=temperature)
    protocol = Protocol(charge_rate_C=charge_rate, discharge_rate_C=discharge_rate)
    with cycle_progress(max_cycles, "cycling") as advance:
        prediction = predict_cycle_life(design, protocol, eol_fraction=eol, max_cycles=max_cycles,
                                        cell_model=cell_model, progress=advance)
    emit(render(prediction, fmt), out)


def render(prediction, fmt: str) -> str:
    """The prediction as JSON, CSV (one row per cycle) or a table for people."""
    if fmt == "json":
        return to_json(prediction.to_dict())
    if fmt == "csv":
        return prediction.cycles.to_csv(index=False)
    d = prediction.design
    life = prediction.cycle_life if prediction.cycle_life is not None else f"> {prediction.max_cycles}"
    head = [
        f"design      {d.cathode}, {d.areal_capacity_mAh_cm2} mAh/cm2, N:P {d.np_ratio}, "
        f"{d.electrolyte_g_per_Ah} g/Ah electrolyte, {d.temperature_degC} degC",
        f"protocol    charge {prediction.protocol.charge_rate_C} C (CC-CV), "
        f"discharge {prediction.protocol.discharge_rate_C} C, model {prediction.cell_model}, mode {prediction.mode}",
        f"cycle life  {life} (to {prediction.eol_fraction:.0%} of "
        f"{prediction.initial_capacity_mAh_cm2:.3f} mAh/cm2), end of life: {prediction.end_of_life_reason}",
        f"elapsed     {prediction.elapsed_s:.2f} s",
        "",
    ]
    cycles = prediction.cycles
    step = max(1, len(cycles) // 20)
    shown = cycles.iloc[sorted(set(range(0, len(cycles), step)) | {len(cycles) - 1})]
    return "\n".join(head) + shown[TABLE_COLUMNS].to_string(index=False, float_format=lambda v: f"{v:.4f}") + "\n"
