"""LiNi0.6Mn0.2Co0.2O2 (NMC622) positive electrode, composed: PyBaMM ships no NMC622 set.

Where each part comes from (S: source, A: assumption of this product):

* Open-circuit potential: the Chen2020 NMC811 fit (Chen et al., J. Electrochem. Soc.
  167, 080534, 2020) on a stretched delithiation axis, U_622(x) = U_811(1 - s (1 - x)),
  s = 1.090 (A: the same curve shape; S for s: Noh et al., J. Power Sources 233,
  121-130, 2013, first discharge capacities from 4.3 V at 0.1 C: NMC811 203 mAh/g,
  NMC622 187 mAh/g of ~275 and ~277 mAh/g theoretical, so NMC622 gives up 0.676 of
  its Li where NMC811 gives up 0.737; 0.737 / 0.676 = 1.090). At the same potential,
  NMC622 is therefore less delithiated than NMC811, as measured.
* Maximum Li concentration, particle radius and diffusivity, exchange-current density,
  conductivity, porosity and active fraction: those of the Chen2020 NMC811 electrode
  (A: no published NMC622 set was found; the capacity difference is in the OCP axis).
* Separator and electrolyte: Chen2020 (A: the same LiPF6 carbonate as the NMC811 set).
"""

from __future__ import annotations

from pybamm.input.parameters.lithium_ion.Chen2020 import nmc_LGM50_ocp_Chen2020

# Delithiation stretch NMC622 vs NMC811 (Noh et al. 2013 capacities, see above).
DELITHIATION_STRETCH = (203.0 / 275.5) / (187.0 / 276.5)


def nmc622_ocp(sto):
    """NMC622 open-circuit potential [V] vs Li at Li fraction `sto` (the Chen2020
    NMC811 fit on the stretched delithiation axis)."""
    return nmc_LGM50_ocp_Chen2020(1 - DELITHIATION_STRETCH * (1 - sto))
