"""Li||Cu and Li||Li test cells: the twin's Li-metal submodels in the cells papers report.

Papers report a protection strategy as a Li||Cu Coulombic efficiency or a symmetric
Li||Li lifetime. These are configurations of the twin: the same Li-metal submodels
(`LithiumInventory`, `PorousFoil`, `DepositMorphology`, `SEIFormation`, `LithiumMetalSEI`,
`DeadLithium`, `SurfaceRoughening`, `ElectrolyteConsumption`, `LithiumMetalUtilisation`,
`AnodeThickness`) around one
Li-metal working electrode, with a different cell around it (`TestCellVoltage`):

* **Li||Cu**: the Cu working electrode holds the finite Li inventory (none at the
  start); the thick Li counter electrode is an unlimited source of fresh Li. The
  current density is an input: plate a fixed areal capacity (time-controlled), then
  strip until the cell voltage reaches a cut-off (+0.5 V by default): the Li
  availability on Cu collapses and the inverse Butler-Volmer overpotential with that
  utilisation diverges. Two protocols:
  - the repeated test (plate Q, strip to the cut-off, repeat; the CE reported is the
    mean of the per-cycle CEs after the first few cycles, as labs report);
  - the reservoir protocol of Adams, Zheng, Cao, Xu, Zhang, Adv. Energy Mater. 8,
    1702097 (2018): a formation cycle (plate Q_T, strip to the cut-off), plate a
    reservoir Q_T, cycle Q_C = Q_T / 5 n times, strip everything to the cut-off (Q_S);
    CE_avg = (n Q_C + Q_S) / (n Q_C + Q_T).
* **Li||Li** (symmetric): a Li foil of finite thickness cycled at a current density
  and areal capacity until the cell overpotential passes a limit (lifespan in hours).
  **Mirror assumption**: both electrodes have the same state at all times (one is
  stripped while the other is plated by the same charge, so after every full cycle
  both have plated and stripped the same amount); the one simulated electrode carries
  the submodels, and the counter electrode's overpotential is that electrode's own
  kinetics and porous-layer resistance at the opposite current. The state lag of half
  a cycle between the two electrodes is neglected. The overpotential grows as dead Li
  and SEI build the porous layers (their resistance and, above all, the salt transport
  through them, `PorousLayerTransport`, which diverges at their limiting current), as
  the electrolyte is consumed (wetting falls, salt is lost) and, finally, as the foil's
  active Li runs out; the cell shorts when its dead-Li layer reaches the thickness
  `twin.dendrite.separator_short_threshold` gives for the separator, the current density
  against the limiting current and a coated separator, the full cells' rule (`end_reason`
  "short").

Every test is an exact ODE integration: each half-cycle is one IDAKLU step from the end
state of the previous one (time-controlled or ended by a voltage event); the
discretised model is built once per cell kind and all parameters are inputs, so a
20-cycle Li||Cu test takes about 0.1 s.

The coin cell around the electrodes: a 25 um, 39 % porous polyolefin separator
(Celgard 2400-like), flooded with 20 uL/cm2 of electrolyte whose transport properties
are those of the twin's baseline LiPF6 EC:EMC (Chen2020/Nyman2008) electrolyte; Li
metal kinetics from Xu et al., J. Electrochem. Soc. 166, A3456 (2019).

The package by concern: `protocols` (the tests, their checks and results; no PyBaMM),
`cell` (the cell model, coin-cell parameters, the half-cycle stepper), `runs` (running
the tests). Import from here.
"""

from __future__ import annotations

from twin.test_cells.cell import (  # noqa: F401
    TestCellVoltage, build_test_cell_model, coin_cell_parameter_values, electrolyte_mass_kg_m2,
)
from twin.test_cells.protocols import (  # noqa: F401
    CURRENT_INPUT, ELECTROLYTE_DENSITY_KG_M3, FIXED_PARAMETERS, FLOODED_ELECTROLYTE_UL_CM2, SEPARATOR_POROSITY,
    SEPARATOR_THICKNESS_M, TEST_CELLS, VOLTAGE_LIMIT_INPUT, LiCuResult, LiCuTest, ReservoirResult, ReservoirTest,
    SymmetricResult, SymmetricTest, TestCellError, TestCellSolverError, mAh_cm2, mol_m2,
)
from twin.test_cells.runs import run_li_cu, run_reservoir, run_symmetric  # noqa: F401
from twin.units import A_M2_PER_MA_CM2  # noqa: F401 - importable from here as before
