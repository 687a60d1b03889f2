"""Protection strategies: named, documented sets of changes to the twin's parameters.

A strategy says *how* a protection acts (its family's physics, as multipliers and
values on the Li-metal parameters) and *what was measured* (a Li||Cu Coulombic
efficiency at a current density and test capacity, its `CEAnchor`). The anchor is
turned into parameters by `twin.anchoring`: one loss factor on the SEI rate constant,
the SEI fresh-surface fraction and the dead-Li fraction, solved so that the twin's own
simulated Li||Cu test reproduces the reported CE.

Families (physics notes, "Protection strategies"):

* ``host`` (3D hosts): more electrode area lowers the local plating current density
  (less dead Li where the dead-Li fraction rises with current density) at the cost of
  more SEI area; Li fills the host's pores, so deposits are denser (less swelling);
  confined deposition roughens the outer surface less.
* ``artificial-sei``: a mechanically robust layer resists cracking, so less fresh Li is
  exposed per mole moved, and deposition under it is more uniform.
* ``electrolyte``: the electrolyte sets the SEI chemistry and the deposit morphology,
  i.e. the SEI and dead-Li loss level itself: its anchor carries the effect.
* ``separator``: coated and ion-redistributing separators homogenise the Li+ flux and
  resist penetration: they raise the dendrite threshold (a multiplier on Chazalviel's
  limiting current, read by `twin.dendrite` users through
  `CombinedStrategy.dendrite_threshold_factor`), and only slightly lower dead Li.

Composition rule (`combine`), chosen so that combining means "put these together in
one cell":

1. Multipliers multiply (the mechanisms are independent: a host's lower local current
   and a coating's lower fresh-surface exposure act on different terms), and so do
   the effective-area and dendrite-threshold factors.
2. Absolute values (e.g. a revival rate) may be set by one strategy, or by several
   only if they agree; a value is then scaled by the other strategies' multipliers.
3. At most one electrolyte: a cell has one liquid.
4. The loss level (the anchor's loss factor) comes from exactly one anchor: the
   electrolyte's if one is given (the electrolyte sets the SEI chemistry and dead-Li
   propensity; the other strategies keep their structural effects but their anchors,
   measured with their papers' own electrolytes, are not used); otherwise the single
   anchored strategy's own. Several anchored non-electrolyte strategies without an
   electrolyte are ambiguous (each anchor describes a different cell) and are refused.

User strategies are TOML files (`load_strategy_file`); unknown keys are errors naming
the key.

The package by concern: `schema` (knobs, anchors, `Strategy`, family defaults), `files`
(TOML), `registry` (presets and names), `combination` (the rule above),
`preparation` (resolve, anchor and combine for a simulation). Import from here.
"""

from twin.strategies.combination import CombinedStrategy, combine
from twin.strategies.files import (
    ANCHOR_KEYS, FILE_KEYS, REQUIRED_FILE_KEYS, load_strategy_file, strategy_from_dict,
)
from twin.strategies.preparation import full_cell_overrides, prepare, scale_dendrite_risk
from twin.strategies.registry import get_strategy, parse_strategy_spec, presets, resolve
from twin.strategies.schema import (
    AREA_PARAMETERS, FAMILIES, FAMILY_DEFAULTS, KNOBS, LOSS_KNOBS, MAX_GEOMETRY_FACTOR, PLATING_CURRENT_PARAMETER,
    SALT_KNOBS, CEAnchor, Knob, Strategy, StrategyError, with_family_defaults,
)

__all__ = [
    "ANCHOR_KEYS", "AREA_PARAMETERS", "FAMILIES", "FAMILY_DEFAULTS", "FILE_KEYS", "KNOBS", "LOSS_KNOBS",
    "MAX_GEOMETRY_FACTOR", "PLATING_CURRENT_PARAMETER", "REQUIRED_FILE_KEYS", "SALT_KNOBS", "CEAnchor", "CombinedStrategy",
    "Knob", "Strategy", "StrategyError", "combine", "full_cell_overrides", "get_strategy", "load_strategy_file",
    "parse_strategy_spec", "prepare", "presets", "resolve", "scale_dendrite_risk", "strategy_from_dict",
    "with_family_defaults",
]
