"""The cell design a user asks about: cathode, areal capacity, N:P, electrolyte, stack.

Pure data and validation (no PyBaMM here); `twin.cell_parameters` turns a design
into PyBaMM parameter values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from twin.errors import DesignError
from twin.field_specs import spec_field, validate_fields
from twin.units import dense_li_thickness_m

CATHODES: dict[str, str] = {
    "NMC811": "LiNi0.8Mn0.1Co0.1O2, PyBaMM Chen2020 positive electrode",
    "NMC622": "LiNi0.6Mn0.2Co0.2O2, composed from Chen2020 and Noh et al. 2013 (twin.parameters.nmc622)",
    "NMC532": "LiNi0.5Mn0.3Co0.2O2, PyBaMM Xu2019 (Li||NMC532 half-cell) positive electrode",
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

    cathode: str = spec_field("NMC811", unit="", help="Cathode chemistry", check="choice",
                              choices=tuple(CATHODES), noun="chemistry", flag="--cathode")
    areal_capacity_mAh_cm2: float = spec_field(4.0, unit="mAh/cm2", help="Cathode areal capacity",
                                               minimum=0.1, maximum=12.0, allow_zero=False,
                                               flag="--areal-capacity")
    np_ratio: float = spec_field(2.0, unit="", help="Li-metal capacity / cathode capacity; 0 = anode-free",
                                 minimum=0.0, maximum=100.0, flag="--np-ratio")
    electrolyte_g_per_Ah: float = spec_field(3.0, unit="g/Ah", help="Electrolyte amount", minimum=0.3,
                                             maximum=200.0, allow_zero=False, flag="--electrolyte-amount")
    separator_thickness_um: float = spec_field(12.0, unit="um", help="Separator thickness", minimum=2.0,
                                               maximum=100.0, allow_zero=False, flag="--separator-thickness")
    separator_porosity: float = spec_field(0.47, unit="", help="Separator porosity", minimum=0.2, maximum=0.9,
                                           allow_zero=False)
    electrode_area_cm2: float = spec_field(25.0, unit="cm2", help="Electrode area of one layer", minimum=0.1,
                                           maximum=10_000.0, allow_zero=False, flag="--electrode-area")
    layers: int = spec_field(10, unit="", help="Unit cells stacked in parallel (pouch)", check="count",
                             minimum=1, maximum=1000, flag="--layers")
    temperature_degC: float = spec_field(25.0, unit="degC", help="Cell temperature", check="range",
                                         minimum=-30, maximum=80, flag="--temperature")
    copper_foil_um: float = spec_field(8.0, unit="um", help="Copper current collector thickness",
                                       minimum=1.0, maximum=50.0)
    aluminium_foil_um: float = spec_field(12.0, unit="um", help="Aluminium current collector thickness",
                                          minimum=1.0, maximum=50.0)
    # 300 kPa: the coin-cell pressure the CE anchors are taken at (twin.parameters.stack_pressure)
    stack_pressure_kPa: float = spec_field(300.0, unit="kPa",
                                           help="Uniaxial stack pressure; denser deposits, less dead Li",
                                           minimum=0.0, maximum=10_000.0, flag="--stack-pressure")

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


def validate_design(design: CellDesign) -> None:
    """Raise DesignError naming the first invalid field of `design` (each field's rule
    is in its `FieldSpec`; the Li foil limits below involve two fields)."""
    validate_fields(design, DesignError)
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
