"""Simulate a cycling dataset from known parameters, fit the twin back to it and forecast.

A small anode-free Cu||LFP coin cell: the dead-Li fraction used to simulate is the truth
the calibration should recover.

    python examples/simulate_and_calibrate.py --cycles 20 --trials 30
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import twin

DEAD_LI = "Dead lithium fraction at reference current density"
# One fitted parameter; the design and protocol the calibration assumes.
RECIPE = """
name = "example"
cell_type = "anode-free"
[design]
cathode = "LFP"
np_ratio = 0.0
areal_capacity_mAh_cm2 = 1.5
electrode_area_cm2 = 1.13
layers = 1
electrolyte_g_per_Ah = 35.0
[protocol]
charge_rate_C = 0.5
discharge_rate_C = 0.5
rest_after_charge_min = 0.0
rest_after_discharge_min = 0.0
[model.options]
"dead lithium" = "constant fraction"
[parameters."Dead lithium fraction at reference current density"]
low = 1e-3
high = 0.05
log = true
default = 0.012
[parameters."Li-metal SEI rate constant [mol.m-2.s-1]"]
fit = false
[parameters."Li-metal surface area growth per cycled lithium [m2.mol-1]"]
fit = false
[parameters."Dead lithium layer Bruggeman exponent"]
fit = false
[fit]
trials = 30
startup_trials = 3
block_cycles = 6
ensemble_size = 2
forecast_max_cycles = 60
"""


def main(argv: list[str] | None = None) -> twin.CalibrationFit:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="cycles to simulate")
    parser.add_argument("--fit-cycles", type=int, default=None, help="fit these, forecast the rest")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--truth", type=float, default=0.02, help=f"{DEAD_LI} used to simulate")
    parser.add_argument("--plot", default=None)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        recipe_file = Path(folder) / "example.toml"
        recipe_file.write_text(RECIPE)
        recipe = twin.load_named_recipe(recipe_file)
        design = twin.CellDesign(**recipe.design)
        protocol = twin.Protocol(**recipe.protocol)
        dataset = twin.simulate(design, protocol, args.cycles, {DEAD_LI: args.truth},
                                noise=0.002, seed=1, options=recipe.options)
        ts_file, summary_file = dataset.write(Path(folder) / "cell.csv", Path(folder) / "cell.cycles.csv")
        data = twin.read_cycling_data(summary_file)
        fit = twin.calibrate(data, recipe, fit_cycles=args.fit_cycles, trials=args.trials, seed=1)
    print(f"{DEAD_LI}: truth {args.truth:.4g}, fitted {fit.best_params[DEAD_LI]:.4g} "
          f"({fit.result.trials} trials, loss {fit.loss:.3g})")
    print(f"end of life (80 %): P10 {fit.eol_cycle_p10}, P50 {fit.eol_cycle_p50}, P90 {fit.eol_cycle_p90}")
    if args.plot:
        print(f"wrote {fit.save_plot(args.plot)}")
    return fit


if __name__ == "__main__":
    main()
