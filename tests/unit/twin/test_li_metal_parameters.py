"""The Li-metal parameter names are declared once (twin.parameters.li_metal) and the
submodels, the parameter values and the search spaces all use those declarations."""

import pathlib
import re

import pybamm
import pytest

from twin.cell_parameters import parameter_values
from twin.design import CellDesign
from twin.parameters.li_metal import LithiumMetalParameters
from twin.protocol import Protocol

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_class_attributes_are_names_and_instance_attributes_are_symbols():
    names = LithiumMetalParameters.names()
    assert LithiumMetalParameters.dead_li_fraction == "Dead lithium fraction at reference current density"
    param = LithiumMetalParameters()
    for attr, name in names.items():
        symbol = getattr(param, attr)
        assert isinstance(symbol, pybamm.Parameter) and symbol.name == name
    assert len(set(names.values())) == len(names)  # one attribute per name
    with pytest.raises(AttributeError, match="no Li-metal parameter 'dead_li'"):
        param.dead_li


def test_every_declared_parameter_has_a_value_for_a_design():
    values = parameter_values(CellDesign(), Protocol())
    missing = [name for name in LithiumMetalParameters.names().values() if name not in values.keys()]
    assert missing == []


def test_the_submodels_spell_no_li_metal_parameter_name():
    declared = set(LithiumMetalParameters.names().values())
    for path in sorted((ROOT / "twin" / "submodels").glob("*.py")):
        literals = set(re.findall(r'pybamm\.Parameter\("([^"]+)"\)', path.read_text()))
        assert not literals & declared, path.name


def test_search_space_names_are_the_declared_ones():
    from twin.calibration import search_space

    declared = set(LithiumMetalParameters.names().values())
    for constant in ("DEAD_LI_FRACTION", "DEAD_LI_EXPONENT", "SEI_RATE", "SEI_FRESH_FRACTION",
                     "SEI_REFERENCE_THICKNESS", "SURFACE_GROWTH", "LAYER_BRUGGEMAN"):
        assert getattr(search_space, constant) in declared
