"""Activation (formation) transient: a fresh Li-metal electrode loses more per mole
cycled than a conditioned one."""

from __future__ import annotations

import pybamm

from twin.parameters.activation import ActivationParameters
from twin.submodels.options import on_current_collector

ACT = ActivationParameters()


class ActivationTransient(pybamm.BaseSubModel):
    """Activation loss factor F_act = 1 + a exp(-Q / Q_act) (dimensionless, 1 on a
    conditioned electrode), Q [mol.m-2] the Li plated since assembly, a state
    (dQ/dt = plating rate) that fast mode carries.

    It multiplies the per-mole losses of cycling, the dead-Li fraction (`DeadLithium`)
    and the fresh-surface SEI (`LithiumMetalSEI`): the SEI matures and the first
    deposits' surface settles over the first few mAh/cm2 plated, so the CE rises over
    the first cycles, faster at higher capacity per cycle (see
    `twin.parameters.activation` for the sources and numbers). The first SEI on a fresh
    surface (`SEIFormation`) is apart: it is the cycle-1 loss. "false" keeps F_act = 1
    and Q at its initial value.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["activation transient"] == "true"

    def get_fundamental_variables(self):
        if self.active:
            plated = pybamm.Variable("Lithium plated since assembly [mol.m-2]", domain="current collector",
                                     scale=ACT.activation_li_amount)
            factor = 1 + ACT.loss_enhancement * pybamm.exp(-pybamm.maximum(plated, 0) / ACT.activation_li_amount)
        else:
            plated = on_current_collector(ACT.initial_plated_since_assembly)
            factor = on_current_collector(1)
        return {"Lithium plated since assembly [mol.m-2]": plated, "Activation loss factor": factor}

    def set_rhs(self, variables):
        if not self.active:
            return
        plated = variables["Lithium plated since assembly [mol.m-2]"]
        self.rhs = {plated: variables["Lithium plating rate [mol.m-2.s-1]"]}

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        plated = variables["Lithium plated since assembly [mol.m-2]"]
        self.initial_conditions = {plated: ACT.initial_plated_since_assembly}
