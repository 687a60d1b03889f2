"""The Python API of design studies, behind `import twin`: `sweep` a grid of designs and
`compare` a few side by side (what `twin sweep` and `twin compare` run).

Defaults are the CLI's: fast mode, end of life at 80 % of the first discharge
capacity, at most 1000 cycles, SPM, all cores. Worker processes are spawned, so a
script calling these with `workers` > 1 needs the usual `if __name__ == "__main__":`
guard (a notebook does not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twin.experiments.sweep import NO_STRATEGY, STRATEGY_JOINER, DesignCase, RunSettings

if TYPE_CHECKING:
    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.results import Comparison, SweepTable


def _settings(max_cycles: int, eol_fraction: float, cell_model: str, mode: str,
              overrides: Mapping[str, float] | None, stop_on_dendrite_risk: bool) -> RunSettings:
    from twin.experiments.sweep import overrides_tuple, resolve_mode

    return RunSettings(eol_fraction=eol_fraction, max_cycles=max_cycles, cell_model=cell_model,
                       mode=resolve_mode(mode), overrides=overrides_tuple(overrides),
                       stop_on_dendrite_risk=stop_on_dendrite_risk)


def sweep(
    np_ratios: Sequence[float] = (0, 1, 2, 3),
    areal_capacities_mAh_cm2: Sequence[float] = (4,),
    electrolyte_g_per_Ah: Sequence[float] = (3,),
    charge_rates_C: Sequence[float] = (0.3,),
    strategies: Sequence[str] = (NO_STRATEGY,),
    *,
    design: CellDesign | None = None,
    protocol: Protocol | None = None,
    out: str | Path | None = None,
    max_cycles: int = 1000,
    eol_fraction: float = 0.8,
    cell_model: str = "spm",
    mode: str = "fast",
    overrides: Mapping[str, float] | None = None,
    stop_on_dendrite_risk: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepTable:
    """Cycle life of every design on a grid, one row per design (`twin sweep`).

    Parameters
    ----------
    np_ratios : sequence of float
        N:P values (Li-metal / cathode capacity; 0 = anode-free).
    areal_capacities_mAh_cm2 : sequence of float
        Cathode areal capacities [mAh/cm2].
    electrolyte_g_per_Ah : sequence of float
        Electrolyte amounts [g/Ah].
    charge_rates_C : sequence of float
        CC charge rates [C].
    strategies : sequence of str
        Protection strategies per design ("none", a preset name, "a+b").
    design, protocol : optional
        The values of every other field (cathode, temperature, discharge rate...).
    out : str or Path, optional
        Write the table here (.csv or .parquet); rerunning with the same file resumes
        (finished designs are read back, not recomputed). None: keep it in memory.
    max_cycles, eol_fraction, cell_model, mode, overrides, stop_on_dendrite_risk
        As for `twin.predict`.
    workers : int, optional
        Parallel processes; default all cores.
    progress : callable, optional
        Called with 1 after each finished design.

    Returns
    -------
    SweepTable
        `table` (pandas DataFrame, one row per design) and `plot()` (cycle-life heatmap).
    """
    from twin.design import CellDesign
    from twin.experiments.sweep import (
        check_cases, check_strategies_supported, default_workers, expand_grid, map_cases, rows_to_table,
        run_case, run_sweep, with_shared_inputs,
    )
    from twin.protocol import Protocol
    from twin.results import SweepTable

    cases = expand_grid(design if design is not None else CellDesign(), protocol or Protocol(),
                        np_ratios=np_ratios, areal_capacities_mAh_cm2=areal_capacities_mAh_cm2,
                        electrolyte_g_per_Ah=electrolyte_g_per_Ah, charge_rates_C=charge_rates_C,
                        strategies=strategies)
    settings = _settings(max_cycles, eol_fraction, cell_model, mode, overrides, stop_on_dendrite_risk)
    if out is not None:
        result = run_sweep(cases, settings, Path(out), workers=workers, progress=progress)
        return SweepTable(result.table, result.out, result.reused, result.computed)
    check_strategies_supported(cases)
    check_cases(cases, settings)
    rows: list = [None] * len(cases)
    for i, row in map_cases(run_case, cases, with_shared_inputs(cases, settings), workers or default_workers()):
        rows[i] = row
        if progress is not None:
            progress(1)
    return SweepTable(rows_to_table(rows), None, 0, len(cases))


def _label(design: CellDesign, strategy: str) -> str:
    text = (f"N:P {design.np_ratio:g}, {design.areal_capacity_mAh_cm2:g} mAh/cm2, "
            f"{design.electrolyte_g_per_Ah:g} g/Ah")
    return text if strategy == NO_STRATEGY else f"{text}, {strategy}"


def compare(
    designs: Sequence[CellDesign],
    protocol: Protocol | None = None,
    *,
    labels: Sequence[str] | None = None,
    strategies: Sequence[str | Sequence[str]] | None = None,
    protocols: Sequence[Protocol] | None = None,
    max_cycles: int = 1000,
    eol_fraction: float = 0.8,
    cell_model: str = "spm",
    mode: str = "fast",
    overrides: Mapping[str, float] | None = None,
    stop_on_dendrite_risk: bool = False,
    workers: int | None = None,
) -> Comparison:
    """Forecast two or more designs and put them side by side (`twin compare`).

    Parameters
    ----------
    designs : sequence of CellDesign
        The cells to compare (at least two).
    protocol : Protocol, optional
        How every design is cycled (default `Protocol()`); `protocols` gives one each.
    labels : sequence of str, optional
        Names for tables and legends; default from N:P, areal capacity, electrolyte.
    strategies : sequence, optional
        Per design: a strategy name, "a+b", a list of names, or "none".
    max_cycles, eol_fraction, cell_model, mode, overrides, stop_on_dendrite_risk
        As for `twin.predict`.
    workers : int, optional
        Parallel processes; default all cores.

    Returns
    -------
    Comparison
        `table` (one row per design: cycle life, end-of-life reason, swelling [%], dead
        and SEI Li [mAh/cm2]...), `predictions` (each a PredictionResult), `plot()`.
    """
    from twin.experiments.sweep import (
        SweepError, _normalise_strategy, check_cases, check_strategies_supported, default_workers,
        predict_cases, rows_to_table, summarize,
    )
    from twin.protocol import Protocol
    from twin.results import Comparison, predictions_of

    designs = list(designs)
    if len(designs) < 2:
        raise SweepError("designs: give at least two designs to compare")
    for name, values in (("labels", labels), ("strategies", strategies), ("protocols", protocols)):
        if values is not None and len(values) != len(designs):
            raise SweepError(f"{name}: {len(values)} given for {len(designs)} designs")
    cases = []
    for i, design in enumerate(designs):
        spec = NO_STRATEGY if strategies is None else strategies[i]
        strategy = _normalise_strategy(spec if isinstance(spec, str) else STRATEGY_JOINER.join(spec))
        label = labels[i] if labels is not None else _label(design, strategy)
        cycled = protocols[i] if protocols is not None else (protocol or Protocol())
        cases.append(DesignCase(design, cycled, strategy, label))
    settings = _settings(max_cycles, eol_fraction, cell_model, mode, overrides, stop_on_dendrite_risk)
    check_strategies_supported(cases)
    check_cases(cases, settings)
    predictions = predict_cases(cases, settings, workers or default_workers())
    table = rows_to_table([summarize(case, settings, p) for case, p in zip(cases, predictions)])
    return Comparison(table, predictions_of(predictions))
