"""Cycle life over a grid of N:P ratios and areal capacities, with a heatmap.

    python examples/sweep_designs.py --np-ratios 0,1,2,3 --capacities 2,3,4 --plot sweep.png
"""

from __future__ import annotations

import argparse

import twin


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main(argv: list[str] | None = None) -> twin.SweepTable:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--np-ratios", type=_floats, default=[0, 1, 2, 3])
    parser.add_argument("--capacities", type=_floats, default=[4.0], help="areal capacities [mAh/cm2]")
    parser.add_argument("--max-cycles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--out", default=None, help="keep the table in this .csv/.parquet (resumable)")
    parser.add_argument("--plot", default=None)
    args = parser.parse_args(argv)

    swept = twin.sweep(np_ratios=args.np_ratios, areal_capacities_mAh_cm2=args.capacities,
                       max_cycles=args.max_cycles, workers=args.workers, out=args.out)
    columns = ["np_ratio", "areal_capacity_mAh_cm2", "cycle_life", "end_of_life_reason", "swelling_at_eol_pct"]
    print(swept.table[columns].to_string(index=False))
    if args.plot:
        print(f"wrote {swept.save_plot(args.plot)}")
    return swept


if __name__ == "__main__":  # the sweep's worker processes re-import this file
    main()
