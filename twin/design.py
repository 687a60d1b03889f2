"""The cell design a user asks about: cathode, areal capacity, N:P, electrolyte, stack.

Pure data and validation (no PyBaMM here); `twin.cell_parameters` turns a design
into PyBaMM parameter values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from twin.errors import DesignError
from twin.units import dense_li_thickness_m

CATHODES: dict[str, str] = {
    "NMC811": "LiNi0.8Mn0.1Co0.1O2, PyBaMM Chen2020 positive electrode",
    "LFP": "LiFePO4, PyBaMM Prada2013 positive electrode",
}

# A Li foil thinner than this cannot be made or handled; thicker than the upper
# bound is no longer a Li-metal *cell* design question.
MIN_LI_FOIL_THICKNESS_UM = 1.0
MAX_LI_FOIL_THICKNESS_UM = 750.0


@dataclass(frozen=True)
class CellDesign:
    """A lithium-metal cell design (one unit cell repeated `layers` times).

    N:P is the Li-metal capacity over the cathode capacity; 0 is anode-free
    (Li plated on bare Cu). The cathode is made lithiated, so all foil Li is excess.
    """

    cathode: str = "NMC811"
    areal_capacity_mAh_cm2: float = 4.0
    np_ratio: float = 2.0
    electrolyte_g_per_Ah: float = 3.0
    separator_thickness_um: float = 12.0
    separator_porosity: float = 0.47
    electrode_area_cm2: float = 25.0
    layers: int = 10
    temperature_degC: float = 25.0
    copper_foil_um: float = 8.0
    aluminium_foil_um: float = 12.0
    # Uniaxial stack pressure [kPa]; 300 kPa is the coin-cell pressure the CE anchors
    # are taken at (twin.parameters.stack_pressure).
    stack_pressure_kPa: float = 300.0

    def __post_init__(self) -> None:
        validate_design(self)

    @property
    def li_foil_thickness_um(self) -> float:
        """Dense Li foil thickness [um] implied by N:P and the areal capacity."""
        return dense_li_thickness_m(self.np_ratio * self.areal_capacity_mAh_cm2) * 1e6

    @property
    def nominal_capacity_Ah(self) -> float:
        """Cell capacity [Ah] from the areal capacity, area and layer count."""
        return self.areal_capacity_mAh_cm2 * self.electrode_area_cm2 * self.layers / 1000

    @property
    def is_anode_free(self) -> bool:
        return self.np_ratio == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CellDesign:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DesignError(unknown[0], f"unknown design field (known: {', '.join(sorted(known))})")
        return cls(**values)


def _require_number(name: str, value: Any, *, minimum: float, maximum: float,
                    allow_zero: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DesignError(name, f"must be a number, got {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise DesignError(name, f"must be a finite number, got {value}")
    if value < 0:
        raise DesignError(name, f"must not be negative, got {value}")
    if value == 0 and not allow_zero:
        raise DesignError(name, "must be greater than zero")
    if not minimum <= value <= maximum:
        raise DesignError(name, f"must lie between {minimum} and {maximum}, got {value}")


def validate_design(design: CellDesign) -> None:
    """Raise DesignError naming the first invalid field of `design`."""
    if design.cathode not in CATHODES:
        raise DesignError("cathode", f"unknown chemistry {design.cathode!r} (known: {', '.join(CATHODES)})")
    _require_number("areal_capacity_mAh_cm2", design.areal_capacity_mAh_cm2,
                    minimum=0.1, maximum=12.0, allow_zero=False)
    _require_number("np_ratio", design.np_ratio, minimum=0.0, maximum=100.0)
    _require_number("electrolyte_g_per_Ah", design.electrolyte_g_per_Ah,
                    minimum=0.3, maximum=200.0, allow_zero=False)
    _require_number("separator_thickness_um", design.separator_thickness_um,
                    minimum=2.0, maximum=100.0, allow_zero=False)
    _require_number("separator_porosity", design.separator_porosity,
                    minimum=0.2, maximum=0.9, allow_zero=False)
    _require_number("electrode_area_cm2", design.electrode_area_cm2,
                    minimum=0.1, maximum=10_000.0, allow_zero=False)
    if isinstance(design.layers, bool) or not isinstance(design.layers, int) or design.layers < 1:
        raise DesignError("layers", f"must be a whole number of at least 1, got {design.layers!r}")
    _require_number("copper_foil_um", design.copper_foil_um, minimum=1.0, maximum=50.0)
    _require_number("aluminium_foil_um", design.aluminium_foil_um, minimum=1.0, maximum=50.0)
    _require_number("stack_pressure_kPa", design.stack_pressure_kPa, minimum=0.0, maximum=10_000.0)
    t = design.temperature_degC
    if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t) or not -30 <= t <= 80:
        raise DesignError("temperature_degC", f"must lie between -30 and 80 degC, got {t!r}")
    if design.np_ratio > 0:
        foil_um = design.li_foil_thickness_um
        if foil_um < MIN_LI_FOIL_THICKNESS_UM:
            raise DesignError(
                "np_ratio",
                f"N:P {design.np_ratio} needs a {foil_um:.2f} um Li foil, thinner than "
                f"{MIN_LI_FOIL_THICKNESS_UM} um can be made; use 0 for an anode-free cell",
            )
        if foil_um > MAX_LI_FOIL_THICKNESS_UM:
            raise DesignError(
                "np_ratio",
                f"N:P {design.np_ratio} needs a {foil_um:.0f} um Li foil, thicker than "
                f"{MAX_LI_FOIL_THICKNESS_UM:.0f} um",
            )
