"""SEI growth on the lithium-metal surface."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class LithiumMetalSEI(pybamm.BaseSubModel):
    """Li consumed into SEI [mol.m-2].

    Rate = availability x (k_SEI(T) x A x g + f_fresh M F_act x (plated + stripped rate)),
    k_SEI(T) Arrhenius with the SEI growth activation energy, M the deposit morphology
    loss factor (`DepositMorphology`), F_act the activation factor of a fresh electrode
    (`ActivationTransient`), plus the formation stage on a fresh surface
    (`SEIFormation`):
    growth proportional to the active surface area A (which roughening raises), plus
    re-formation on fresh Li exposed when the interface moves. `g` is 1 for
    "constant rate" (the SEI on Li keeps cracking and never passivates) and
    L_ref / (L_ref + L_SEI) for "diffusion limited" (PyBaMM's solvent-diffusion-limited
    law: rate falls inversely with the film thickness L_SEI = n_SEI V_SEI / A).
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.law = options["SEI on lithium metal"]

    def get_fundamental_variables(self):
        if self.law == "none":
            n_sei = on_current_collector(0)
        else:
            n_sei = pybamm.Variable(
                "Li-metal SEI lithium [mol.m-2]",
                domain="current collector",
                scale=LI.reference_li_amount,
            )
        V_sei = LI.sei_molar_volume
        return {
            "Li-metal SEI lithium [mol.m-2]": n_sei,
            "Li-metal SEI volume [m3.m-2]": n_sei * V_sei,
        }

    def get_coupled_variables(self, variables):
        if self.law == "none":
            rate = on_current_collector(0)
            thickness = on_current_collector(0)
        else:
            n_sei = variables["Li-metal SEI lithium [mol.m-2]"]
            area = variables["Li-metal surface area factor"]
            availability = variables["Lithium metal availability"]
            plate = variables["Lithium plating rate [mol.m-2.s-1]"]
            strip = variables["Lithium stripping rate [mol.m-2.s-1]"]
            # Arrhenius growth (chemical corrosion); fresh surface per mole moved follows
            # the deposit's fineness (M, `DepositMorphology`)
            T = variables["X-averaged cell temperature [K]"]
            E_sei = LI.sei_activation_energy
            T_ref = LI.morphology_reference_temperature
            k_sei = LI.sei_rate_constant * pybamm.exp(E_sei / self.param.R * (1 / T_ref - 1 / T))
            f_fresh = (LI.sei_fresh_surface_fraction * variables["Deposit morphology loss factor"]
                       * variables["Activation loss factor"])  # a fresh SEI matures (`ActivationTransient`)
            V_sei = LI.sei_molar_volume
            thickness = n_sei * V_sei / area
            if self.law == "diffusion limited":
                L_ref = LI.sei_reference_thickness
                passivation = L_ref / (L_ref + thickness)
            else:
                passivation = pybamm.Scalar(1)
            rate = availability * (k_sei * area * passivation + f_fresh * (plate + strip)) + variables[
                "Li-metal SEI formation-stage rate [mol.m-2.s-1]"]
        variables.update({
            "Li-metal SEI formation rate [mol.m-2.s-1]": rate,
            "Li-metal SEI thickness [m]": thickness,
        })
        return variables

    def set_rhs(self, variables):
        if self.law == "none":
            return
        n_sei = variables["Li-metal SEI lithium [mol.m-2]"]
        self.rhs = {n_sei: variables["Li-metal SEI formation rate [mol.m-2.s-1]"]}

    def set_initial_conditions(self, variables):
        if self.law == "none":
            return
        n_sei = variables["Li-metal SEI lithium [mol.m-2]"]
        self.initial_conditions = {n_sei: LI.initial_sei_li}
