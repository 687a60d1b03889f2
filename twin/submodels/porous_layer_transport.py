"""Salt transport through the tortuous dead-Li/SEI layer: the concentration
overpotential that ends symmetric Li||Li cells."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters

LI = LithiumMetalParameters()

# Floor on the depleted side's concentration, as a fraction of the bulk: the
# overpotential then reaches (2RT/F)(1 - t+) ln(2e12) ~ 1 V (with the kinetics at that
# concentration, more), past any overpotential limit, while the solver never meets c = 0.
MIN_SURFACE_CONCENTRATION_FRACTION = 1e-12


class PorousLayerTransport(pybamm.BaseSubModel):
    """Concentration overpotential of salt diffusion through the porous layers and the
    separator at the current density j.

    Steady, linear profiles (the layer's diffusion time L^2 eps^b / D, minutes for
    100 um, is short against a half-cycle): across a layer of thickness L, porosity eps
    and Bruggeman exponent b the salt concentration changes by
    dc = |j| (1 - t+) L / (F D eps^b), and by |j| (1 - t+) L_sep / (F D eps_sep^b_sep)
    across the separator. With the total dc split evenly about the bulk c (salt is
    conserved), the electrode that plates sees c - dc/2 and the one that strips c + dc/2;
    the concentration overpotential of the binary electrolyte is
    eta_c = sign(j) (2RT/F)(1 - t+) ln((c + dc/2) / (c - dc/2)), which diverges as dc/2
    reaches c: the porous layer's limiting current (Chen et al., "Dead lithium: mass
    transport effects on voltage, capacity, and failure of lithium metal anodes", J.
    Mater. Chem. A 5, 11671, 2017: the tortuous dead-Li layer, not a short, ends
    symmetric cells by this overpotential rise).

    `layers`: porous layers in series (2 for the mirror Li||Li cell, 1 for a cell whose
    counter electrode is fresh Li). `include_separator`: add the separator's drop (test
    cells, which have no electrolyte model of their own); a full cell leaves it to
    PyBaMM's electrolyte (SPMe, DFN) and counts the porous layer only. `depletion_only`:
    only the increase salt depletion causes, eta_c(c) - eta_c(c_fresh) (full cells, whose
    anchored parameters were not sized with the layer's transport at fresh salt). D and
    t+ are the parameter set's at the (depleted) salt concentration `SaltDepletion` gives.
    """

    def __init__(self, param, options, layers: int = 1, include_separator: bool = True,
                 depletion_only: bool = False):
        super().__init__(param, "negative", options=options)
        self.layers = layers
        self.include_separator = include_separator
        self.depletion_only = depletion_only

    def _overpotential(self, j, c, T, tortuous_length):
        """(eta_c [V], half the concentration drop [mol.m-3], depleted side [mol.m-3])
        at bulk concentration c [mol.m-3] (the parameter set's laws read there)."""
        param = self.param
        D = param.D_e(c, T)
        t_plus = param.t_plus(c, T)
        half_drop = pybamm.AbsoluteValue(j) * (1 - t_plus) * tortuous_length / (param.F * D) / 2
        low = pybamm.maximum(c - half_drop, MIN_SURFACE_CONCENTRATION_FRACTION * c)
        eta = pybamm.sign(j) * 2 * param.R * T / param.F * (1 - t_plus) * pybamm.log((c + half_drop) / low)
        return eta, half_drop, low

    def get_coupled_variables(self, variables):
        param = self.param
        j = variables["Current collector current density [A.m-2]"]
        T = variables["X-averaged cell temperature [K]"]
        # the parameter set's transport laws at the relative depletion (as the conductivity)
        c_e0 = param.c_e_init
        c = c_e0 * variables["Relative electrolyte salt concentration"]
        eps = LI.dead_li_layer_porosity
        brugg = LI.dead_li_layer_bruggeman
        L_layer = variables["Dead lithium layer thickness [m]"] + variables["Li-metal SEI volume [m3.m-2]"]
        eps_sep = pybamm.Parameter("Separator porosity")
        b_sep = pybamm.Parameter("Separator Bruggeman coefficient (electrolyte)")
        tortuous_length = self.layers * L_layer / eps**brugg
        if self.include_separator:
            tortuous_length = tortuous_length + pybamm.Parameter("Separator thickness [m]") / eps_sep**b_sep
        eta, half_drop, low = self._overpotential(j, c, T, tortuous_length)
        if self.depletion_only:
            # only what salt depletion adds to the layer's transport (as R_salt adds to the
            # separator's resistance): the fresh electrolyte's own term is left out
            eta = eta - self._overpotential(j, c_e0, T, tortuous_length)[0]
        variables.update({
            "Porous layer salt concentration drop ratio": 2 * half_drop / c,
            "Porous layer surface salt concentration [mol.m-3]": low,
            "Porous layer concentration overpotential [V]": eta,
        })
        return variables
