"""Electrolyte consumed by SEI formation, and dry-out of the cell."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class ElectrolyteConsumption(pybamm.BaseSubModel):
    """Electrolyte mass [kg.m-2] as a state, consumed in proportion to SEI Li formed.

    The wetting fraction w = r / (1 + r^k)^(1/k), r = electrolyte volume / pore volume
    to fill (cathode and separator pores, the porous plated deposit, the dead-Li
    layer, the foil converted to porous Li), is 1 while there is enough electrolyte and falls towards r when there is
    not: unwetted interface is lost to the reactions (see the utilisation submodels)
    and the porous layer resistance rises as 1/w. "false" keeps w = 1.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["electrolyte consumption"] == "true"

    def get_fundamental_variables(self):
        m_0 = LI.initial_electrolyte_mass
        if self.active:
            mass = pybamm.Variable("Electrolyte mass [kg.m-2]", domain="current collector", scale=m_0)
        else:
            mass = on_current_collector(m_0)
        return {"Electrolyte mass [kg.m-2]": mass}

    def get_coupled_variables(self, variables):
        mass = variables["Electrolyte mass [kg.m-2]"]
        if self.active:
            V_li = self.param.V_bar_Li
            eps_dep = LI.deposit_porosity
            eps_dead = LI.dead_li_layer_porosity
            n_dep = pybamm.maximum(variables["Plated lithium deposit [mol.m-2]"], 0)
            n_dead = variables["Dead lithium [mol.m-2]"]
            pore_volume = (
                LI.wetted_pore_volume
                + n_dep * V_li * eps_dep / (1 - eps_dep)
                + n_dead * V_li * eps_dead / (1 - eps_dead)
                + variables["Porous foil pore volume [m3.m-2]"]
            )
            ratio = pybamm.maximum(mass, 0) / LI.electrolyte_density / pore_volume
            k = LI.wetting_sharpness
            wetting = ratio / (1 + ratio**k) ** (1 / k)
        else:
            wetting = on_current_collector(1)
        variables["Electrolyte wetting fraction"] = wetting
        return variables

    def set_rhs(self, variables):
        if not self.active:
            return
        mass = variables["Electrolyte mass [kg.m-2]"]
        r_sei = variables["Li-metal SEI formation rate [mol.m-2.s-1]"]
        consumed = LI.electrolyte_per_sei_li
        self.rhs = {mass: -consumed * r_sei}

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        mass = variables["Electrolyte mass [kg.m-2]"]
        self.initial_conditions = {mass: LI.initial_electrolyte_mass}
