"""Salt depletion: the electrolyte's salt concentration, its conductivity and the
polarisation the loss of conductivity adds."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()

# Bounds on the relative salt concentration c / c_fresh read from the conductivity law:
# at 1e-4 the conductivity is ~3e-4 of the fresh one (an electrolyte without salt no
# longer carries the current: the separator alone then costs volts) and the bound keeps
# the solver away from kappa = 0; above 2x the carbonate fits leave their fitted range.
MIN_RELATIVE_CONCENTRATION = 1e-4
MAX_RELATIVE_CONCENTRATION = 2.0


class SaltDepletion(pybamm.BaseSubModel):
    """Salt concentration [mol.m-3] = salt left / solvent volume left, and the ohmic
    polarisation that salt depletion adds.

    The solvent's specific volume v_s = 1 / (rho - c_f M_salt) makes the fresh
    electrolyte (density rho, salt c_f) hold c_f: c = n_salt / (m_solvent v_s). No
    initial value enters, so the law holds from any state (fast mode restarts cycles
    from the states). The conductivity is the parameter set's law at the same relative
    concentration: kappa = kappa_set(c_e0 c / c_f, T); kappa(c_e0) / kappa rises as
    salt is lost (or as the salt concentrates past the conductivity maximum when the
    solvent goes faster), never below 1. The separator's ionic resistance at the fresh conductivity,
    L_sep / (kappa_0 eps_sep^b), grows by that factor: the increase
    R_salt = L_sep / (kappa_0 eps_sep^b) (kappa_0 / kappa - 1) is booked with the porous
    layer's resistance (`LithiumMetalKinetics`), and the porous layer's own resistance
    uses kappa (`DeadLithium`). "electrolyte consumption" "false": the fresh electrolyte.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["electrolyte consumption"] == "true"

    def get_coupled_variables(self, variables):
        c_fresh = LI.nominal_salt_concentration
        if self.active:
            salt = pybamm.maximum(variables["Electrolyte salt [mol.m-2]"], 0)
            solvent = pybamm.maximum(variables["Electrolyte solvent mass [kg.m-2]"], 1e-12)
            specific_volume = 1 / (LI.electrolyte_density - c_fresh * LI.salt_molar_mass)
            c = salt / (solvent * specific_volume)
            relative = pybamm.minimum(
                pybamm.maximum(c / c_fresh, MIN_RELATIVE_CONCENTRATION), MAX_RELATIVE_CONCENTRATION
            )
            T = variables["X-averaged cell temperature [K]"]
            c_e0 = self.param.c_e_init
            kappa_0 = self.param.kappa_e(c_e0, T)
            # never below 1: a fresh 1 M carbonate sits just past its conductivity maximum
            # (~0.85 M), and the small gain of diluting it is not credited
            factor = pybamm.maximum(kappa_0 / self.param.kappa_e(c_e0 * relative, T), 1)
            eps_sep = pybamm.Parameter("Separator porosity")
            b_sep = pybamm.Parameter("Separator Bruggeman coefficient (electrolyte)")
            r_sep_fresh = pybamm.Parameter("Separator thickness [m]") / (kappa_0 * eps_sep**b_sep)
            resistance = r_sep_fresh * (factor - 1)
        else:
            c = on_current_collector(c_fresh)
            relative = on_current_collector(1)
            factor = on_current_collector(1)
            resistance = on_current_collector(0)
        variables.update({
            "Electrolyte salt concentration [mol.m-3]": c,
            "Relative electrolyte salt concentration": relative,
            "Electrolyte conductivity loss factor": factor,
            "Salt depletion resistance [Ohm.m2]": resistance,
        })
        return variables
