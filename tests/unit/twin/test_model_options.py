"""Every option combination of the Li-metal submodels builds and is well posed
(the PyBaMM way), and unknown options are rejected with a clear message."""

import itertools

import pytest

from twin.errors import OptionError
from twin.model import build_model
from twin.submodels import LITHIUM_METAL_OPTIONS

COMBINATIONS = [dict(zip(LITHIUM_METAL_OPTIONS, values))
                for values in itertools.product(*LITHIUM_METAL_OPTIONS.values())]


@pytest.mark.parametrize("cell_model", ["spm", "spme", "dfn"])
def test_every_option_combination_is_well_posed(cell_model):
    for options in COMBINATIONS:
        model = build_model(cell_model, options)
        model.check_well_posedness()
        # the bookkeeping outputs exist whatever is switched off
        for name in ("Active lithium metal [mol.m-2]", "Dead lithium [mol.m-2]",
                     "Li-metal SEI lithium [mol.m-2]", "Total lithium [mol.m-2]",
                     "Anode thickness [m]", "Swelling [%]", "Electrolyte mass [kg.m-2]"):
            assert name in model.variables, (options, name)


def test_switching_effects_off_removes_their_states():
    full = build_model("spm")
    bare = build_model("spm", {k: v[-1] for k, v in LITHIUM_METAL_OPTIONS.items()})
    # SEI, dead Li, surface area, electrolyte mass, its salt, porous foil and the activation
    # transient's plated-Li clock are the seven optional states
    assert len(full.rhs) - len(bare.rhs) == 7


def test_unknown_option_value_is_rejected():
    with pytest.raises(OptionError) as err:
        build_model("spm", {"dead lithium": "sometimes"})
    assert str(err.value) == (
        "option 'dead lithium' cannot be 'sometimes' "
        "(legal values: current dependent, constant fraction, none)"
    )


def test_unknown_option_and_model_are_rejected():
    with pytest.raises(OptionError, match="unknown Li-metal option 'dendrites'"):
        build_model("spm", {"dendrites": "true"})
    with pytest.raises(OptionError, match="unknown cell model 'p2d'"):
        build_model("p2d")
