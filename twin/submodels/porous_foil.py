"""Conversion of the dense Li foil into porous Li as the cell cycles."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class PorousFoil(pybamm.BaseSubModel):
    """Foil Li converted into porous Li [mol.m-2] as a state (it stays active Li: this
    is a morphology, not a loss, so the Li balance does not see it).

    Stripping pits the foil and opens its grain boundaries, and the Li plated back
    grows as particles entangled in SEI: the flat foil turns into a porous body that
    does not re-densify, which is what makes a Li-metal pouch cell thicken fast in its
    first tens of cycles and slowly once the foil is converted (Niu et al., Nat.
    Energy 4, 551, 2019: +48 % in the first 50 cycles, +19 % in the next 150):

        dn_c/dt = gamma x stripping rate x u / (u + Q_ref),   u = dense foil - n_c,

    gamma the foil converted per mole stripped and Q_ref the reference (cathode)
    amount, so conversion slows as the unconverted foil runs low. The converted Li
    has the porosity of plated Li at the stack pressure (`twin.parameters.stack_pressure`):
    it adds n_c V_Li eps / (1 - eps) to the anode thickness and the same pore volume
    for the electrolyte to fill. "false" keeps the foil dense.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["porous foil"] == "true"

    def get_fundamental_variables(self):
        if not self.active:
            return {"Porous foil lithium [mol.m-2]": on_current_collector(0)}
        n_c = pybamm.Variable("Porous foil lithium [mol.m-2]", domain="current collector",
                              scale=LI.reference_li_amount)
        return {"Porous foil lithium [mol.m-2]": n_c}

    def get_coupled_variables(self, variables):
        n_c = variables["Porous foil lithium [mol.m-2]"]
        n_foil = variables["Dense lithium foil [mol.m-2]"]
        # what is converted can only be foil that is still there
        converted = pybamm.minimum(pybamm.maximum(n_c, 0), n_foil)
        eps = LI.deposit_porosity
        extra = converted * self.param.V_bar_Li * eps / (1 - eps)
        if self.active:
            unconverted = pybamm.maximum(n_foil - n_c, 0)
            q_ref = LI.reference_li_amount
            gamma = LI.foil_conversion_per_stripped_li
            rate = gamma * variables["Lithium stripping rate [mol.m-2.s-1]"] * unconverted / (unconverted + q_ref)
        else:
            rate = on_current_collector(0)
        variables.update({
            "Porous foil conversion rate [mol.m-2.s-1]": rate,
            "Porous foil pore volume [m3.m-2]": extra,
        })
        return variables

    def set_rhs(self, variables):
        if not self.active:
            return
        n_c = variables["Porous foil lithium [mol.m-2]"]
        self.rhs = {n_c: variables["Porous foil conversion rate [mol.m-2.s-1]"]}

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        n_c = variables["Porous foil lithium [mol.m-2]"]
        self.initial_conditions = {n_c: LI.initial_porous_foil_li}
