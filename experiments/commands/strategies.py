"""`twin strategies`: protection-strategy presets, anchored to measured Li||Cu CE.

Also the Li||Cu / Li||Li runs behind `twin predict --cell li-cu|li-li`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from twin.experiments.options import OUTPUT_PATH, InputError, emit, handle_errors, load_strategies, output_options, to_json

LIST_COLUMNS = ["name", "family", "reported_ce", "current_density_mA_cm2", "capacity_mAh_cm2",
                "simulated_ce", "loss_factor", "dendrite_threshold_factor", "source"]


@click.group("strategies", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Protection strategies: presets defined by a measured Li||Cu CE, and your own.

    Each preset's CE anchor is reproduced by the twin's own simulated Li||Cu test (a
    loss factor solved once and cached); use the names with `twin predict --strategy`.
    """


@cli.command("list")
@click.option("--strategy-file", "strategy_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.toml", help="Also list the strategies in these TOML files.")
@click.option("--family", type=click.Choice(["host", "artificial-sei", "electrolyte", "separator"]),
              default=None, help="Only this family.")
@output_options
@handle_errors
def list_command(strategy_files: tuple[Path, ...], family: str | None, fmt: str, out: Path | None) -> None:
    """Every preset (and file strategy) with its reported and simulated Li||Cu CE.

    The first run solves each anchor with the twin's Li||Cu test (about a second each)
    and caches it ($TWIN_CACHE_DIR or the user cache directory).
    """
    from twin.strategies import presets

    strategies = list(presets().values()) + load_strategies([], strategy_files)
    if family is not None:
        strategies = [s for s in strategies if s.family == family]
    rows = [_row(s) for s in strategies]
    if fmt == "json":
        emit(to_json(rows), out)
    elif fmt == "csv":
        import pandas as pd

        emit(pd.DataFrame(rows, columns=LIST_COLUMNS).to_csv(index=False), out)
    else:
        emit(_table(rows), out)


def _row(strategy: Any) -> dict[str, Any]:
    from twin.anchoring import solve_anchor

    anchor = strategy.anchor
    solved = solve_anchor(strategy) if anchor is not None else None
    return {
        "name": strategy.name,
        "family": strategy.family,
        "reported_ce": None if anchor is None else anchor.coulombic_efficiency,
        "current_density_mA_cm2": None if anchor is None else anchor.current_density_mA_cm2,
        "capacity_mAh_cm2": None if anchor is None else anchor.capacity_mAh_cm2,
        "simulated_ce": None if solved is None else solved.simulated_ce,
        "loss_factor": None if solved is None else solved.loss_factor,
        "dendrite_threshold_factor": strategy.dendrite_threshold_factor,
        "source": strategy.source,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.2f}"

    lines = [f"{'name':32} {'family':15} {'CE %':>7} {'sim %':>7} {'mA/cm2':>7} {'loss x':>7} "
             f"{'J* x':>5}  source"]
    for r in rows:
        cd = "-" if r["current_density_mA_cm2"] is None else f"{r['current_density_mA_cm2']:g}"
        loss = "-" if r["loss_factor"] is None else f"{r['loss_factor']:.3g}"
        source = r["source"] if len(r["source"]) <= 60 else r["source"][:57] + "..."
        lines.append(f"{r['name']:32} {r['family']:15} {pct(r['reported_ce']):>7} {pct(r['simulated_ce']):>7} "
                     f"{cd:>7} {loss:>7} {r['dendrite_threshold_factor']:>5g}  {source}")
    return "\n".join(lines) + "\n"


@cli.command("show")
@click.argument("name")
@click.option("--strategy-file", "strategy_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.toml", help="Look NAME up in these TOML files too.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
@click.option("--out", type=OUTPUT_PATH, default=None,
              help="Write the result to this file (atomically) instead of stdout.")
@handle_errors
def show_command(name: str, strategy_files: tuple[Path, ...], fmt: str, out: Path | None) -> None:
    """One strategy: what it changes, its source, its anchor and the solved parameters."""
    from twin.anchoring import coin_cell_overrides, solve_anchor
    from twin.strategies import KNOBS, combine, get_strategy

    loaded = {s.name: s for s in load_strategies([], strategy_files)}
    strategy = get_strategy(name, loaded)
    info = strategy.to_dict()
    info["knobs"] = {k: KNOBS[k].parameter for k in sorted({*strategy.multipliers, *strategy.values})}
    if strategy.anchor is not None:
        solved = solve_anchor(strategy)
        info["anchoring"] = solved.to_dict()
        combined = combine([strategy], {strategy.name: solved.loss_factor})
        info["li_cu_parameters"] = coin_cell_overrides(combined, strategy.anchor.current_density_mA_cm2)
    emit(to_json(info) if fmt == "json" else _show_table(info), out)


def _show_table(info: dict[str, Any]) -> str:
    lines = [f"{info['name']} ({info['family']})", f"  {info['description']}", f"  source: {info['source']}"]
    anchor = info.get("anchor")
    if anchor:
        lines.append(f"  anchor: Li||Cu CE {100 * anchor['coulombic_efficiency']:.2f} % at "
                     f"{anchor['current_density_mA_cm2']:g} mA/cm2, {anchor['capacity_mAh_cm2']:g} mAh/cm2"
                     + (f" ({anchor['note']})" if anchor.get("note") else ""))
    if "anchoring" in info:
        a = info["anchoring"]
        lines.append(f"  solved: loss factor {a['loss_factor']:.4g} -> simulated CE {100 * a['simulated_ce']:.3f} %")
    lines.append(f"  effective area factor {info['effective_area_factor']:g}, "
                 f"dendrite threshold factor {info['dendrite_threshold_factor']:g}")
    for kind in ("multipliers", "values"):
        for knob, value in info[kind].items():
            lines.append(f"  {kind[:-1]:10} {knob} = {value:g}   ({info['knobs'][knob]})")
    if "li_cu_parameters" in info:
        lines.append("  Li||Cu test parameters:")
        lines.extend(f"    {k} = {v:.4g}" for k, v in sorted(info["li_cu_parameters"].items()))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# twin predict --cell li-cu|li-li


def run_test_cell(test_cell: dict[str, Any], strategies: list[Any], cycles: int | None,
                  temperature_degC: float = 25.0) -> tuple[Any, dict[str, Any] | None]:
    """Run the Li||Cu or Li||Li test of `twin predict --cell` with the strategies given,
    at `temperature_degC` (the Arrhenius laws of the Li-metal submodels); returns the
    result and the combined strategy's description (None without one)."""
    from twin.lab_cells import run_lab_cell

    if test_cell["cell"] == "li-cu" and test_cell["ce_protocol"] != "reservoir" and cycles is not None and cycles < 2:
        raise InputError("--max-cycles: a Li||Cu test needs at least 2 cycles")
    if not -30 <= temperature_degC <= 80:
        raise InputError(f"--temperature must lie between -30 and 80 degC, got {temperature_degC}")
    return run_lab_cell(test_cell["cell"], strategies, current_density_mA_cm2=test_cell["current_density_mA_cm2"],
                        capacity_mAh_cm2=test_cell["capacity_mAh_cm2"], cycles=cycles,
                        ce_protocol=test_cell["ce_protocol"], cutoff_V=test_cell["cutoff_V"],
                        overpotential_limit_V=test_cell["overpotential_limit_V"],
                        foil_thickness_um=test_cell["foil_thickness_um"], temperature_degC=temperature_degC)


def render_test_cell(result: Any, strategies: dict[str, Any] | None, fmt: str) -> str:
    """A test-cell result as JSON (its to_dict plus "strategies"), CSV or a table."""
    data = result.to_dict()
    data["strategies"] = strategies
    if fmt == "json":
        return to_json(data)
    cycles = getattr(result, "cycles", None)
    if fmt == "csv":
        import pandas as pd

        frame = cycles if cycles is not None else pd.DataFrame([{k: v for k, v in data.items()
                                                                  if not isinstance(v, dict)}])
        return frame.to_csv(index=False)
    names = ", ".join(data["strategies"]["names"]) if data["strategies"] else "none (twin baseline)"
    test = data["inputs"]["test"]
    head = [f"cell        {data['cell']} ({data.get('protocol', 'symmetric')}), "
            f"{test['current_density_mA_cm2']:g} mA/cm2, strategies: {names}"]
    if data["cell"] == "li-li":
        life = "not reached" if data["lifespan_h"] is None else f"{data['lifespan_h']:.1f} h"
        head.append(f"lifespan    {life} (overpotential limit {1000 * test['overpotential_limit_V']:g} mV), "
                    f"{data['cycles_completed']} cycles, end: {data['end_reason']}")
    else:
        head.append(f"average CE  {100 * data['average_coulombic_efficiency']:.3f} %")
        if data.get("reservoir_exhausted"):
            head.append("            the reservoir ran out: the Adams formula does not apply")
    head.append(f"elapsed     {data['elapsed_s']:.2f} s")
    text = "\n".join(head) + "\n"
    if cycles is not None:
        step = max(1, len(cycles) // 20)
        shown = cycles.iloc[sorted(set(range(0, len(cycles), step)) | {len(cycles) - 1})]
        text += "\n" + shown.to_string(index=False, float_format=lambda v: f"{v:.4f}") + "\n"
    return text

