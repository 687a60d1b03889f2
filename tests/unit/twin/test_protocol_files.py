"""Protocol TOML files: the bundled ones load, bad ones are rejected naming the field;
check-up cycles in the protocol and in the PyBaMM experiment."""

from pathlib import Path

import pytest

from twin.errors import ProtocolError
from twin.protocol import Protocol
from twin.protocol_files import load_protocol
from twin.simulation import make_experiment

PROTOCOLS = Path(__file__).resolve().parents[3] / "experiments" / "protocols"
KNOWN = ("charge_rate_C, discharge_rate_C, v_max, v_min, cv_cutoff_C, rest_after_charge_min, "
         "rest_after_discharge_min, name, checkup_every, checkup_rate_C, temperature_degC, description")


def write(tmp_path: Path, text: str, name: str = "lab.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bundled_protocols_load():
    names = sorted(p.stem for p in PROTOCOLS.glob("*.toml"))
    assert {"standard", "fast-charge", "checkup"} <= set(names)
    standard = load_protocol(PROTOCOLS / "standard.toml")
    # the standard file is the twin's default protocol, under its own name
    assert standard == Protocol(name="standard")
    fast = load_protocol(PROTOCOLS / "fast-charge.toml")
    assert (fast.charge_rate_C, fast.discharge_rate_C) == (1.0, 1.0)
    checkup = load_protocol(PROTOCOLS / "checkup.toml")
    assert (checkup.checkup_every, checkup.checkup_rate_C) == (50, 0.1)
    assert checkup.is_checkup(50) and checkup.is_checkup(100) and not checkup.is_checkup(1)


def test_name_defaults_to_the_file_stem_and_integers_are_rates(tmp_path):
    protocol = load_protocol(write(tmp_path, "charge_rate_C = 1\nv_max = 4\n", "my-lab.toml"))
    assert protocol.name == "my-lab"
    assert protocol.charge_rate_C == 1.0 and isinstance(protocol.charge_rate_C, float)
    assert protocol.v_max == 4.0


def test_unknown_key_is_named(tmp_path):
    path = write(tmp_path, "charge_rate = 0.5\n")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(err.value) == f"invalid protocol: charge_rate: unknown protocol field (known: {KNOWN}) (in {path})"
    assert err.value.field == "charge_rate"


@pytest.mark.parametrize("text, message", [
    ("charge_rate_C = -0.5\n", "invalid protocol: charge_rate_C: must be greater than zero, got -0.5"),
    ('discharge_rate_C = "fast"\n', "invalid protocol: discharge_rate_C: must be a number, got 'fast'"),
    ("checkup_every = 1\n",
     "invalid protocol: checkup_every: must be 0 (no check-ups) or a whole number of at least 2, got 1"),
    ("checkup_every = 2.5\n",
     "invalid protocol: checkup_every: must be 0 (no check-ups) or a whole number of at least 2, got 2.5"),
    ("checkup_every = 20\ncheckup_rate_C = 0.02\n",
     "invalid protocol: checkup_rate_C: 0.02 C must be above the CV cut-off cv_cutoff_C 0.05 C"),
    ("v_min = 4.3\nv_max = 4.2\n", "invalid protocol: v_min: 4.3 V must be below v_max 4.2 V"),
    ("temperature_degC = 120\n", "invalid protocol: temperature_degC: must lie between -30 and 80 degC, got 120.0"),
    ("rest_after_charge_min = -5\n",
     "invalid protocol: rest_after_charge_min: must be zero or a positive number of minutes, got -5.0"),
    ('name = ""\n', "invalid protocol: name: must be a non-empty string, got ''"),
    ("[charge_rate_C]\nvalue = 1\n", "invalid protocol: charge_rate_C: must be a value, not a table"),
])
def test_bad_values_are_rejected_naming_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(err.value) == f"{message} (in {path})"


def test_invalid_toml_and_missing_file(tmp_path):
    path = write(tmp_path, "charge_rate_C = \n")
    with pytest.raises(ProtocolError, match=r"^invalid protocol: file: .*lab\.toml: not valid TOML \("):
        load_protocol(path)
    missing = tmp_path / "none.toml"
    with pytest.raises(ProtocolError) as err:
        load_protocol(missing)
    assert str(err.value) == f"invalid protocol: file: {missing}: no such protocol file"


def test_protocol_errors_are_value_errors_for_the_cli(tmp_path):
    with pytest.raises(ValueError):
        load_protocol(write(tmp_path, "cv_cutoff_C = 0\n"))


def test_experiment_places_slow_checkup_cycles():
    protocol = Protocol(checkup_every=3, checkup_rate_C=0.1)
    experiment = make_experiment(protocol, "NMC811", cycles=6)
    first_steps = [cycle[0] for cycle in experiment.cycles]
    assert first_steps == ["Charge at 0.3 C until 4.2 V"] * 2 + ["Charge at 0.1 C until 4.2 V"] \
        + ["Charge at 0.3 C until 4.2 V"] * 2 + ["Charge at 0.1 C until 4.2 V"]
    assert experiment.cycles[2][3] == "Discharge at 0.1 C until 2.8 V"
    # a chunk that starts at cycle 5 has its check-up at its second cycle (cycle 6)
    chunk = make_experiment(protocol, "NMC811", cycles=3, first_cycle=5)
    assert ["0.1 C" in cycle[0] for cycle in chunk.cycles] == [False, True, False]


def test_no_checkups_by_default():
    assert not any(Protocol().is_checkup(k) for k in range(1, 200))
