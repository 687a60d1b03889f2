"""Lab test cells: the tests (Li||Cu repeated and reservoir, Li||Li symmetric), their
checks and their results. No PyBaMM here."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.errors import SimulationError, TwinInputError
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.units import dense_li_thickness_m, mAh_per_cm2_from_mol_per_m2, mol_per_m2_from_mAh_per_cm2

TEST_CELLS: tuple[str, ...] = ("li-cu", "li-li")
CURRENT_INPUT = "Working electrode current density [A.m-2]"
VOLTAGE_LIMIT_INPUT = "Test cell voltage limit [V]"
# Parameters held fixed in the discretised model (variable scales); all others are inputs.
FIXED_PARAMETERS = (P.reference_li_amount,)
# Coin-cell defaults (see the module docstring).
SEPARATOR_THICKNESS_M = 25e-6
SEPARATOR_POROSITY = 0.39
FLOODED_ELECTROLYTE_UL_CM2 = 20.0
ELECTROLYTE_DENSITY_KG_M3 = 1200.0



class TestCellError(TwinInputError):
    """An invalid test-cell protocol or parameter; the message names the field."""

    __test__ = False  # not a pytest test class

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"invalid test cell: {field_name}: {message}")


class TestCellSolverError(SimulationError):
    """The solver failed on a test cell (not a user mistake)."""

    __test__ = False


# Li amount [mol/m2] <-> areal capacity [mAh/cm2] (twin.units)
mol_m2 = mol_per_m2_from_mAh_per_cm2
mAh_cm2 = mAh_per_cm2_from_mol_per_m2


# ---------------------------------------------------------------------------------------
# Protocols and results


def _positive(name: str, value: float, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TestCellError(name, f"must be a finite number, got {value!r}")
    if not 0 < value <= maximum:
        raise TestCellError(name, f"must lie in (0, {maximum}], got {value}")


def _count(name: str, value: int, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise TestCellError(name, f"must be a whole number from {minimum} to {maximum}, got {value!r}")


@dataclass(frozen=True)
class LiCuTest:
    """Repeated Li||Cu CE test: plate `capacity_mAh_cm2` at `current_density_mA_cm2`,
    strip to `cutoff_V`, `cycles` times; the CE is the mean of the per-cycle CEs after
    the first `discard_cycles` (conditioning) cycles (default: 3, fewer for short tests)."""

    current_density_mA_cm2: float = 0.5
    capacity_mAh_cm2: float = 1.0
    cycles: int = 20
    discard_cycles: int | None = None
    cutoff_V: float = 0.5

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("capacity_mAh_cm2", self.capacity_mAh_cm2, 20.0)
        _count("cycles", self.cycles, 1, 10_000)
        if self.discard_cycles is None:
            object.__setattr__(self, "discard_cycles", min(3, self.cycles - 1))
        _count("discard_cycles", self.discard_cycles, 0, self.cycles - 1)
        _positive("cutoff_V", self.cutoff_V, 3.0)


@dataclass(frozen=True)
class ReservoirTest:
    """Adams et al. (2018) reservoir CE test: optional formation cycle, plate Q_T, cycle
    Q_C (default Q_T / 5) `cycles` times, strip all to the cut-off."""

    current_density_mA_cm2: float = 0.5
    reservoir_mAh_cm2: float = 5.0
    cycled_mAh_cm2: float | None = None
    cycles: int = 10
    cutoff_V: float = 0.5
    formation_cycle: bool = True

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("reservoir_mAh_cm2", self.reservoir_mAh_cm2, 50.0)
        if self.cycled_mAh_cm2 is not None:
            _positive("cycled_mAh_cm2", self.cycled_mAh_cm2, self.reservoir_mAh_cm2)
        _count("cycles", self.cycles, 1, 10_000)
        _positive("cutoff_V", self.cutoff_V, 3.0)

    @property
    def cycled_capacity_mAh_cm2(self) -> float:
        return self.cycled_mAh_cm2 if self.cycled_mAh_cm2 is not None else self.reservoir_mAh_cm2 / 5


@dataclass(frozen=True)
class SymmetricTest:
    """Li||Li cycling: strip then plate `capacity_mAh_cm2` at `current_density_mA_cm2`
    until the overpotential passes `overpotential_limit_V` or `max_cycles`."""

    current_density_mA_cm2: float = 1.0
    capacity_mAh_cm2: float = 1.0
    foil_thickness_um: float = 50.0
    electrolyte_uL_cm2: float = FLOODED_ELECTROLYTE_UL_CM2
    overpotential_limit_V: float = 0.1
    max_cycles: int = 1000

    def __post_init__(self) -> None:
        _positive("current_density_mA_cm2", self.current_density_mA_cm2, 50.0)
        _positive("capacity_mAh_cm2", self.capacity_mAh_cm2, 20.0)
        _positive("foil_thickness_um", self.foil_thickness_um, 1000.0)
        _positive("electrolyte_uL_cm2", self.electrolyte_uL_cm2, 1000.0)
        _positive("overpotential_limit_V", self.overpotential_limit_V, 5.0)
        _count("max_cycles", self.max_cycles, 1, 100_000)
        if dense_li_thickness_m(self.capacity_mAh_cm2) * 1e6 >= self.foil_thickness_um:
            raise TestCellError("foil_thickness_um", f"a {self.foil_thickness_um} um foil cannot deliver "
                                f"{self.capacity_mAh_cm2} mAh/cm2 per half-cycle")


@dataclass
class LiCuResult:
    """Per-cycle Li||Cu results and the CE a lab would report."""

    test: LiCuTest
    cycles: pd.DataFrame
    average_coulombic_efficiency: float
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-cu",
            "protocol": "repeated",
            "average_coulombic_efficiency": self.average_coulombic_efficiency,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
            "cycles": _records(self.cycles),
        }


@dataclass
class ReservoirResult:
    """Adams reservoir test: the charges and CE_avg = (n Q_C + Q_S) / (n Q_C + Q_T)."""

    test: ReservoirTest
    stripped_final_mAh_cm2: float
    average_coulombic_efficiency: float
    formation_coulombic_efficiency: float | None
    reservoir_exhausted: bool
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-cu",
            "protocol": "reservoir",
            "average_coulombic_efficiency": self.average_coulombic_efficiency,
            "stripped_final_mAh_cm2": self.stripped_final_mAh_cm2,
            "formation_coulombic_efficiency": self.formation_coulombic_efficiency,
            "reservoir_exhausted": self.reservoir_exhausted,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
        }


@dataclass
class SymmetricResult:
    """Li||Li lifespan: hours until the overpotential passed the limit (None if it did not
    within max_cycles), and the overpotential at the end of every half-cycle."""

    test: SymmetricTest
    lifespan_h: float | None
    cycles_completed: int
    end_reason: str
    cycles: pd.DataFrame
    elapsed_s: float
    parameters: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": "li-li",
            "lifespan_h": self.lifespan_h,
            "cycles_completed": self.cycles_completed,
            "end_reason": self.end_reason,
            "elapsed_s": round(self.elapsed_s, 3),
            "inputs": {"test": asdict(self.test), "parameters": self.parameters},
            "cycles": _records(self.cycles),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(value: Any) -> Any:
        if isinstance(value, (float, np.floating)):
            return None if math.isnan(value) else float(value)
        if isinstance(value, np.integer):
            return int(value)
        return value

    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
