"""Forecast the cycle life of one Li-metal pouch-cell design and draw its figure.

    python examples/predict_design.py --np-ratio 1 --protocol fast-charge --plot life.png
"""

from __future__ import annotations

import argparse

import twin


def main(argv: list[str] | None = None) -> twin.PredictionResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--np-ratio", type=float, default=2.0, help="Li-metal / cathode capacity (0 = anode-free)")
    parser.add_argument("--areal-capacity", type=float, default=4.0, help="cathode areal capacity [mAh/cm2]")
    parser.add_argument("--electrolyte", type=float, default=3.0, help="electrolyte amount [g/Ah]")
    parser.add_argument("--protocol", default="standard", help=f"one of {twin.protocol_names()} or a TOML file")
    parser.add_argument("--max-cycles", type=int, default=1000)
    parser.add_argument("--plot", default=None, help="write the figure here (.png, .svg, .pdf)")
    args = parser.parse_args(argv)

    design = twin.CellDesign(np_ratio=args.np_ratio, areal_capacity_mAh_cm2=args.areal_capacity,
                             electrolyte_g_per_Ah=args.electrolyte)
    result = twin.predict(design, args.protocol, max_cycles=args.max_cycles)  # fast mode, as the CLI
    life = result.cycle_life if result.cycle_life is not None else f"> {result.max_cycles}"
    print(f"cycle life {life} ({result.end_of_life_reason}), first discharge "
          f"{result.initial_capacity_mAh_cm2:.3f} mAh/cm2, {result.cell()['nominal_capacity_Ah']:.2f} Ah cell")
    last = result.cycles.iloc[-1]
    print(f"at cycle {int(last['cycle'])}: dead Li {last['dead_li_mAh_cm2']:.3f} mAh/cm2, "
          f"SEI Li {last['sei_li_mAh_cm2']:.3f} mAh/cm2, swelling {last['swelling_pct']:.1f} %")
    if args.plot:
        print(f"wrote {result.save_plot(args.plot)}")
    return result


if __name__ == "__main__":
    main()
