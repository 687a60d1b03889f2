"""How fine (and so how lossy) the plated Li is, from the plating conditions."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class DepositMorphology(pybamm.BaseSubModel):
    """Deposit morphology loss factor M (dimensionless; 1 at the reference conditions
    of a deep deposit): it multiplies the share of the moved Li that is orphaned (dead
    Li) or re-forms SEI on fresh surface, both set by the deposit's specific area.

    M = M_nucleation x M_temperature x M_pressure:

    * nucleation stage, M_n = 1 + a n_nuc / (n_dep + n_foil + n_nuc): the first Li of
      a plating on bare substrate forms small nuclei of high specific area, later Li
      coarsens them (Pei et al., Nano Lett. 17, 1132, 2017), and the last Li stripped
      is that fine base. Per cycle this costs about f a n_nuc ln(1 + Q / n_nuc) on top
      of f Q, so the loss per plated mole falls and the Li||Cu CE rises with the plated
      capacity Q (Adams et al., Adv. Energy Mater. 8, 1702097, 2018). n_foil is the Li
      under the deposit (the dense or porous foil, `LithiumInventory`): Pei et al.'s
      nuclei form on the foreign (Cu) substrate, whose nucleation overpotential sets
      their size; Li plated on Li needs no heterogeneous nucleation (A: the stage is
      absent there), and a strip that leaves Li underneath never reaches the fine
      base. So the stage acts in Li||Cu tests and anode-free cells, whose every strip
      ends on bare Cu, and fades in cells cycled over a Li foil (Li||Li, Li excess);
      the Li||Cu anchors, with no foil, are unchanged;
    * temperature, M_T = exp(E_c / R (1/T - 1/T_ref)): warmer plating gives larger,
      denser grains (Wang et al., Nat. Energy 4, 664, 2019, larger Li and higher CE at
      60 degC), so M_T < 1 above T_ref;
    * stack pressure, M_P = ((1 + P_ref / P_c) / (1 + P / P_c))^(1/2): pressure keeps
      deposits dense and in contact (Louli et al., J. Electrochem. Soc. 166, A1291,
      2019; Fang et al., Nat. Energy 6, 987, 2021).

    "constant" keeps M = 1.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["deposit morphology"] == "conditions dependent"

    def get_coupled_variables(self, variables):
        if not self.active:
            variables["Deposit morphology loss factor"] = on_current_collector(1)
            return variables
        n_dep = pybamm.maximum(variables["Plated lithium deposit [mol.m-2]"], 0)
        # Li under the deposit: a plating on it starts on Li, not on bare substrate
        n_under = variables["Dense lithium foil [mol.m-2]"]
        n_nuc = LI.nucleation_li_amount
        a_nuc = LI.nucleation_loss_enhancement
        nucleation = 1 + a_nuc * n_nuc / (n_dep + n_under + n_nuc)
        T = variables["X-averaged cell temperature [K]"]
        T_ref = LI.morphology_reference_temperature
        E_c = LI.deposit_coarsening_activation_energy
        temperature = pybamm.exp(E_c / self.param.R * (1 / T - 1 / T_ref))
        P = LI.stack_pressure
        P_ref = LI.reference_stack_pressure
        P_c = LI.stack_pressure_half_effect
        pressure = pybamm.sqrt((1 + P_ref / P_c) / (1 + P / P_c))
        variables.update({
            "Deposit nucleation-stage factor": nucleation,
            "Deposit temperature factor": temperature,
            "Deposit pressure factor": pressure,
            "Deposit morphology loss factor": nucleation * temperature * pressure,
        })
        return variables
