"""Published lithium-metal trends the twin's physics must reproduce (shipped parameters,
no per-case tuning): CE vs plated capacity (Adams 2018), dead Li dominating inactive Li
(Fang 2019), temperature (Wang 2019), stack pressure (Louli 2019), foil swelling time
course (Niu 2019), and the literature validation suite itself."""

import math

import pytest

from twin.design import CellDesign
from twin.experiments import validate_literature as suite
from twin.parameters.stack_pressure import dead_layer_porosity, deposit_porosity
from twin.protocol import Protocol
from twin.simulation import predict_cycle_life
from twin.test_cells import LiCuTest, run_li_cu


def li_cu_ce(j: float = 0.5, q: float = 1.0, temperature_K: float = 298.15) -> float:
    test = LiCuTest(current_density_mA_cm2=j, capacity_mAh_cm2=q, cycles=8)
    return run_li_cu(test, {"Ambient temperature [K]": temperature_K}).average_coulombic_efficiency


def test_li_cu_ce_rises_with_the_plated_capacity():
    # Adams et al. 2018: a larger cycled capacity gives a higher average CE
    ces = [li_cu_ce(q=q) for q in (0.5, 1.0, 3.0, 6.0)]
    assert ces == sorted(ces) and ces[-1] - ces[0] > 2e-3


def test_dead_li_dominates_inactive_li_at_half_a_milliamp():
    # Fang et al. 2019: unreacted metallic Li, not SEI Li+, is most of the inactive Li;
    # the SEI Li+ stays small once formed while dead Li keeps accumulating
    c = run_li_cu(LiCuTest(current_density_mA_cm2=0.5, cycles=10)).cycles
    first, last = c.iloc[0], c.iloc[-1]
    assert last["dead_li_mAh_cm2"] > last["sei_li_mAh_cm2"]
    assert (last["dead_li_mAh_cm2"] - first["dead_li_mAh_cm2"]) > 2 * (last["sei_li_mAh_cm2"] - first["sei_li_mAh_cm2"])


def test_li_cu_ce_is_higher_warm_and_lower_cold():
    # Wang et al. 2019: higher CE at 60 degC than at 20 degC; cold plating is finer and lossier
    cold, room, warm = (li_cu_ce(temperature_K=t) for t in (263.15, 293.15, 333.15))
    assert cold < room < warm


def test_deposit_porosity_falls_with_stack_pressure():
    assert deposit_porosity(300.0) == pytest.approx(0.3)  # the coin-cell reference
    assert deposit_porosity(0.0) == pytest.approx(0.55)
    assert deposit_porosity(75.0) > deposit_porosity(1200.0) > 0.05
    with pytest.raises(ValueError, match="stack pressure must be a non-negative number of kPa"):
        deposit_porosity(-1.0)
    # the dead-Li/SEI layer keeps the twin's former 0.5 at the reference, looser unpressed
    assert dead_layer_porosity(300.0) == pytest.approx(0.5)
    assert dead_layer_porosity(50.0) > 0.7 > 0.3 > dead_layer_porosity(1200.0)


def test_stack_pressure_lengthens_anode_free_life():
    # Louli et al. 2019: 75 -> 1200 kPa improves anode-free cycle life
    protocol = Protocol(charge_rate_C=0.2, discharge_rate_C=0.5)
    lives = [predict_cycle_life(CellDesign(np_ratio=0.0, areal_capacity_mAh_cm2=3.0, stack_pressure_kPa=p),
                                protocol, max_cycles=200, mode="fast").cycle_life for p in (75.0, 1200.0)]
    assert lives[0] < lives[1]


def test_pouch_cell_swells_fast_then_slowly_as_its_foil_turns_porous():
    # Niu et al. 2019: fast thickening in the first 50 cycles, slower after
    design = CellDesign(areal_capacity_mAh_cm2=4.0, np_ratio=2.5, electrolyte_g_per_Ah=6.0, stack_pressure_kPa=50.0)
    cycles = predict_cycle_life(design, Protocol(charge_rate_C=0.1, discharge_rate_C=0.3), max_cycles=100,
                                mode="fast", eol_fraction=0.05).cycles.set_index("cycle")
    first, later = cycles.loc[50, "swelling_pct"], cycles.loc[100, "swelling_pct"] - cycles.loc[50, "swelling_pct"]
    assert first > 20.0
    assert later < 0.5 * first  # the swelling rate (per cycle) halves once the foil is converted


def test_every_case_file_names_its_source_and_assumptions():
    cases = suite.load_cases()
    assert len(cases) >= 9
    for case in cases:
        assert case["source"]["doi"] and case["assumptions"], case["id"]


def test_a_case_without_a_doi_is_refused(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('id = "x"\ntitle = "t"\nkind = "dendrite_flag"\nassumptions = []\n'
                    '[source]\ncitation = "c"\n[conditions]\n[published]\n')
    with pytest.raises(suite.CaseError, match="bad.toml: the source needs a DOI"):
        suite.load_case(path)


@pytest.mark.parametrize("case_id", ["adams2018-ce-vs-capacity", "fang2019-inactive-li-split",
                                     "wang2019-temperature", "chazalviel-no-flag-below-limiting-current",
                                     "electrolytomics-ce-vs-current-density"])
def test_test_cell_cases_of_the_suite_get_the_published_trend(case_id):
    case = next(c for c in suite.load_cases() if c["id"] == case_id)
    result = suite.run_case(case)
    assert result["trend_right"] is True
    assert result["within_factor"] in (True, None)
    if result["ratio"] is not None:
        assert math.isfinite(result["ratio"])


def test_cli_li_cu_test_follows_the_temperature():
    from click.testing import CliRunner

    from twin.experiments.cli import main

    def ce(temperature: str) -> float:
        result = CliRunner().invoke(main, ["predict", "--cell", "li-cu", "--temperature", temperature,
                                           "--max-cycles", "6", "--format", "json"])
        assert result.exit_code == 0, result.output
        import json

        return json.loads(result.stdout)["average_coulombic_efficiency"]

    assert ce("0") < ce("25") < ce("60")


def test_cli_rejects_a_negative_stack_pressure():
    from click.testing import CliRunner

    from twin.experiments.cli import main

    result = CliRunner().invoke(main, ["predict", "--stack-pressure", "-5", "--max-cycles", "2"])
    assert result.exit_code == 2
    assert "stack_pressure_kPa: must not be negative, got -5.0" in result.output
    assert "Traceback" not in result.output


def test_stop_on_dendrite_risk_does_not_end_an_ordinary_2_mA_cm2_charge_at_cycle_one():
    prediction = predict_cycle_life(CellDesign(areal_capacity_mAh_cm2=4.0), Protocol(charge_rate_C=0.5),
                                    max_cycles=3, mode="full", stop_on_dendrite_risk=True)
    assert prediction.extra["dendrite_risk"]["flag"] is False
    assert (prediction.cycle_life, prediction.end_of_life_reason) == (None, "max_cycles")
    assert len(prediction.cycles) == 3
