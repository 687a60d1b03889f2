"""Lab test cells with protection strategies: the Li||Cu Coulombic-efficiency test and
the Li||Li symmetric-cell lifespan, with the defaults a lab uses.

`run_lab_cell` is what `twin predict --cell li-cu|li-li` and `twin.li_cu` /
`twin.li_li` run: the strategies' anchored parameter changes applied to the coin-cell
model of `twin.test_cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twin.test_cells import TestCellError

LAB_CELLS = ("li-cu", "li-li")
# Lab practice: Li||Cu CE at 0.5 mA/cm2 (Adams et al. 2018), Li||Li at 1 mA/cm2.
DEFAULT_CURRENT_DENSITY_MA_CM2: dict[str, float] = {"li-cu": 0.5, "li-li": 1.0}
DEFAULT_TEST_CYCLES: dict[str, int] = {"li-cu": 20, "li-li": 1000}
DEFAULT_RESERVOIR_CYCLES = 10
# The reservoir Q_T of the Adams protocol is this many times the cycled capacity.
RESERVOIR_PER_CYCLED_CAPACITY = 5
CE_PROTOCOLS = ("repeated", "reservoir")


def run_lab_cell(
    cell: str,
    strategies: Sequence[Any] = (),
    *,
    current_density_mA_cm2: float | None = None,
    capacity_mAh_cm2: float = 1.0,
    cycles: int | None = None,
    ce_protocol: str = "repeated",
    cutoff_V: float = 0.5,
    overpotential_limit_V: float = 0.1,
    foil_thickness_um: float = 50.0,
    temperature_degC: float = 25.0,
) -> tuple[Any, dict[str, Any] | None]:
    """Run a Li||Cu or Li||Li test with protection strategies.

    Parameters
    ----------
    cell : {"li-cu", "li-li"}
        Li||Cu Coulombic-efficiency test or Li||Li symmetric cell.
    strategies : sequence of str or twin.strategies.Strategy
        Protection strategies (preset names or objects); empty: the unprotected cell.
    current_density_mA_cm2 : float, optional
        Test current density [mA/cm2]; default 0.5 (li-cu) or 1.0 (li-li).
    capacity_mAh_cm2 : float
        Capacity plated per (half-)cycle [mAh/cm2]; the reservoir protocol's reservoir
        Q_T is 5 times this.
    cycles : int, optional
        Cycles (li-li: the most cycles); default 20 (li-cu), 10 (reservoir), 1000 (li-li).
    ce_protocol : {"repeated", "reservoir"}
        li-cu: repeated plate/strip, or the Adams et al. (2018) reservoir protocol.
    cutoff_V : float
        li-cu: stripping cut-off voltage [V vs Li].
    overpotential_limit_V : float
        li-li: end of life when the cell overpotential passes this [V].
    foil_thickness_um : float
        li-li: Li foil thickness of each electrode [um].
    temperature_degC : float
        Cell temperature [degC], -30 to 80 (the Arrhenius laws of the Li-metal submodels).

    Returns
    -------
    tuple
        The test result (`twin.test_cells.LiCuResult`, `ReservoirResult` or
        `SymmetricResult`) and the combined strategy's description (None without one).
    """
    from twin.anchoring import coin_cell_overrides
    from twin.strategies import prepare
    from twin.test_cells import LiCuTest, ReservoirTest, SymmetricTest, run_li_cu, run_reservoir, run_symmetric

    if cell not in LAB_CELLS:
        raise TestCellError("cell", f"unknown lab cell {cell!r} (legal values: {', '.join(LAB_CELLS)})")
    if ce_protocol not in CE_PROTOCOLS:
        raise TestCellError("ce_protocol", f"unknown protocol {ce_protocol!r} (legal values: {', '.join(CE_PROTOCOLS)})")
    if current_density_mA_cm2 is not None and not current_density_mA_cm2 > 0:  # zero never means "default"
        raise TestCellError("current_density_mA_cm2",
                            f"current density must be > 0 mA/cm2, got {current_density_mA_cm2!r}")
    j = DEFAULT_CURRENT_DENSITY_MA_CM2[cell] if current_density_mA_cm2 is None else current_density_mA_cm2
    combined = prepare(strategies) if strategies else None
    parameters = coin_cell_overrides(combined, j)
    if isinstance(temperature_degC, bool) or not isinstance(temperature_degC, (int, float)) \
            or not -30 <= temperature_degC <= 80:
        raise TestCellError("temperature_degC", f"must lie between -30 and 80 degC, got {temperature_degC!r}")
    parameters["Ambient temperature [K]"] = temperature_degC + 273.15
    q = capacity_mAh_cm2
    if cell == "li-li":
        test = SymmetricTest(current_density_mA_cm2=j, capacity_mAh_cm2=q,
                             max_cycles=cycles or DEFAULT_TEST_CYCLES[cell],
                             foil_thickness_um=foil_thickness_um, overpotential_limit_V=overpotential_limit_V)
        # a coated separator resists the short (`twin.dendrite.short_layer_thickness_m`)
        coating = 1.0 if combined is None else combined.dendrite_threshold_factor
        result = run_symmetric(test, parameters, separator_coating_factor=coating)
    elif ce_protocol == "reservoir":
        result = run_reservoir(ReservoirTest(current_density_mA_cm2=j,
                                             reservoir_mAh_cm2=RESERVOIR_PER_CYCLED_CAPACITY * q,
                                             cycles=cycles or DEFAULT_RESERVOIR_CYCLES, cutoff_V=cutoff_V),
                               parameters)
    else:
        n = cycles or DEFAULT_TEST_CYCLES[cell]
        if n < 2:
            raise TestCellError("cycles", "a Li||Cu test needs at least 2 cycles")
        result = run_li_cu(LiCuTest(current_density_mA_cm2=j, capacity_mAh_cm2=q, cycles=n,
                                    discard_cycles=min(3, n - 1), cutoff_V=cutoff_V), parameters)
    return result, None if combined is None else combined.to_dict()
