"""Dead (electronically isolated) lithium and the porous layer it builds."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class DeadLithium(pybamm.BaseSubModel):
    """Dead Li [mol.m-2]: a fraction f of the stripped Li is left isolated.

    "constant fraction": f = f_0. "current dependent": f = f_0 (J_plating / J_ref)^b M;
    the deposit morphology (and so how much of it is orphaned on stripping) is set by
    the plating current density, which is the protocol's CC charge current density,
    and by the plated amount, temperature and stack pressure (M, `DepositMorphology`);
    both laws carry the activation factor of a fresh electrode (`ActivationTransient`).
    Dead Li can be revived at a first-order rate (iodine-type hosts). Dead Li and SEI
    form a porous layer whose ionic resistance L / (kappa_e eps^b) adds an overpotential
    (Xu et al., J. Electrochem. Soc. 166, A3456, 2019); it rises as electrolyte dries
    and as its salt is lost (kappa_e of the depleted electrolyte, `SaltDepletion`).
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.law = options["dead lithium"]

    def get_fundamental_variables(self):
        if self.law == "none":
            n_dead = on_current_collector(0)
        else:
            n_dead = pybamm.Variable(
                "Dead lithium [mol.m-2]",
                domain="current collector",
                scale=LI.reference_li_amount,
            )
        V_li = self.param.V_bar_Li
        eps = LI.dead_li_layer_porosity
        return {
            "Dead lithium [mol.m-2]": n_dead,
            "Dead lithium layer thickness [m]": n_dead * V_li / (1 - eps),
        }

    def get_coupled_variables(self, variables):
        if self.law == "none":
            r_dead = on_current_collector(0)
            r_revive = on_current_collector(0)
            resistance = on_current_collector(0)
        else:
            n_dead = variables["Dead lithium [mol.m-2]"]
            strip = variables["Lithium stripping rate [mol.m-2.s-1]"]
            availability = variables["Lithium metal availability"]
            f_0 = LI.dead_li_fraction
            if self.law == "current dependent":
                J = LI.plating_current_density
                J_ref = LI.dead_li_reference_current_density
                b = LI.dead_li_exponent
                # finer deposits (first Li of a plating, cold, unpressed) orphan more
                fraction = f_0 * (J / J_ref) ** b * variables["Deposit morphology loss factor"]
            else:
                fraction = f_0
            # a fresh electrode orphans more (`ActivationTransient`)
            fraction = fraction * variables["Activation loss factor"]
            r_dead = availability * fraction * strip
            r_revive = LI.dead_li_revival_rate * pybamm.maximum(n_dead, 0)
            # Porous layer: dead Li skeleton plus the SEI that fills it.
            eps = LI.dead_li_layer_porosity
            brugg = LI.dead_li_layer_bruggeman
            L_layer = variables["Dead lithium layer thickness [m]"] + variables["Li-metal SEI volume [m3.m-2]"]
            T = variables["X-averaged cell temperature [K]"]
            # the electrolyte's conductivity as salt is lost (`SaltDepletion`)
            kappa = self.param.kappa_e(self.param.c_e_init, T) / variables["Electrolyte conductivity loss factor"]
            wetting = variables["Electrolyte wetting fraction"]
            resistance = L_layer / (kappa * eps**brugg * wetting)
        variables.update({
            "Dead lithium formation rate [mol.m-2.s-1]": r_dead,
            "Dead lithium revival rate [mol.m-2.s-1]": r_revive,
            "Lithium metal porous layer resistance [Ohm.m2]": resistance,
        })
        return variables

    def set_rhs(self, variables):
        if self.law == "none":
            return
        n_dead = variables["Dead lithium [mol.m-2]"]
        self.rhs = {
            n_dead: variables["Dead lithium formation rate [mol.m-2.s-1]"]
            - variables["Dead lithium revival rate [mol.m-2.s-1]"]
        }

    def set_initial_conditions(self, variables):
        if self.law == "none":
            return
        n_dead = variables["Dead lithium [mol.m-2]"]
        self.initial_conditions = {n_dead: LI.initial_dead_li}
