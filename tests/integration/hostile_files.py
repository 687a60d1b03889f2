"""Files the hostile corpus (test_hostile_corpus.py) runs against: bad protocols,
strategies, warm starts, data, recipes and sweep tables, written into a tmp folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPO = FIXTURES.parent.parent
KEEP = "KEEP: an earlier result that no failure may touch\n"
STRATEGY = (REPO / "experiments" / "strategies" / "ceramic-coating.toml").read_text()

TEXT_FILES = {
    "keep.json": KEEP,
    "keep.csv": KEEP,
    "afile": "a plain file, not a folder\n",
    "proto_rest.toml": "rest_after_charge_min = 1e6\n",
    "proto_restneg.toml": "rest_after_discharge_min = -5\n",
    "proto_unknown.toml": "speed = 3\n",
    "proto_bad.toml": "charge_rate_C = [\n",
    "proto_nan.toml": "charge_rate_C = nan\n",
    "proto_neg.toml": "discharge_rate_C = -1\n",
    "proto_vwin.toml": "v_min = 4.0\nv_max = 3.0\n",
    "proto_vmax9.toml": "v_max = 9.0\n",
    "proto_checkup1.toml": "checkup_every = 1\n",
    "proto_temp.toml": "temperature_degC = 500\n",
    "proto_table.toml": "[charge_rate_C]\nvalue = 1\n",
    "strat_shadow.toml": STRATEGY.replace('name = "ceramic-coating"', 'name = "lhce"'),
    "strat_bad.toml": "name = [\n",
    "strat_unknownkey.toml": STRATEGY + "\nspeed = 3\n",
    "strat_ce.toml": STRATEGY.replace("coulombic_efficiency = 0.975", "coulombic_efficiency = 1.5"),
    "strat_noname.toml": STRATEGY.replace('name = "ceramic-coating"', ""),
    "strat_family.toml": STRATEGY.replace('family = "artificial-sei"', 'family = "magic"'),
    "strat_area.toml": STRATEGY.replace('family = "artificial-sei"', 'family = "artificial-sei"\n'
                                        'effective_area_factor = 1e9'),
    "warm_bad.json": "not json {",
    "warm_empty.json": "{}",
    "warm_unknown.json": json.dumps({"best_params": {"No such parameter": 0.01}}),
    "warm_nan.json": '{"best_params": {"Dead lithium fraction at reference current density": NaN}}',
    "data_empty.csv": "",
    "data_text.csv": "hello world\n",
    "data_header.csv": "a,b\n1,2\n",
    "recipe_bad.toml": "[design\n",
    "recipe_unknown.toml": (FIXTURES / "tiny_calibration_recipe.toml").read_text() + "\nbogus = 1\n",
    "other.csv": "a,b\n1,2\n",
}
BINARY_FILES = {
    "proto_bin.toml": b"\xff\xfe\x00\x01binary",
    "data_bin.csv": bytes(range(256)) * 8,
    "data_utf16.csv": "cycle,discharge_capacity_mAh\n1,2.0\n".encode("utf-16"),
    "binary.csv": bytes(range(256)) * 8,
}
FOLDERS = ("adir", "data_folder.csv", "plot.png")


def sweep_rows(max_cycles: int) -> list[dict]:
    """Finished rows of a fast-mode sweep over N:P 1 (numbers made up: no solve)."""
    from twin.design import CellDesign
    from twin.experiments import sweep
    from twin.protocol import Protocol

    settings = sweep.RunSettings(max_cycles=max_cycles, mode="fast")
    cases = sweep.expand_grid(CellDesign(), Protocol(), np_ratios=[1], areal_capacities_mAh_cm2=[4],
                              electrolyte_g_per_Ah=[3], charge_rates_C=[0.3])
    rows = []
    for case in cases:
        row = sweep.case_inputs(case, settings)
        row.update({"cycle_life": 64, "end_of_life_reason": "lithium_depleted", "initial_capacity_mAh_cm2": 3.8,
                    "retention_at_100": math.nan, "elapsed_s": 1.0, "error": ""})
        rows.append(row)
    return rows


def make_files(folder: Path) -> None:
    """Write every corpus file into `folder`."""
    from twin.experiments import sweep

    for name, text in TEXT_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    for name, data in BINARY_FILES.items():
        (folder / name).write_bytes(data)
    for name in FOLDERS:
        (folder / name).mkdir()
    rows = sweep_rows(300)
    table = sweep.rows_to_table(rows)
    sweep.write_table(folder / "foreign.csv", table)
    sweep.write_table(folder / "damaged.csv", table.drop(columns=["max_cycles"]))
    lines = "".join(json.dumps(sweep.plain_row(r)) + "\n" for r in rows)
    sweep.journal_path(folder / "journaled.csv").write_text(lines)
    damaged = [{k: v for k, v in sweep.plain_row(r).items() if k != "mode"} for r in rows]
    sweep.journal_path(folder / "damjournal.csv").write_text("".join(json.dumps(r) + "\n" for r in damaged))
