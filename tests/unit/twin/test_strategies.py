"""Protection strategies without long solves: presets and their families' physics,
user strategy files and their validation, the composition rule, the dendrite
threshold and the anchoring cache."""

import json
import math
from pathlib import Path

import pytest

from twin.anchoring import AnchorCache, AnchorResult, cache_dir, cache_key
from twin.dendrite import DendriteRisk
from twin.parameters.lithium_metal_anode import lithium_metal_anode_parameter_values
from twin.strategies import (
    FAMILIES, KNOBS, LOSS_KNOBS, CEAnchor, StrategyError, combine, get_strategy, load_strategy_file,
    parse_strategy_spec, presets, resolve, scale_dendrite_risk, strategy_from_dict,
)
from twin.strategy_presets import ELECTROLYTE_PRESETS, TABLE_PRESETS

EXAMPLES = Path(__file__).resolve().parents[3] / "experiments" / "strategies"
BASE = {**lithium_metal_anode_parameter_values(), "Plating current density [A.m-2]": 12.0}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "strategy.toml"
    path.write_text(text)
    return path


VALID = """
name = "my-coating"
family = "artificial-sei"
source = "lab notebook 12"
[anchor]
coulombic_efficiency = 0.98
current_density_mA_cm2 = 1.0
[multipliers]
sei_fresh_surface_fraction = 0.2
"""


# --- presets ---------------------------------------------------------------------------


def test_all_sixteen_table_rows_in_four_families_of_four():
    table = [presets()[name] for name in TABLE_PRESETS]
    assert len(table) == 16
    for family in FAMILIES:
        assert sum(s.family == family for s in table) == 4
    for s in table:
        assert "Table 1 row" in s.source and s.anchor is not None


def test_six_electrolytes_from_the_li_cu_compilations_each_with_source_and_current_density():
    electrolytes = [presets()[name] for name in ELECTROLYTE_PRESETS]
    assert [s.family for s in electrolytes] == ["electrolyte"] * 6
    for s in electrolytes:
        assert ("PNAS" in s.source) or ("Electrolytomics" in s.source)
        assert s.anchor.current_density_mA_cm2 > 0
        # an assumed current density is said so
        if "Electrolytomics" not in s.source:
            assert "assumed" in s.anchor.note
    # the order the twin must reproduce in full cells: carbonate < FEC < ethers < LHCE < FDMB
    ces = [s.anchor.coulombic_efficiency for s in electrolytes]
    assert ces == sorted(ces) and len(set(ces)) == 6


def test_families_act_as_the_physics_notes_say():
    baseline_porosity = BASE["Plated lithium deposit porosity"]
    for s in presets().values():
        if s.family == "host":  # lower local current, more area, volume absorbed
            assert s.effective_area_factor > 1
            assert s.values["deposit_porosity"] < baseline_porosity
        if s.family == "artificial-sei":  # resists re-formation on fresh Li
            assert s.multipliers["sei_fresh_surface_fraction"] < 1
        if s.family == "separator":  # raises the dendrite threshold, barely touches CE
            assert s.dendrite_threshold_factor >= 2
            assert 0.8 <= s.multipliers.get("dead_li_fraction", 1.0) <= 1.0
        if s.family != "separator":
            assert s.dendrite_threshold_factor == 1.0
    assert presets()["iodine-carbon-host"].values["dead_li_revival_rate_per_s"] > 0


def test_host_lowers_local_current_density_and_raises_area():
    host = get_strategy("carbon-fiber-host")
    changes = combine([host], {host.name: 1.0}).parameter_values(BASE)
    a = host.effective_area_factor
    assert changes["Plating current density [A.m-2]"] == pytest.approx(12.0 / a)
    assert changes["Initial Li-metal surface area factor"] == pytest.approx(a)
    assert changes["Maximum Li-metal surface area factor"] == pytest.approx(6.0 * a)


# --- composition -----------------------------------------------------------------------


def test_multipliers_multiply_and_the_electrolyte_sets_the_loss_level():
    lhce, coating = get_strategy("lhce"), get_strategy("lif-rich-layer")
    combined = combine([lhce, coating], {"lhce": 0.4, "lif-rich-layer": 0.7})
    assert combined.loss_level_from == "lhce" and combined.loss_factor == 0.4
    assert combined.notes and "lif-rich-layer" in combined.notes[0]
    changes = combined.parameter_values(BASE)
    fresh = KNOBS["sei_fresh_surface_fraction"].parameter
    assert changes[fresh] == pytest.approx(BASE[fresh] * 0.2 * 0.4)
    for knob in LOSS_KNOBS:
        assert KNOBS[knob].parameter in changes


def test_two_separator_and_host_multipliers_compose():
    sep = strategy_from_dict({"name": "s", "family": "separator", "source": "x",
                              "dendrite_threshold_factor": 2.0, "multipliers": {"dead_li_fraction": 0.5}})
    sep2 = strategy_from_dict({"name": "t", "family": "separator", "source": "x",
                               "dendrite_threshold_factor": 1.5, "multipliers": {"dead_li_fraction": 0.5}})
    combined = combine([sep, sep2])
    assert combined.dendrite_threshold_factor == pytest.approx(3.0)
    dead = KNOBS["dead_li_fraction"].parameter
    assert combined.parameter_values(BASE)[dead] == pytest.approx(BASE[dead] * 0.25)
    assert combined.loss_factor == 1.0 and combined.loss_level_from is None


@pytest.mark.parametrize(("names", "message"), [
    (["lhce", "lifsi-dme"], "at most one electrolyte strategy per cell"),
    (["carbon-fiber-host", "lif-rich-layer"], "add one electrolyte strategy"),
    (["lhce", "lhce"], "given twice"),
])
def test_incompatible_combinations_are_refused(names, message):
    strategies = [get_strategy(n) for n in names]
    with pytest.raises(StrategyError, match=message):
        combine(strategies, {s.name: 1.0 for s in strategies})


def test_conflicting_absolute_values_are_refused():
    a = strategy_from_dict({"name": "a", "family": "host", "source": "x", "values": {"deposit_porosity": 0.05}})
    b = strategy_from_dict({"name": "b", "family": "host", "source": "x"})  # family default 0.1
    with pytest.raises(StrategyError, match="deposit_porosity"):
        combine([a, b])


def test_a_combination_pushing_a_parameter_out_of_range_names_it():
    a = strategy_from_dict({"name": "a", "family": "separator", "source": "x",
                            "multipliers": {"porous_layer_porosity": 1.8}})
    b = strategy_from_dict({"name": "b", "family": "separator", "source": "x",
                            "multipliers": {"porous_layer_porosity": 1.5}})
    with pytest.raises(StrategyError, match="porous_layer_porosity"):
        combine([a, b]).parameter_values(BASE)


def test_strategy_specs_and_names_resolve(tmp_path):
    assert parse_strategy_spec("lhce+carbon-fiber-host") == ["lhce", "carbon-fiber-host"]
    with pytest.raises(StrategyError, match="empty strategy name"):
        parse_strategy_spec("lhce+")
    path = write(tmp_path, VALID)
    resolved = resolve(["lhce", "my-coating"], [path])
    assert [s.name for s in resolved] == ["lhce", "my-coating"]
    with pytest.raises(StrategyError, match="unknown strategy 'lhcee'"):
        get_strategy("lhcee")


# --- user files ------------------------------------------------------------------------


def test_example_strategy_files_load():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 3
    for path in files:
        strategy = load_strategy_file(path)
        assert strategy.origin == str(path)


def test_a_valid_file_starts_from_its_family_defaults(tmp_path):
    strategy = load_strategy_file(write(tmp_path, VALID))
    assert strategy.multipliers["sei_fresh_surface_fraction"] == 0.2  # the file wins
    assert strategy.multipliers["surface_area_growth"] == 0.5  # the family default stays
    assert strategy.anchor == CEAnchor(0.98, 1.0, 1.0)
    bare = load_strategy_file(write(tmp_path, VALID.replace(
        'source = "lab notebook 12"', 'source = "lab notebook 12"\nfamily_defaults = false')))
    assert "surface_area_growth" not in bare.multipliers


@pytest.mark.parametrize(("text", "key"), [
    ("colour = 'red'\n" + VALID, "'colour'"),
    (VALID + "extra = 1\n", "'multipliers.extra'"),
    (VALID.replace("sei_fresh_surface_fraction", "sei_fresh_fraction"), "'multipliers.sei_fresh_fraction'"),
    (VALID.replace("current_density_mA_cm2", "current_mA_cm2"), "'anchor.current_mA_cm2'"),
    (VALID + "[values]\ndead_li_fraction = 'high'\n", "values.dead_li_fraction must be a finite number"),
    (VALID.replace("0.98", "1.2"), "anchor.coulombic_efficiency must lie between"),
    (VALID.replace('family = "artificial-sei"', 'family = "coating"'), "unknown family 'coating'"),
    (VALID.replace('source = "lab notebook 12"', ""), "missing required key 'source'"),
    ("name = [", "not valid TOML"),
])
def test_malformed_files_name_the_bad_key(tmp_path, text, key):
    with pytest.raises(StrategyError, match=r"strategy file .*strategy\.toml") as info:
        load_strategy_file(write(tmp_path, text))
    assert key in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(StrategyError, match="not found"):
        load_strategy_file(tmp_path / "nope.toml")


# --- dendrite threshold ----------------------------------------------------------------


def test_a_separator_raises_the_limiting_current_and_sands_time():
    risk = DendriteRisk(limiting_current_density_mA_cm2=0.8, sand_time_s=3000.0,
                        charge_current_density_mA_cm2=1.2, charge_time_s=12000.0, flag=True,
                        reason="charge current density above the limiting current density")
    scaled = scale_dendrite_risk(risk, 2.0)
    assert scaled.limiting_current_density_mA_cm2 == pytest.approx(1.6)
    assert scaled.sand_time_s == pytest.approx(12000.0)  # t_Sand ~ 1/t_a^2
    assert not scaled.flag  # 1.2 < 1.6 mA/cm2 and Sand's time no shorter than the charge
    assert scale_dendrite_risk(risk, 1.4).flag  # 1.2 > 1.12 mA/cm2: above J*, still flagged
    assert not scale_dendrite_risk(risk, 1.5).flag  # at J*; Sand's time (6750 s) does not apply below it
    assert scale_dendrite_risk(risk, 1.0) is risk


# --- anchoring cache -------------------------------------------------------------------


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path


def test_cache_round_trip_and_corrupt_file(tmp_path):
    cache = AnchorCache(tmp_path)
    result = AnchorResult(0.5, 0.98, 0.98, 1.0, 1.0, 3)
    cache.put("k", result)
    assert cache.get("k") == AnchorResult(0.5, 0.98, 0.98, 1.0, 1.0, 3, cached=True)
    assert json.loads((tmp_path / "anchors.json").read_text())["k"]["loss_factor"] == 0.5
    (tmp_path / "anchors.json").write_text("{not json")
    assert cache.get("k") is None  # solved again, never a crash


def test_cache_key_depends_on_physics_not_on_name():
    lhce = get_strategy("lhce")
    salt = dict(lhce.values)  # the LHCE's salt (its concentration, molar mass, anion-derived SEI)
    twin_of_lhce = strategy_from_dict({"name": "other", "family": "electrolyte", "source": "y", "values": salt,
                                       "anchor": {"coulombic_efficiency": 0.993, "current_density_mA_cm2": 0.5}})
    assert cache_key(lhce) == cache_key(twin_of_lhce)
    moved = strategy_from_dict({"name": "other", "family": "electrolyte", "source": "y", "values": salt,
                                "anchor": {"coulombic_efficiency": 0.993, "current_density_mA_cm2": 1.0}})
    assert cache_key(moved) != cache_key(lhce)


def test_bracketed_fallback_solves_a_monotone_ce_and_refuses_the_unreachable():
    from twin.anchoring import _bracketed

    strategy = get_strategy("lhce")
    factor = _bracketed(lambda f: 1 - 0.01 * f**2, 0.98, 0.5, strategy)  # CE(f) = target at f = sqrt(2)
    assert factor == pytest.approx(math.sqrt(2), rel=1e-5)
    with pytest.raises(StrategyError, match="cannot reproduce a Li\\|\\|Cu CE of 98.0000%"):
        _bracketed(lambda f: 0.9, 0.98, 1.0, strategy)  # no loss factor reaches 98 %


def test_a_cached_anchor_is_found_without_importing_pybamm(tmp_path):
    """`twin strategies list` with every anchor cached imports neither PyBaMM, scipy
    nor pandas: the quick key (sources + strategy) leads to the solved record."""
    import subprocess
    import sys

    script = f"""
import sys
from twin.anchoring import AnchorCache, AnchorResult, quick_key
from twin.strategies import presets
cache = AnchorCache({str(tmp_path)!r})
for i, strategy in enumerate(s for s in presets().values() if s.anchor is not None):
    a = strategy.anchor
    cache.put(f"full-{{i}}", AnchorResult(0.25 + i, a.coulombic_efficiency, a.coulombic_efficiency,
                                         a.current_density_mA_cm2, a.capacity_mAh_cm2, 3))
    cache.put_alias(quick_key(strategy), f"full-{{i}}")
from twin.experiments.cli import main
try:
    main(["strategies", "list", "--format", "json"], standalone_mode=False)
finally:
    heavy = sorted(m for m in ("pybamm", "scipy", "pandas", "casadi") if m in sys.modules)
    print("HEAVY", heavy, file=sys.stderr)
"""
    import os

    env = {**os.environ, "TWIN_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["loss_factor"] == 0.25 and rows[1]["loss_factor"] == 1.25  # from the cache, in order
