"""Interface of the Li-metal electrode: utilisation (Li availability, wetting) and
kinetics with the porous-layer overpotential."""

from __future__ import annotations

import pybamm
from pybamm.models.submodels.interface.interface_utilisation.base_utilisation import (
    BaseModel as BaseUtilisation,
)

# Floor on the utilisation: an exhausted anode gives an overpotential of about
# 2RT/F ln(j / (j0 1e-12)) ~ 1.4 V, well past any discharge cut-off.
MIN_UTILISATION = 1e-12


class LithiumMetalUtilisation(BaseUtilisation):
    """Fraction of the Li-metal interface that can react.

    Plating can always proceed (Li deposits on Li or Cu); stripping needs active Li:
    u = w (s + (1 - s) a), with s a smooth indicator of plating, a the Li availability
    and w the electrolyte wetting fraction.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options)

    def get_coupled_variables(self, variables):
        i = variables["Current collector current density [A.m-2]"]
        availability = variables["Lithium metal availability"]
        wetting = variables["Electrolyte wetting fraction"]
        plating = pybamm.sigmoid(0, -i, 20)  # 1 on charge (i < 0), 0 on discharge
        u = wetting * (plating + (1 - plating) * availability)
        u = pybamm.maximum(u, MIN_UTILISATION)
        variables.update({
            "Lithium metal interface utilisation variable": u,
            "Lithium metal interface utilisation": u,
        })
        return variables


class CathodeWetting(BaseUtilisation):
    """Positive-electrode interface utilisation = electrolyte wetting fraction:
    pores that dried out no longer take part in the reaction."""

    def __init__(self, param, options):
        super().__init__(param, "positive", options)

    def get_coupled_variables(self, variables):
        wetting = variables["Electrolyte wetting fraction"]
        u = pybamm.PrimaryBroadcast(wetting, "positive electrode")
        variables.update(self._get_standard_interface_utilisation_variables(u))
        return variables


class LithiumMetalKinetics(pybamm.kinetics.InverseButlerVolmer):
    """PyBaMM's inverse Butler-Volmer for the Li-metal interface, plus the ohmic drop
    j (R_layer + R_salt) across the porous dead-Li/SEI layer and the salt-depleted
    separator, plus the concentration overpotential of salt transport through them,
    booked as the film overpotential."""

    def get_coupled_variables(self, variables):
        # Read what the film term needs first: a KeyError (not built yet) must come
        # before PyBaMM's kinetics put their delta_phi, without the film term, into the
        # shared variables, or the electrode-potential submodel reads that one.
        j = variables["Current collector current density [A.m-2]"]
        # the porous layer, plus what salt depletion adds through the separator (`SaltDepletion`)
        resistance = (variables["Lithium metal porous layer resistance [Ohm.m2]"]
                      + variables["Salt depletion resistance [Ohm.m2]"])
        # ... and the concentration overpotential of salt transport through the layer and
        # the separator (`PorousLayerTransport`: large only near its limiting current, when
        # the layer is thick or the salt depleted)
        eta_transport = variables["Porous layer concentration overpotential [V]"]
        variables = super().get_coupled_variables(variables)
        eta_film = -j * resistance - eta_transport  # PyBaMM sign: delta_phi = eta_r + U - eta_sei
        # PyBaMM's SEI is off here, so its delta_phi = eta_r + U; subtract our film term.
        delta_phi = variables["Lithium metal interface surface potential difference [V]"]
        variables.update(self._get_standard_sei_film_overpotential_variables(eta_film))
        variables.update(
            self._get_standard_average_surface_potential_difference_variables(delta_phi - eta_film)
        )
        variables["Lithium metal porous layer overpotential [V]"] = -eta_film
        return variables
