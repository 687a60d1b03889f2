"""Build PyBaMM's half-cell model with the twin's Li-metal anode submodels."""

from __future__ import annotations

from collections.abc import Mapping

import pybamm

from twin.errors import OptionError
from twin.submodels import (
    CELL_MODELS,
    ActivationTransient,
    AnodeThickness,
    CathodeMaterialLoss,
    CathodeWetting,
    DeadLithium,
    DepositMorphology,
    ElectrolyteConsumption,
    LithiumInventory,
    LithiumMetalKinetics,
    LithiumMetalOptions,
    LithiumMetalSEI,
    LithiumMetalUtilisation,
    PorousFoil,
    PorousLayerTransport,
    SaltDepletion,
    SEIFormation,
    SurfaceRoughening,
)

_MODEL_CLASSES = {
    "spm": pybamm.lithium_ion.SPM,
    "spme": pybamm.lithium_ion.SPMe,
    "dfn": pybamm.lithium_ion.DFN,
}

# Quantities reported per cycle: value at the end of the cycle and its change.
SUMMARY_VARIABLES = [
    "Active lithium metal [mol.m-2]",
    "Dead lithium [mol.m-2]",
    "Li-metal SEI lithium [mol.m-2]",
    "Cumulative lithium plated [mol.m-2]",
    "Cumulative lithium stripped [mol.m-2]",
    "Total lithium [mol.m-2]",
    "Lithium in positive electrode [mol.m-2]",
    "Anode thickness [m]",
    "Swelling [%]",
    "Electrolyte mass [kg.m-2]",
    "Electrolyte wetting fraction",
    "Electrolyte salt [mol.m-2]",
    "Li-metal surface area factor",
    "Plated lithium deposit [mol.m-2]",
    "Porous foil lithium [mol.m-2]",
    "Lithium plated since assembly [mol.m-2]",
    "Positive electrode active material retained fraction",
    "Lithium lost with positive electrode active material [mol.m-2]",
]


def build_model(cell_model: str = "spm", options: Mapping[str, str] | None = None) -> pybamm.BaseModel:
    """PyBaMM half-cell model (`{"working electrode": "positive"}`: the negative
    electrode is Li metal) of kind `cell_model`, with the twin's Li-metal submodels."""
    if cell_model not in _MODEL_CLASSES:
        raise OptionError(f"unknown cell model {cell_model!r} (legal values: {', '.join(CELL_MODELS)})")
    li_options = LithiumMetalOptions(options)
    model = _MODEL_CLASSES[cell_model]({"working electrode": "positive"}, build=False)
    model.name = f"Li-metal twin ({cell_model.upper()})"
    param, pb_options = model.param, model.options
    model.submodels["Negative interface utilisation"] = LithiumMetalUtilisation(param, pb_options)
    model.submodels["Positive interface utilisation"] = CathodeWetting(param, pb_options)
    model.submodels["negative electrode interface"] = LithiumMetalKinetics(
        param, "negative", "lithium metal plating", pb_options
    )
    model.submodels["lithium inventory"] = LithiumInventory(param, pb_options)
    model.submodels["deposit morphology"] = DepositMorphology(param, li_options)
    model.submodels["activation transient"] = ActivationTransient(param, li_options)
    model.submodels["sei formation"] = SEIFormation(param, li_options)
    model.submodels["lithium metal sei"] = LithiumMetalSEI(param, li_options)
    model.submodels["dead lithium"] = DeadLithium(param, li_options)
    model.submodels["surface roughening"] = SurfaceRoughening(param, li_options)
    model.submodels["porous foil"] = PorousFoil(param, li_options)
    model.submodels["electrolyte consumption"] = ElectrolyteConsumption(param, li_options)
    model.submodels["salt depletion"] = SaltDepletion(param, li_options)
    model.submodels["porous layer transport"] = PorousLayerTransport(param, li_options, layers=1,
                                                                     include_separator=False, depletion_only=True)
    model.submodels["anode thickness"] = AnodeThickness(param, pb_options)
    model.submodels["positive primary active material"] = CathodeMaterialLoss(param, pb_options)
    model.build_model()
    _add_lithium_balance(model)
    model.summary_variables = list(SUMMARY_VARIABLES)
    model.lithium_metal_options = li_options
    return model


def _add_lithium_balance(model: pybamm.BaseModel) -> None:
    """Total Li per electrode area: cathode + electrolyte + active + dead + SEI Li + the
    Li lost with cathode material.

    The electrolyte holds PyBaMM's pore electrolyte (at its own concentration) less the
    salt consumed since the start of the run, whose Li went into the SEI with its anion
    (`ElectrolyteConsumption`): it is counted there."""
    area = model.param.A_cc
    v = model.variables
    cathode = v["Total lithium in positive electrode [mol]"] / area
    salt_li_in_sei = v["Salt lithium in SEI [mol.m-2]"]
    electrolyte = v["Total lithium in electrolyte [mol]"] / area - salt_li_in_sei
    v["Lithium in positive electrode [mol.m-2]"] = cathode
    v["Lithium in electrolyte [mol.m-2]"] = electrolyte
    v["Total lithium [mol.m-2]"] = (
        cathode + electrolyte + v["Active lithium metal [mol.m-2]"]
        + v["Dead lithium [mol.m-2]"] + v["Li-metal SEI lithium [mol.m-2]"] + salt_li_in_sei
        + v["Lithium lost with positive electrode active material [mol.m-2]"]
    )
