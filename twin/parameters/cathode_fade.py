"""Loss of positive-electrode active material (cathode fade): parameter names and values.

The names are declared once, as `twin.parameters.li_metal.LithiumMetalParameters`
declares the anode's: class attributes are the PyBaMM parameter *names* (strings),
an instance's attributes the `pybamm.Parameter` symbols::

    CathodeFadeParameters.rate_at_onset      # "Positive electrode LAM rate at onset potential [s-1]"
    CathodeFadeParameters().rate_at_onset    # pybamm.Parameter(that name)

The law (`twin.submodels.cathode_fade`): the active material fraction f decays as
df/dt = -f k exp((U - U_onset) / U_scale) exp(-Ea/R (1/T - 1/T_ref)), U the cathode's
surface open-circuit potential vs Li. Where each number comes from (S: source,
A: assumption of this product):

* Onset potential U_onset: where the cathode starts to release lattice oxygen, at
  ~80 % delithiation for every NMC, so at a lower potential the more Ni it holds
  (S: Jung et al., J. Electrochem. Soc. 164, A1361, 2017). NMC811 4.30 V, NMC622
  4.45 V, NMC532 4.50 V vs Li (A: this product's reading of the 80 % SOC points, not
  a table of the paper; the PyBaMM OCP fits' Li-fraction scales are not the
  materials', so the onset is not read off them).
* Potential scale U_scale 0.14 V and rate at onset 3.0e-8 s-1: the fade of NMC811/
  graphite pouch cells over 1000 cycles to 4.2, 4.4 and 4.5 V full-cell cut-off (78, 52
  and 32 % retention; the cathode then sits near 4.3, 4.5 and 4.6 V vs Li), with half
  of the 4.2 V fade and all of the extra fade at 4.4 V taken as cathode fade (S: W. Li
  et al., Chem. Mater. 32, 7796, 2020; A: the split): 0.011 %/cycle at 4.3 V and
  0.037 %/cycle at 4.5 V vs Li. The twin's default NMC811 cycle (C/3 CC-CV to C/20,
  C/2 discharge, 25 degC) loses 0.011 and 0.039 %/cycle with these values (most of the
  loss at the top of the charge and in the CV hold). The same rate constant for every
  NMC (A); the onset potential makes the lower-Ni cathodes fade less at one cut-off.
* Activation energy 30 kJ/mol (A: cathode/electrolyte side reactions roughly double
  per 17 K, as the faster fade of NMC cells at 45 degC than at 25 degC shows
  qualitatively).
* LFP: no fade (A: olivine LFP keeps its structure to 3.6-3.8 V; Li-metal||LFP cells
  fade by their anode).
* Li in the lost material (at its mean Li concentration) is lost with it (S: PyBaMM's
  "Loss of lithium due to loss of active material", Sulzer et al., J. Electrochem.
  Soc. 168, 120531, 2021, eq. 37).
"""

from __future__ import annotations

from typing import Any

from twin.parameters.li_metal import ParameterNames

# Onset of lattice oxygen release [V vs Li] (Jung et al. 2017; see above).
ONSET_POTENTIAL_V: dict[str, float] = {"NMC811": 4.30, "NMC622": 4.45, "NMC532": 4.50}
NMC_RATE_AT_ONSET_PER_S = 3.0e-8
POTENTIAL_SCALE_V = 0.14
ACTIVATION_ENERGY_J_MOL = 30000.0
REFERENCE_TEMPERATURE_K = 298.15


class CathodeFadeParameters(ParameterNames):
    """Names (class attributes) and symbols (instance attributes) of the cathode
    fade's parameters (values: `cathode_fade_parameter_values`)."""

    _kind = "cathode fade"

    rate_at_onset = "Positive electrode LAM rate at onset potential [s-1]"
    onset_potential = "Positive electrode LAM onset potential [V]"
    potential_scale = "Positive electrode LAM potential scale [V]"
    activation_energy = "Positive electrode LAM activation energy [J.mol-1]"
    reference_temperature = "Positive electrode LAM reference temperature [K]"
    # slow states' starting values (fast mode sets them per representative cycle)
    initial_retained_fraction = "Initial positive electrode active material retained fraction"
    initial_lost_lithium = "Initial lithium lost with positive electrode active material [mol.m-2]"


def cathode_fade_parameter_values(onset_V: float, rate_at_onset_per_s: float) -> dict[str, Any]:
    """Cathode fade values for a cathode whose material loss runs at
    `rate_at_onset_per_s` [s-1] at its onset potential `onset_V` [V vs Li]."""
    names = CathodeFadeParameters
    return {
        names.rate_at_onset: rate_at_onset_per_s,
        names.onset_potential: onset_V,
        names.potential_scale: POTENTIAL_SCALE_V,
        names.activation_energy: ACTIVATION_ENERGY_J_MOL,
        names.reference_temperature: REFERENCE_TEMPERATURE_K,
        names.initial_retained_fraction: 1.0,
        names.initial_lost_lithium: 0.0,
    }
