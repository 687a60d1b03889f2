"""Gradual cathode fade: loss of positive-electrode active material (LAM) driven by the
cathode potential and temperature."""

from __future__ import annotations

import pybamm

from twin.parameters.cathode_fade import CathodeFadeParameters

FADE = CathodeFadeParameters()
# Scale of the lost active material fraction (the solver's unit for it).
LOST_FRACTION_SCALE = 0.01


class CathodeMaterialLoss(pybamm.active_material.BaseModel):
    """Positive-electrode active material volume fraction eps = eps_0 f, f the retained
    fraction (PyBaMM's `LossActiveMaterial` family, a law of the twin's own):

        df/dt = -f k exp((U - U_onset) / U_scale) exp(Ea / R (1 / T_ref - 1 / T))

    U is the cathode's x-averaged surface open-circuit potential vs Li, so the fade
    runs while the cathode sits high (the end of a charge and its CV hold) and grows
    with the upper cut-off voltage; T the cell temperature. Sources and assumptions:
    `twin.parameters.cathode_fade`.

    The Li held by the lost material (at its mean concentration) is lost with it
    ("Lithium lost with positive electrode active material [mol.m-2]"; as PyBaMM's "Loss
    of lithium due to loss of active material in positive electrode [mol]", which is
    also set). The lost fraction and the lost Li start from parameters, so fast mode can
    restart them from any cycle.

    Li is conserved exactly by the discrete solution, not only by the equations: the
    cathode's Li eps_0 (1 - phi) c L is a product of states (phi = 1 - f the lost
    fraction, c the mean Li concentration), which a BDF solver does not keep summing to
    a constant with the Li lost, d n_lost/dt = eps_0 L c dphi/dt. So the state is
    J = int phi dc (dc/dt = -3 j / (R F), the particles' own surface flux), and
    n_lost = eps_0 L (phi c - J): then cathode Li + n_lost = eps_0 L (c - J) is linear in
    the states and holds to the solver's round-off.
    """

    def __init__(self, param, options):
        super().__init__(param, "positive", options)

    def get_fundamental_variables(self):
        lost = pybamm.Variable("Positive electrode active material lost fraction", domain="current collector",
                               scale=LOST_FRACTION_SCALE)
        f = 1 - lost
        history = pybamm.Variable("Positive electrode lost-fraction-weighted lithiation [mol.m-3]",
                                  domain="current collector", scale=LOST_FRACTION_SCALE * self.phase_param.c_max)
        eps_0 = pybamm.x_average(self.phase_param.epsilon_s)
        variables = self._get_standard_active_material_variables(eps_0 * f)
        variables.update({
            "Positive electrode lost-fraction-weighted lithiation [mol.m-3]": history,
            "Positive electrode active material lost fraction": lost,
            "Positive electrode active material retained fraction": f,
        })
        return variables

    def get_coupled_variables(self, variables):
        f = variables["Positive electrode active material retained fraction"]
        lost = variables["Positive electrode active material lost fraction"]
        history = variables["Positive electrode lost-fraction-weighted lithiation [mol.m-3]"]
        U = variables["X-averaged positive electrode open-circuit potential [V]"]
        T = variables["X-averaged positive electrode temperature [K]"]
        arrhenius = pybamm.exp(FADE.activation_energy / self.param.R * (1 / FADE.reference_temperature - 1 / T))
        rate = FADE.rate_at_onset * pybamm.exp((U - FADE.onset_potential) / FADE.potential_scale) * arrhenius
        eps_0 = pybamm.x_average(self.phase_param.epsilon_s)
        variables.update(self._get_standard_active_material_change_variables(-eps_0 * f * rate))
        c_s = pybamm.x_average(variables["R-averaged positive particle concentration [mol.m-3]"])
        # mean Li concentration change: the particles' surface flux j / F over 3 / R
        j = pybamm.x_average(variables["Positive electrode interfacial current density [A.m-2]"])
        R = pybamm.x_average(self.phase_param.R)
        n_lost = eps_0 * self.domain_param.L * (lost * c_s - history)
        variables.update({
            "Positive electrode active material loss rate [s-1]": rate,
            "Positive electrode mean lithiation rate [mol.m-3.s-1]": -3 * j / (R * self.param.F),
            "Lithium lost with positive electrode active material [mol.m-2]": n_lost,
            "Loss of lithium due to loss of active material in positive electrode [mol]":
                pybamm.yz_average(n_lost) * self.param.A_cc,
        })
        return variables

    def set_rhs(self, variables):
        f = variables["Positive electrode active material retained fraction"]
        lost = variables["Positive electrode active material lost fraction"]
        history = variables["Positive electrode lost-fraction-weighted lithiation [mol.m-3]"]
        self.rhs = {
            lost: f * variables["Positive electrode active material loss rate [s-1]"],
            history: lost * variables["Positive electrode mean lithiation rate [mol.m-3.s-1]"],
        }

    def set_initial_conditions(self, variables):
        lost_0 = 1 - FADE.initial_retained_fraction
        eps_0 = pybamm.x_average(self.phase_param.epsilon_s)
        c_0 = pybamm.r_average(pybamm.x_average(self.phase_param.c_init))
        # n_lost starts at its parameter: J_0 = phi_0 c_0 - n_lost_0 / (eps_0 L)
        self.initial_conditions = {
            variables["Positive electrode active material lost fraction"]: lost_0,
            variables["Positive electrode lost-fraction-weighted lithiation [mol.m-3]"]:
                lost_0 * c_0 - FADE.initial_lost_lithium / (eps_0 * self.domain_param.L),
        }
