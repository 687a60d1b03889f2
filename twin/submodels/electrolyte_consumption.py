"""Electrolyte consumed by SEI formation: salt and solvent apart, and dry-out of the cell."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class ElectrolyteConsumption(pybamm.BaseSubModel):
    """Electrolyte mass [kg.m-2] and its salt [mol.m-2] as states, both consumed in
    proportion to the SEI Li formed, each with its own stoichiometry.

    Per mole of SEI Li, nu mol of salt (anion reduction, e.g. LiPF6 -> LiF, LiFSI ->
    LiF/Li2S/Li3N) and (m_e - nu M_salt) kg of solvent (solvent reduction) are used up:
    m_e is the electrolyte mass made useless per SEI Li (`electrolyte_per_sei_li`), nu
    `salt_per_sei_li`, M_salt the salt's molar mass; once the salt is gone the solvent
    takes all of m_e. The solvent mass is the electrolyte
    mass less its salt. The Li of a consumed salt goes into the SEI with its anion's
    fragments (LiF...): "Salt lithium in SEI [mol.m-2]" counts it for the Li balance.

    The wetting fraction w = r / (1 + r^k)^(1/k), r = electrolyte volume / pore volume
    to fill (cathode and separator pores, the porous plated deposit, the dead-Li
    layer, the foil converted to porous Li), is 1 while there is enough electrolyte and
    falls towards r when there is not: unwetted interface is lost to the reactions (see
    the utilisation submodels) and the porous layer resistance rises as 1/w. "false"
    keeps w = 1 and the fresh electrolyte.

    `electrodes`: Li-metal electrodes that share the cell's electrolyte, each in the
    simulated electrode's state (1 for a full cell or a Li||Cu test, whose counter is a
    cathode or fresh Li; 2 for the mirror Li||Li cell, whose counter electrode builds
    the same SEI and holds the same porous deposit, dead-Li layer and converted foil):
    the electrolyte is consumed, and the electrode pores are filled, that many times.
    The separator and cathode pores (`wetted_pore_volume`) are the cell's, counted once.
    """

    def __init__(self, param, options, electrodes: int = 1):
        super().__init__(param, "negative", options=options)
        self.active = options["electrolyte consumption"] == "true"
        self.electrodes = electrodes

    def get_fundamental_variables(self):
        m_0 = LI.initial_electrolyte_mass
        n_0 = LI.initial_salt
        if self.active:
            mass = pybamm.Variable("Electrolyte mass [kg.m-2]", domain="current collector", scale=m_0)
            # scale: the salt of the fresh electrolyte of the cell (the state's own
            # initial value is an input in fast mode, so not used as the scale)
            scale = LI.nominal_salt_concentration * m_0 / LI.electrolyte_density
            salt = pybamm.Variable("Electrolyte salt [mol.m-2]", domain="current collector", scale=scale)
        else:
            mass = on_current_collector(m_0)
            salt = on_current_collector(n_0)
        return {
            "Electrolyte mass [kg.m-2]": mass,
            "Electrolyte salt [mol.m-2]": salt,
            "Electrolyte solvent mass [kg.m-2]": mass - salt * LI.salt_molar_mass,
            # salt Li that left the electrolyte for the SEI since the start of the run
            "Salt lithium in SEI [mol.m-2]": n_0 - salt,
        }

    def get_coupled_variables(self, variables):
        mass = variables["Electrolyte mass [kg.m-2]"]
        if self.active:
            V_li = self.param.V_bar_Li
            eps_dep = LI.deposit_porosity
            eps_dead = LI.dead_li_layer_porosity
            n_dep = pybamm.maximum(variables["Plated lithium deposit [mol.m-2]"], 0)
            n_dead = variables["Dead lithium [mol.m-2]"]
            electrode_pores = (
                n_dep * V_li * eps_dep / (1 - eps_dep)
                + n_dead * V_li * eps_dead / (1 - eps_dead)
                + variables["Porous foil pore volume [m3.m-2]"]
            )
            pore_volume = LI.wetted_pore_volume + self.electrodes * electrode_pores
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
        salt = variables["Electrolyte salt [mol.m-2]"]
        r_sei = variables["Li-metal SEI formation rate [mol.m-2.s-1]"]
        # salt consumption stops when none is left (smoothly: no negative salt)
        n_ref = 1e-3 * LI.nominal_salt_concentration * LI.initial_electrolyte_mass / LI.electrolyte_density
        salt_left = pybamm.maximum(salt, 0) / (pybamm.maximum(salt, 0) + n_ref)
        salt_rate = LI.salt_per_sei_li * r_sei * salt_left
        # the electrolyte made useless per SEI Li: the salt's share, the rest is solvent
        # (all of it once the salt is gone)
        # every Li-metal electrode in the cell builds its SEI from the same electrolyte
        self.rhs = {
            mass: -self.electrodes * LI.electrolyte_per_sei_li * r_sei,
            salt: -self.electrodes * salt_rate,
        }

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        self.initial_conditions = {
            variables["Electrolyte mass [kg.m-2]"]: LI.initial_electrolyte_mass,
            variables["Electrolyte salt [mol.m-2]"]: LI.initial_salt,
        }
