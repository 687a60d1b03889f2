"""Formation of the first SEI on a fresh Li-metal (or Cu) surface."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class SEIFormation(pybamm.BaseSubModel):
    """Formation-stage SEI rate [mol.m-2.s-1]: while the cell's SEI holds less Li than
    the formation amount n_form, a share c of the plating current builds it,

        r_form = c x plating rate x max(1 - n_SEI / n_form, 0),

    so the first plating on a fresh surface loses about n_form more than later ones: the
    low first-cycle CE every Li||Cu test shows (Adams et al., Adv. Energy Mater. 8,
    1702097, 2018, run a formation cycle before measuring for this reason). The rate
    is added to the SEI growth of `LithiumMetalSEI`; off with the SEI law "none".
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["SEI on lithium metal"] != "none"

    def get_coupled_variables(self, variables):
        if self.active:
            n_sei = variables["Li-metal SEI lithium [mol.m-2]"]
            n_form = LI.sei_formation_amount
            share = LI.sei_formation_share
            remaining = pybamm.maximum(1 - n_sei / n_form, 0)
            rate = share * variables["Lithium plating rate [mol.m-2.s-1]"] * remaining
        else:
            rate = on_current_collector(0)
        variables["Li-metal SEI formation-stage rate [mol.m-2.s-1]"] = rate
        return variables
