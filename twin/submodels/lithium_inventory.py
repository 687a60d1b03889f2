"""Finite inventory of active (electronically connected) lithium metal."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters

LI = LithiumMetalParameters()


class LithiumInventory(pybamm.BaseSubModel):
    """Active Li metal [mol.m-2] as a state: plated on charge, stripped on discharge,
    consumed by SEI and dead-Li formation, restored by dead-Li revival.

    Also tracks the porous plated deposit sitting on top of the dense foil (deposits
    strip first) and the cumulative plated and stripped Li (per-cycle capacities).
    The lithium availability n / (n + n_ref) goes to zero as the active Li runs out;
    the interface utilisation uses it so that an anode-limited discharge ends with a
    voltage collapse instead of a negative inventory.
    """

    def __init__(self, param, options=None):
        super().__init__(param, "negative", options=options)

    def get_fundamental_variables(self):
        scale = LI.reference_li_amount
        n_li = pybamm.Variable("Active lithium metal [mol.m-2]", domain="current collector", scale=scale)
        n_dep = pybamm.Variable("Plated lithium deposit [mol.m-2]", domain="current collector", scale=scale)
        q_plated = pybamm.Variable("Cumulative lithium plated [mol.m-2]", domain="current collector", scale=scale)
        q_stripped = pybamm.Variable(
            "Cumulative lithium stripped [mol.m-2]", domain="current collector", scale=scale
        )
        n_ref = LI.availability_reference_amount
        n_pos = pybamm.maximum(n_li, 0)
        # Dense foil is what is not porous deposit (never negative).
        n_foil = pybamm.maximum(n_li - n_dep, 0)
        return {
            "Active lithium metal [mol.m-2]": n_li,
            "Plated lithium deposit [mol.m-2]": n_dep,
            "Dense lithium foil [mol.m-2]": n_foil,
            "Cumulative lithium plated [mol.m-2]": q_plated,
            "Cumulative lithium stripped [mol.m-2]": q_stripped,
            "Lithium metal availability": n_pos / (n_pos + n_ref),
        }

    def get_coupled_variables(self, variables):
        i = variables["Current collector current density [A.m-2]"]
        F = self.param.F
        # Half-cell sign: positive current strips Li from the metal (discharge).
        variables.update({
            "Lithium stripping rate [mol.m-2.s-1]": pybamm.maximum(i, 0) / F,
            "Lithium plating rate [mol.m-2.s-1]": pybamm.maximum(-i, 0) / F,
        })
        return variables

    def set_rhs(self, variables):
        n_li = variables["Active lithium metal [mol.m-2]"]
        n_dep = variables["Plated lithium deposit [mol.m-2]"]
        q_plated = variables["Cumulative lithium plated [mol.m-2]"]
        q_stripped = variables["Cumulative lithium stripped [mol.m-2]"]
        plate = variables["Lithium plating rate [mol.m-2.s-1]"]
        strip = variables["Lithium stripping rate [mol.m-2.s-1]"]
        r_sei = variables["Li-metal SEI formation rate [mol.m-2.s-1]"]
        r_dead = variables["Dead lithium formation rate [mol.m-2.s-1]"]
        r_revive = variables["Dead lithium revival rate [mol.m-2.s-1]"]
        n_ref = LI.availability_reference_amount
        # Losses and stripping take the porous deposit first, then the dense foil; once
        # the foil is gone everything comes from the deposit, so the deposit never
        # outgrows the active inventory.
        n_foil = variables["Dense lithium foil [mol.m-2]"]
        has_deposit = pybamm.maximum(n_dep, 0) / (pybamm.maximum(n_dep, 0) + n_ref)
        has_foil = n_foil / (n_foil + n_ref)
        deposit_share = 1 - (1 - has_deposit) * has_foil
        self.rhs = {
            n_li: plate - strip - r_sei - r_dead + r_revive,
            n_dep: plate + r_revive - deposit_share * (strip + r_sei + r_dead),
            q_plated: plate,
            q_stripped: strip,
        }

    def set_initial_conditions(self, variables):
        n_li = variables["Active lithium metal [mol.m-2]"]
        self.initial_conditions = {
            n_li: LI.initial_active_li,
            variables["Plated lithium deposit [mol.m-2]"]: pybamm.Parameter(
                "Initial plated lithium deposit [mol.m-2]"
            ),
            variables["Cumulative lithium plated [mol.m-2]"]: pybamm.Scalar(0),
            variables["Cumulative lithium stripped [mol.m-2]"]: pybamm.Scalar(0),
        }
