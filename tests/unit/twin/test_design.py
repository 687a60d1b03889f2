"""Cell design validation: every bad value is rejected with a message naming the field."""

import math

import pytest

from twin.design import CellDesign
from twin.errors import DesignError
from twin.units import dense_li_thickness_m


def test_dense_lithium_moves_485_um_per_mAh_cm2():
    # physics notes: 3.6 C/cm2 / F x 6.94 g/mol / 0.534 g/cm3 = 4.85 um
    assert dense_li_thickness_m(1.0) * 1e6 == pytest.approx(4.85, rel=1e-3)


def test_foil_thickness_and_pouch_capacity_follow_the_design():
    design = CellDesign(np_ratio=2, areal_capacity_mAh_cm2=4, electrode_area_cm2=25, layers=10)
    assert design.li_foil_thickness_um == pytest.approx(8 * 4.849, rel=1e-3)
    assert design.nominal_capacity_Ah == pytest.approx(1.0)
    assert CellDesign(np_ratio=0).is_anode_free


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("np_ratio", -1.0, "invalid design: np_ratio: must not be negative, got -1.0"),
        ("areal_capacity_mAh_cm2", math.nan, "invalid design: areal_capacity_mAh_cm2: must be a finite number, got nan"),
        ("electrolyte_g_per_Ah", 0.0, "invalid design: electrolyte_g_per_Ah: must be greater than zero"),
        ("cathode", "LCO", "invalid design: cathode: unknown chemistry 'LCO' (known: NMC811, NMC622, NMC532, LFP)"),
        ("layers", 0, "invalid design: layers: must be a whole number of at least 1, got 0"),
        ("temperature_degC", 200.0, "invalid design: temperature_degC: must lie between -30 and 80 degC, got 200.0"),
    ],
)
def test_invalid_values_name_the_field(field, value, message):
    with pytest.raises(DesignError) as err:
        CellDesign(**{field: value})
    assert str(err.value) == message
    assert err.value.field == field


def test_impossible_foil_is_rejected():
    # N:P 0.01 at 1 mAh/cm2 is a 0.05 um foil: nobody can make or handle it.
    with pytest.raises(DesignError, match=r"np_ratio: N:P 0.01 needs a 0.05 um Li foil"):
        CellDesign(np_ratio=0.01, areal_capacity_mAh_cm2=1.0)


def test_unknown_field_from_dict_is_named():
    with pytest.raises(DesignError, match="invalid design: np: unknown design field"):
        CellDesign.from_dict({"np": 2})
