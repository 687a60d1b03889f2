"""One source for every fact of a design or protocol field: the FieldSpec in its
metadata drives validation, the CLI options, the sweep axes and the calibration."""

import dataclasses

import click
import pytest

from twin.design import CellDesign
from twin.errors import DesignError, ProtocolError
from twin.field_specs import field_defaults, field_specs, numeric_fields
from twin.protocol import Protocol


@pytest.mark.parametrize("cls", [CellDesign, Protocol])
def test_every_field_declares_unit_and_help(cls):
    specs = field_specs(cls)
    assert list(specs) == [f.name for f in dataclasses.fields(cls)]
    for name, spec in specs.items():
        assert spec.help, name
        if spec.check in ("number", "positive", "range", "optional-range"):
            assert spec.maximum is not None, name


@pytest.mark.parametrize(("name", "spec_bound"), [
    ("areal_capacity_mAh_cm2", "maximum"), ("separator_porosity", "minimum"), ("electrode_area_cm2", "maximum"),
])
def test_design_bounds_come_from_the_field_spec(name, spec_bound):
    spec = field_specs(CellDesign)[name]
    bound = getattr(spec, spec_bound)
    outside = bound * 1.01 if spec_bound == "maximum" else bound * 0.99
    CellDesign(**{name: bound, **({"np_ratio": 0.0} if name == "areal_capacity_mAh_cm2" else {})})
    with pytest.raises(DesignError, match=f"^invalid design: {name}: must lie between "
                                          f"{spec.minimum} and {spec.maximum}, got "):
        CellDesign(**{name: outside, **({"np_ratio": 0.0} if name == "areal_capacity_mAh_cm2" else {})})


def test_protocol_bounds_come_from_the_field_spec():
    assert field_specs(Protocol)["discharge_rate_C"].maximum == 20.0
    with pytest.raises(ProtocolError, match="^invalid protocol: discharge_rate_C: must be at most 20.0, got 21"):
        Protocol(discharge_rate_C=21)
    with pytest.raises(ProtocolError, match=r"^invalid protocol: v_max: must lie between 1.0 and 5.0 V, got 6.0"):
        Protocol(v_max=6.0)


def test_layers_is_a_bounded_count():
    with pytest.raises(DesignError, match="^invalid design: layers: must be at most 1000, got 1001$"):
        CellDesign(layers=1001)


def test_help_text_carries_the_unit():
    assert field_specs(CellDesign)["areal_capacity_mAh_cm2"].help_text() == "Cathode areal capacity [mAh/cm2]."
    assert field_specs(CellDesign)["np_ratio"].help_text() == "Li-metal capacity / cathode capacity; 0 = anode-free."


def test_numeric_fields_are_the_sweepable_ones():
    design = numeric_fields(CellDesign)
    assert "separator_thickness_um" in design and "layers" in design and "cathode" not in design
    assert "name" not in numeric_fields(Protocol) and "charge_rate_C" in numeric_fields(Protocol)


def test_calibration_design_fields_are_the_design_fields():
    from twin.calibration.search_space import DESIGN_FIELDS

    assert DESIGN_FIELDS == {f.name for f in dataclasses.fields(CellDesign)}


def test_cli_options_are_generated_from_the_fields():
    from twin.experiments.options import design_options, protocol_options, stack_options

    @click.command()
    @design_options
    @stack_options
    @protocol_options
    def cli(**kwargs):
        pass

    options = {p.name: p for p in cli.params}
    design, protocol = field_defaults(CellDesign), field_defaults(Protocol)
    for option, name in (("np_ratio", "np_ratio"), ("areal_capacity", "areal_capacity_mAh_cm2"),
                         ("electrolyte_amount", "electrolyte_g_per_Ah"), ("temperature", "temperature_degC"),
                         ("electrode_area", "electrode_area_cm2"), ("layers", "layers"),
                         ("separator_thickness", "separator_thickness_um"), ("charge_rate", "charge_rate_C"),
                         ("discharge_rate", "discharge_rate_C"), ("cathode", "cathode")):
        default = protocol[name] if name.endswith("rate_C") else design[name]
        assert options[option].default == default, option
    assert options["layers"].type.max == field_specs(CellDesign)["layers"].maximum
