"""Volume change of the lithium-metal anode and of the cell stack."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters

LI = LithiumMetalParameters()


class AnodeThickness(pybamm.BaseSubModel):
    """Anode thickness = dense foil + porous deposit + dead-Li layer + SEI + the pores of
    the foil converted to porous Li (`PorousFoil`).

    Dense Li moves the interface by V_Li / F per coulomb: 4.85 um per mAh/cm2.
    Swelling is the change of the unit-cell stack thickness (current collectors,
    cathode, separator, anode) relative to its assembled thickness, in percent.
    No states: everything follows from the inventory variables.
    """

    def __init__(self, param, options=None):
        super().__init__(param, "negative", options=options)

    def get_coupled_variables(self, variables):
        V_li = self.param.V_bar_Li
        eps_dep = LI.deposit_porosity
        n_foil = variables["Dense lithium foil [mol.m-2]"]
        n_dep = pybamm.maximum(variables["Plated lithium deposit [mol.m-2]"], 0)
        thickness = (
            n_foil * V_li
            + n_dep * V_li / (1 - eps_dep)
            + variables["Dead lithium layer thickness [m]"]
            + variables["Li-metal SEI volume [m3.m-2]"]
            + variables["Porous foil pore volume [m3.m-2]"]
        )
        initial = (
            LI.initial_active_li * V_li
            + LI.initial_dead_li * V_li
            / (1 - LI.dead_li_layer_porosity)
            + LI.initial_sei_li
            * LI.sei_molar_volume
            + LI.initial_porous_foil_li * V_li * eps_dep / (1 - eps_dep)
        )
        rest_of_stack = LI.stack_thickness_excluding_anode
        variables.update({
            "Anode thickness [m]": thickness,
            "Anode thickness change [m]": thickness - initial,
            "Stack thickness [m]": rest_of_stack + thickness,
            "Swelling [%]": 100 * (thickness - initial) / (rest_of_stack + initial),
        })
        return variables
