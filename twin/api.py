"""The Python API of the physics layer, behind `import twin`: forecast a design, run
the lab test cells, look protocols and strategies up by name.

Defaults are the CLI's: `predict` runs in fast mode (representative cycles solved,
degradation states advanced between them), to 80 % of the first discharge capacity
or 1000 cycles, with PyBaMM's SPM on the cathode side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.results import LabCellResult, PredictionResult
    from twin.strategies import Strategy

# The CLI's defaults (`twin predict --help`).
DEFAULT_MODE = "fast"
DEFAULT_MAX_CYCLES = 1000
DEFAULT_EOL_FRACTION = 0.8
DEFAULT_CELL_MODEL = "spm"


def protocol_names() -> list[str]:
    """Names of the protocols that ship with the package (load one with
    `twin.load_named_protocol`)."""
    from twin.protocol_files import protocol_names as names

    return names()


def get_strategy(name: str, files: Sequence[str | Path] = ()) -> Strategy:
    """A protection strategy by preset name (see `strategy_names`), or defined in one of
    the TOML `files`; raises StrategyError naming an unknown one."""
    from twin.strategies import get_strategy as lookup, load_strategy_file

    extra = {s.name: s for s in (load_strategy_file(f) for f in files)}
    return lookup(name, extra)


def strategy_names() -> list[str]:
    """Names of the protection-strategy presets (Li||Cu CE anchored)."""
    from twin.strategies import presets

    return list(presets())


def strategy_example_files() -> list[Path]:
    """The example strategy TOML files that ship with the package (templates for your own)."""
    from importlib.resources import files

    folder = files("twin") / "experiments" / "strategies"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def _strategy_items(strategies: str | Sequence[str | Strategy] | None) -> list[str | Strategy]:
    """"a+b", ["a", "b"] or Strategy objects -> a flat list ("none" and empty: no strategy)."""
    from twin.strategies import parse_strategy_spec

    if strategies is None:
        return []
    if isinstance(strategies, str):
        strategies = [strategies]
    items: list[str | Strategy] = []
    for item in strategies:
        if isinstance(item, str):
            items.extend(name for name in parse_strategy_spec(item) if name.lower() != "none")
        else:
            items.append(item)
    return items


def predict(
    design: CellDesign | None = None,
    protocol: Protocol | str | Path | None = None,
    *,
    strategies: str | Sequence[str | Strategy] | None = None,
    max_cycles: int = DEFAULT_MAX_CYCLES,
    eol_fraction: float = DEFAULT_EOL_FRACTION,
    cell_model: str = DEFAULT_CELL_MODEL,
    mode: str = DEFAULT_MODE,
    stop_on_dendrite_risk: bool = False,
    overrides: Mapping[str, float] | None = None,
    options: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> PredictionResult:
    """Forecast the cycle life of one Li-metal cell design (what `twin predict` does).

    Parameters
    ----------
    design : CellDesign, optional
        The cell; default `CellDesign()` (NMC811, 4 mAh/cm2, N:P 2, 3 g/Ah, 25 degC).
    protocol : Protocol, str or Path, optional
        How it is cycled: a Protocol, a named protocol ("fast-charge") or a TOML file;
        default `Protocol()` (0.3 C CC-CV charge, 0.5 C discharge).
    strategies : str or sequence, optional
        Protection strategies: preset names ("a+b" combines), Strategy objects.
    max_cycles : int
        Stop here if end of life is not reached [cycles].
    eol_fraction : float
        End of life: this fraction of the first cycle's discharge capacity (0-1).
    cell_model : {"spm", "spme", "dfn"}
        PyBaMM cell model on the cathode side.
    mode : {"fast", "full"}
        fast: representative cycles solved, the degradation states advanced across the
        cycles between them (error-controlled); full: every cycle solved.
    stop_on_dendrite_risk : bool
        End of life at cycle 1 when the Chazalviel model flags the CC charge.
    overrides : mapping, optional
        Twin parameter values by full PyBaMM name (expert use).
    options : mapping, optional
        Li-metal submodel options, e.g. {"SEI on lithium metal": "diffusion limited"}.
    progress : callable, optional
        Called with the number of cycles just finished.

    Returns
    -------
    PredictionResult
        Cycle life, end-of-life reason, per-cycle DataFrame (`cycles`), `plot()`.
    """
    from twin.design import CellDesign
    from twin.protocol import Protocol
    from twin.results import PredictionResult
    from twin.simulation import predict_cycle_life

    design = design if design is not None else CellDesign()
    if protocol is None:
        protocol = Protocol()
    elif isinstance(protocol, (str, Path)):
        from twin.protocol_files import load_named_protocol

        protocol = load_named_protocol(protocol)
    prediction = predict_cycle_life(
        design, protocol, eol_fraction=eol_fraction, max_cycles=max_cycles, cell_model=cell_model,
        options=options, overrides=overrides, progress=progress, mode=mode,
        stop_on_dendrite_risk=stop_on_dendrite_risk, strategies=_strategy_items(strategies) or None,
    )
    return PredictionResult(prediction)


def li_cu(
    strategies: str | Sequence[str | Strategy] | None = None,
    *,
    current_density_mA_cm2: float | None = None,
    capacity_mAh_cm2: float = 1.0,
    cycles: int | None = None,
    ce_protocol: str = "repeated",
    cutoff_V: float = 0.5,
    temperature_degC: float = 25.0,
) -> LabCellResult:
    """The Li||Cu Coulombic-efficiency test (what `twin predict --cell li-cu` runs).

    Parameters
    ----------
    strategies : str or sequence, optional
        Protection strategies (preset names, "a+b", Strategy objects); none: bare Cu.
    current_density_mA_cm2 : float, optional
        Plating/stripping current density [mA/cm2]; default 0.5.
    capacity_mAh_cm2 : float
        Capacity plated per cycle [mAh/cm2] (reservoir protocol: Q_T is 5 times this).
    cycles : int, optional
        Plate/strip cycles; default 20 (reservoir protocol: 10).
    ce_protocol : {"repeated", "reservoir"}
        Repeated plate/strip, or the Adams et al. (2018) reservoir protocol.
    cutoff_V : float
        Stripping cut-off voltage [V vs Li].
    temperature_degC : float
        Cell temperature [degC] (Arrhenius laws of SEI growth and Li kinetics).

    Returns
    -------
    LabCellResult
        `coulombic_efficiency` (average, fraction), per-cycle `cycles`, `plot()`.
    """
    from twin.lab_cells import run_lab_cell
    from twin.results import LabCellResult

    result, combined = run_lab_cell("li-cu", _strategy_items(strategies),
                                    current_density_mA_cm2=current_density_mA_cm2,
                                    capacity_mAh_cm2=capacity_mAh_cm2, cycles=cycles,
                                    ce_protocol=ce_protocol, cutoff_V=cutoff_V,
                                    temperature_degC=temperature_degC)
    return LabCellResult(result, combined)


def li_li(
    strategies: str | Sequence[str | Strategy] | None = None,
    *,
    current_density_mA_cm2: float | None = None,
    capacity_mAh_cm2: float = 1.0,
    max_cycles: int | None = None,
    overpotential_limit_V: float = 0.1,
    foil_thickness_um: float = 50.0,
    temperature_degC: float = 25.0,
) -> LabCellResult:
    """The Li||Li symmetric-cell lifespan (what `twin predict --cell li-li` runs).

    Parameters
    ----------
    strategies : str or sequence, optional
        Protection strategies (preset names, "a+b", Strategy objects).
    current_density_mA_cm2 : float, optional
        Current density [mA/cm2]; default 1.0.
    capacity_mAh_cm2 : float
        Capacity stripped and plated per half-cycle [mAh/cm2].
    max_cycles : int, optional
        Most cycles; default 1000.
    overpotential_limit_V : float
        End of life when the cell overpotential passes this [V].
    foil_thickness_um : float
        Li foil thickness of each electrode [µm].
    temperature_degC : float
        Cell temperature [degC] (Arrhenius laws of SEI growth and Li kinetics).

    Returns
    -------
    LabCellResult
        `lifespan_h` [h] (None if not reached), per-cycle overpotentials, `plot()`.
    """
    from twin.lab_cells import run_lab_cell
    from twin.results import LabCellResult

    result, combined = run_lab_cell("li-li", _strategy_items(strategies),
                                    current_density_mA_cm2=current_density_mA_cm2,
                                    capacity_mAh_cm2=capacity_mAh_cm2, cycles=max_cycles,
                                    overpotential_limit_V=overpotential_limit_V,
                                    foil_thickness_um=foil_thickness_um, temperature_degC=temperature_degC)
    return LabCellResult(result, combined)


def parameter_values(design: CellDesign | None = None, protocol: Protocol | None = None,
                     overrides: Mapping[str, float] | None = None) -> Any:
    """The `pybamm.ParameterValues` of a design cycled with a protocol (default design
    and protocol when omitted): use them with `twin.build_model()` in PyBaMM directly."""
    from twin.cell_parameters import parameter_values as values
    from twin.design import CellDesign
    from twin.protocol import Protocol

    return values(design if design is not None else CellDesign(), protocol or Protocol(), overrides)
