"""Activation (formation) transient of a Li-metal electrode: parameter names and values.

The names are declared once, as `twin.parameters.li_metal.LithiumMetalParameters`
declares the anode's: class attributes are PyBaMM parameter *names*, an instance's
attributes the `pybamm.Parameter` symbols.

The law (`twin.submodels.activation`): the per-mole losses of a plating/stripping cycle
(dead-Li fraction and fresh-surface SEI) carry a factor

    F_act = 1 + a exp(-Q / Q_act),

Q the Li plated on the electrode since the cell was assembled. A fresh electrode (bare
Cu, or a Li foil with its native film) loses more per mole than a conditioned one: the
SEI matures and the first deposits' high surface area settles, so Li||Cu CE rises over
the first cycles (S: B. D. Adams et al., Adv. Energy Mater. 8, 1702097, 2018: "higher
cycling capacity accelerates stabilization and raises average CE" -- the transient is
set by the charge plated, not by the cycle count; J. Xiao et al., Nat. Energy 5, 561,
2020: CE itself changes over a cell's first cycles). Where each number comes from (A:
assumption of this product, no per-cycle CE series with numbers was found):

* a = 1: a fresh electrode loses twice per mole what a conditioned one does (A: the
  baseline's Li||Cu CE at 0.5 mA/cm2 and 1 mAh/cm2 then rises by about 0.7 points from
  cycle 2 to its settled value, besides the formation-stage SEI of cycle 1
  (`twin.submodels.sei_formation`); typical published curves rise by 1-3 points, so
  this is the low end. a = 1.5 was tried: an anode-free cell with a 6x lossier anode
  (the compare test's) then lost more than 5 % of its first discharge to it).
* Q_act = 3 mAh/cm2: at 1 mAh/cm2 per cycle the excess falls e-fold every 3 cycles and
  is below 5 % of the loss by cycle ~10; at 6 mAh/cm2 it is gone after the first
  cycle or two (A: the 5-20 cycles over which published Li||Cu CEs settle, shorter at
  higher capacity as Adams et al. report).
"""

from __future__ import annotations

from typing import Any

from twin.parameters.li_metal import ParameterNames
from twin.units import mol_per_m2_from_mAh_per_cm2

ACTIVATION_LOSS_ENHANCEMENT = 1.0
ACTIVATION_CAPACITY_MAH_CM2 = 3.0


class ActivationParameters(ParameterNames):
    """Names (class attributes) and symbols (instance attributes) of the activation
    transient's parameters (values: `activation_parameter_values`)."""

    _kind = "activation"

    loss_enhancement = "Activation loss enhancement"
    activation_li_amount = "Activation lithium amount [mol.m-2]"
    # slow state's starting value (fast mode sets it per representative cycle)
    initial_plated_since_assembly = "Initial lithium plated since assembly [mol.m-2]"


def activation_parameter_values() -> dict[str, Any]:
    """The activation transient's values (SI)."""
    names = ActivationParameters
    return {
        names.loss_enhancement: ACTIVATION_LOSS_ENHANCEMENT,
        names.activation_li_amount: mol_per_m2_from_mAh_per_cm2(ACTIVATION_CAPACITY_MAH_CM2),
        names.initial_plated_since_assembly: 0.0,
    }
