"""Gradual cathode fade: loss of positive-electrode active material (LAM) driven by the
cathode potential and temperature."""

from __future__ import annotations

import pybamm

from twin.parameters.cathode_fade import CathodeFadeParameters
from twin.parameters.li_metal import LithiumMetalParameters

FADE = CathodeFadeParameters()
LI = LithiumMetalParameters()
# Scale of the lost active material fraction (the solver's unit for it).
LOST_FRACTION_SCALE = 0.01


class CathodeMaterialLoss(pybamm.active_material.BaseModel):
    """Positive-electrode active material volume fraction eps = eps_0 f, with the
    retained fraction f a state (PyBaMM's `LossActiveMaterial` family, a law of the
    twin's own):

        df/dt = -f k exp((U - U_onset) / U_scale) exp(Ea / R (1 / T_ref - 1 / T))

    U is the cathode's x-averaged surface open-circuit potential vs Li, so the fade
    runs while the cathode sits high (the end of a charge and its CV hold) and grows
    with the upper cut-off voltage; T the cell temperature. Sources and assumptions:
    `twin.parameters.cathode_fade`.

    The Li held by the lost material (at its mean concentration) is lost with it
    ("Lithium lost with positive electrode active material [mol.m-2]", a state; as
    PyBaMM's "Loss of lithium due to loss of active material in positive electrode
    [mol]", which is also set). Both states start from parameters, so fast mode can
    restart them from any cycle.

    The state solved for is the lost fraction 1 - f (small, scaled to 1 %): the solver's
    relative tolerance then bounds its error by a fraction of the loss itself, which
    keeps the cathode's Li (eps c L, a product of two states) and the Li lost with
    material summing to what they started with to well within 1e-6.
    """

    def __init__(self, param, options):
        super().__init__(param, "positive", options)

    def get_fundamental_variables(self):
        lost = pybamm.Variable("Positive electrode active material lost fraction", domain="current collector",
                               scale=LOST_FRACTION_SCALE)
        f = 1 - lost
        n_lost = pybamm.Variable(
            "Lithium lost with positive electrode active material [mol.m-2]", domain="current collector",
            scale=LOST_FRACTION_SCALE * LI.reference_li_amount,
        )
        eps_0 = pybamm.x_average(self.phase_param.epsilon_s)
        variables = self._get_standard_active_material_variables(eps_0 * f)
        variables.update({
            "Positive electrode active material lost fraction": lost,
            "Positive electrode active material retained fraction": f,
            "Lithium lost with positive electrode active material [mol.m-2]": n_lost,
            "Loss of lithium due to loss of active material in positive electrode [mol]":
                pybamm.yz_average(n_lost) * self.param.A_cc,
        })
        return variables

    def get_coupled_variables(self, variables):
        f = variables["Positive electrode active material retained fraction"]
        U = variables["X-averaged positive electrode open-circuit potential [V]"]
        T = variables["X-averaged positive electrode temperature [K]"]
        arrhenius = pybamm.exp(FADE.activation_energy / self.param.R * (1 / FADE.reference_temperature - 1 / T))
        rate = FADE.rate_at_onset * pybamm.exp((U - FADE.onset_potential) / FADE.potential_scale) * arrhenius
        df_dt = -f * rate
        eps_0 = pybamm.x_average(self.phase_param.epsilon_s)
        variables.update(self._get_standard_active_material_change_variables(eps_0 * df_dt))
        variables["Positive electrode active material loss rate [s-1]"] = rate
        return variables

    def set_rhs(self, variables):
        f = variables["Positive electrode active material retained fraction"]
        lost = variables["Positive electrode active material lost fraction"]
        n_lost = variables["Lithium lost with positive electrode active material [mol.m-2]"]
        deps_dt = variables["X-averaged positive electrode active material volume fraction change [s-1]"]
        c_s = pybamm.x_average(variables["R-averaged positive particle concentration [mol.m-3]"])
        self.rhs = {
            lost: f * variables["Positive electrode active material loss rate [s-1]"],
            # the lost volume per electrode area, eps rate x thickness, at its mean Li content
            n_lost: -deps_dt * self.domain_param.L * c_s,
        }

    def set_initial_conditions(self, variables):
        self.initial_conditions = {
            variables["Positive electrode active material lost fraction"]: 1 - FADE.initial_retained_fraction,
            variables["Lithium lost with positive electrode active material [mol.m-2]"]: FADE.initial_lost_lithium,
        }
