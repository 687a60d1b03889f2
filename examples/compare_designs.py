"""Anode-free, thin-Li and thin-Li-with-a-protection-strategy cells side by side.

    python examples/compare_designs.py --plot compare.png
"""

from __future__ import annotations

import argparse

import twin


def main(argv: list[str] | None = None) -> twin.Comparison:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default=None, help=f"a preset (default: the first of {twin.strategy_names()})")
    parser.add_argument("--max-cycles", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--plot", default=None)
    args = parser.parse_args(argv)

    strategy = args.strategy or twin.strategy_names()[0]
    designs = [twin.CellDesign(np_ratio=0), twin.CellDesign(np_ratio=1), twin.CellDesign(np_ratio=1)]
    comparison = twin.compare(designs, labels=["anode-free", "N:P 1", f"N:P 1 + {strategy}"],
                              strategies=["none", "none", strategy], max_cycles=args.max_cycles,
                              workers=args.workers)
    print(comparison.table[["label", "cycle_life", "end_of_life_reason", "dead_li_at_eol_mAh_cm2"]]
          .to_string(index=False))
    if args.plot:
        print(f"wrote {comparison.save_plot(args.plot)}")
    return comparison


if __name__ == "__main__":
    main()
