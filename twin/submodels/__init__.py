"""PyBaMM submodels for what kills a lithium-metal anode (one effect per file)."""

from twin.submodels.activation import ActivationTransient
from twin.submodels.anode_thickness import AnodeThickness
from twin.submodels.cathode_fade import CathodeMaterialLoss
from twin.submodels.dead_lithium import DeadLithium
from twin.submodels.deposit_morphology import DepositMorphology
from twin.submodels.electrolyte_consumption import ElectrolyteConsumption
from twin.submodels.li_metal_interface import (
    CathodeWetting,
    LithiumMetalKinetics,
    LithiumMetalUtilisation,
)
from twin.submodels.li_metal_sei import LithiumMetalSEI
from twin.submodels.lithium_inventory import LithiumInventory
from twin.submodels.options import CELL_MODELS, LITHIUM_METAL_OPTIONS, LithiumMetalOptions
from twin.submodels.porous_foil import PorousFoil
from twin.submodels.porous_layer_transport import PorousLayerTransport
from twin.submodels.salt_depletion import SaltDepletion
from twin.submodels.sei_formation import SEIFormation
from twin.submodels.surface_roughening import SurfaceRoughening

__all__ = [
    "ActivationTransient", "AnodeThickness", "CathodeMaterialLoss", "CathodeWetting", "CELL_MODELS", "DeadLithium", "DepositMorphology", "ElectrolyteConsumption",
    "LITHIUM_METAL_OPTIONS", "LithiumInventory", "LithiumMetalKinetics", "LithiumMetalOptions",
    "LithiumMetalSEI", "LithiumMetalUtilisation", "PorousFoil", "PorousLayerTransport", "SaltDepletion",
    "SEIFormation", "SurfaceRoughening",
]
