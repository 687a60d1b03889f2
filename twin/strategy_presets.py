"""Built-in protection strategies, each defined by what was measured.

Two sources:

* The 16 rows of Table 1 of Yan, Zeng, Liu, Shu, Zeng, "Lithium metal stabilization for
  next-generation lithium-based batteries", Energy Materials 3, 300002 (2023)
  (reproduced in the physics notes): Li||Cu CE and current density per strategy. The
  table gives no test capacity: 1 mAh/cm2 is assumed (the most common Li||Cu
  capacity).
* Six common electrolytes from the Li||Cu compilations in shared/data/li_cu_ce/:
  S. C. Kim et al., "Data-driven electrolyte design for lithium metal anodes", PNAS
  120, e2214357120 (2023), supplementary data (`kim2023_electrolyte_ce.csv`, no current
  densities), and the Electrolytomics compilation, ChemRxiv 2024, doi
  10.26434/chemrxiv-2024-vqtc7 (`edb2_ce_current_density.csv`, with current densities;
  "line N" counts the header as line 1). Where only the Kim row exists, the current
  density is assumed to be 0.5 mA/cm2, the most common value in the Electrolytomics
  rows (70 of 142).

Each preset starts from its family's defaults (`twin.strategies.FAMILY_DEFAULTS`);
the numbers a preset adds beyond its anchor are assumptions (A) sized to what the
cited paper says the strategy does, not fitted values.
"""

from __future__ import annotations

from twin.strategies.schema import CEAnchor, Strategy, with_family_defaults

TABLE_SOURCE = ("Yan, Zeng, Liu, Shu, Zeng, Energy Materials 3, 300002 (2023), Table 1 row {row} "
                "(Li||Cu CE as reported)")
# None of the sources says over which cycles its CE was averaged (twin.anchoring).
CYCLES_NOTE = "; no cycle window given: the mean of cycles 4-20 of a 20-cycle test assumed"
TABLE_NOTE = "test capacity not reported in Table 1; 1 mAh/cm2 assumed" + CYCLES_NOTE
KIM_SOURCE = ("S. C. Kim et al., PNAS 120, e2214357120 (2023), supplementary data: '{row}' "
              "(shared/data/li_cu_ce/kim2023_electrolyte_ce.csv)")
EDB_SOURCE = ("Electrolytomics compilation, ChemRxiv 2024, doi 10.26434/chemrxiv-2024-vqtc7 "
              "(shared/data/li_cu_ce/edb2_ce_current_density.csv line {line}: {what})")
ASSUMED_CD_NOTE = ("the compilation gives no current density; 0.5 mA/cm2 assumed (most common in the "
                   "Electrolytomics rows); capacity 1 mAh/cm2 assumed" + CYCLES_NOTE)
EDB_NOTE = "test capacity not in the compilation; 1 mAh/cm2 assumed" + CYCLES_NOTE


def _table(row: int, name: str, family: str, description: str, ce_pct: float, current_density: float,
           nucleation_mV: float | None = None, **changes) -> Strategy:
    return with_family_defaults(
        name, family, description, TABLE_SOURCE.format(row=row),
        anchor=CEAnchor(ce_pct / 100, current_density, 1.0, TABLE_NOTE),
        nucleation_overpotential_mV=nucleation_mV, **changes,
    )


def _electrolyte(name: str, description: str, ce: float, current_density: float, source: str,
                 note: str, salt: dict[str, float] | None = None) -> Strategy:
    return with_family_defaults(name, "electrolyte", description, source,
                                anchor=CEAnchor(ce, current_density, 1.0, note), values=salt)


# The salt of each electrolyte preset and how much of it the SEI takes (mol of salt per
# mol of SEI Li = anion-route share of the SEI Li / SEI Li per reduced anion). A: LiPF6 +
# 2 Li+ + 2 e- -> 3 LiF + PF3 (2 Li per anion), anion-route share 0.2 in carbonates (the
# twin's baseline, `twin.parameters.lithium_metal_anode`); FSI- reduction takes from 2
# electrons (the two S-F bonds: 2 LiF) to 16 (complete: Li3N + 2 Li2S + 4 Li2O + 2 LiF,
# the species XPS finds in LiFSI-derived SEI); 8 Li per anion assumed, with an
# anion-route share of 0.5 in 1 M LiFSI-DME, 0.7 in the fluorinated ether FDMB and 0.9
# in the (localized) high-concentration ethers whose contact-ion pairs make the SEI
# anion-derived. (With 4 Li per anion, the lean LHCE pouch of Niu et al. 2019 would run
# out of salt by cycle ~150, which that paper does not see: the choice within the range
# was made with it in view.) Molar masses: LiPF6 151.9 g/mol, LiFSI 187.1 g/mol. The LHCE
# LiFSI-1.2DME-3TTE is ~1.2 M in salt (A).
LIPF6_1M = {"salt_molar_mass_kg_per_mol": 0.1519, "salt_concentration_mol_per_m3": 1000.0,
            "salt_consumed_per_sei_li": 0.1}


def _lifsi(molar: float, anion_share: float) -> dict[str, float]:
    return {"salt_molar_mass_kg_per_mol": 0.18707, "salt_concentration_mol_per_m3": molar * 1000.0,
            "salt_consumed_per_sei_li": anion_share / 8}


_PRESETS: list[Strategy] = [
    # --- 3D hosts -------------------------------------------------------------------
    _table(1, "carbon-fiber-host", "host",
           "Graphitized carbon-fiber scaffold: a large conductive area (5x, A) spreads the "
           "plating current and holds the deposit inside the fibre network.",
           98.0, 0.5, 10, effective_area_factor=5.0),
    _table(2, "iodine-carbon-host", "host",
           "Iodine-carbon composite host: the I3-/I- couple reconnects (revives) dead Li; "
           "revival time constant about 6 h (A).",
           99.9, 1.0, values={"dead_li_revival_rate_per_s": 5e-5}),
    _table(3, "electron-deficient-carbon-host", "host",
           "Electron-deficient (lithiophilic) carbon host: uniform nucleation over a 3x larger "
           "area (family default).",
           98.6, 0.1, 15),
    _table(4, "zno-cnt-gradient-host", "host",
           "ZnO/CNT gradient layer: lithiophilic ZnO at the bottom makes Li deposit bottom-up "
           "inside the CNT layer, nearly dense (deposit porosity 0.05, A).",
           99.5, 2.0, 31, values={"deposit_porosity": 0.05}),
    # --- artificial SEI -------------------------------------------------------------
    _table(5, "polyionic-liquid-coating", "artificial-sei",
           "Polyionic-liquid coating: a flexible, Li+-conducting film that resists cracking "
           "(family default: 0.3x fresh-surface SEI, 0.5x roughening).",
           99.1, 0.5),
    _table(6, "lif-rich-layer", "artificial-sei",
           "LiF-rich artificial layer: high interfacial energy and stiffness, so very little "
           "fresh Li is exposed (0.2x fresh-surface SEI, A).",
           99.0, 1.0, multipliers={"sei_fresh_surface_fraction": 0.2}),
    _table(7, "al2o3-3d-layer", "artificial-sei",
           "3D Al2O3 artificial layer: a rigid ceramic framework over the Li (family default).",
           95.0, 1.0, 10),
    _table(8, "nanodiamond-interface", "artificial-sei",
           "Double-layer nanodiamond interface: a hard, uniform interface that guides "
           "deposition (family default).",
           99.4, 1.0),
    # --- electrolyte design (Table 1) ------------------------------------------------
    _table(9, "fec-additive", "electrolyte",
           "Fluoroethylene carbonate additive: LiF-rich SEI from FEC reduction.",
           98.0, 0.5, 38),
    _table(10, "lino3-additive", "electrolyte",
           "Lithium nitrate additive: Li3N/LiNxOy-rich SEI, dense deposits.",
           99.8, 1.0),
    _table(11, "nitrate-additives", "electrolyte",
           "Nitrate additives: nitrate-derived SEI components.",
           98.1, 1.0, 28),
    _table(12, "lignosulfonate-additive", "electrolyte",
           "Lignosulfonate additive: adsorbs and levels the deposition.",
           96.0, 1.0),
    # --- separators ------------------------------------------------------------------
    _table(13, "al2o3-coated-separator", "separator",
           "Al2O3-coated separator: a ceramic coating that homogenises Li+ flux and resists "
           "penetration (family default: 2x limiting current).",
           92.3, 0.2),
    _table(14, "aln-coated-separator", "separator",
           "AlN-coated separator: a thermally conductive ceramic coating that homogenises "
           "Li+ flux (family default: 2x limiting current).",
           92.0, 0.2, 11),
    _table(15, "llzto-coated-separator", "separator",
           "LLZTO-coated PP separator: a Li+-conducting garnet layer raises the local Li+ "
           "transference, so the limiting current rises more (3x, A).",
           98.0, 1.0, dendrite_threshold_factor=3.0),
    _table(16, "mg-coated-separator", "separator",
           "Mg-coated separator: a lithiophilic metal layer that makes Li deposit from both "
           "sides, delaying penetration (family default: 2x limiting current).",
           94.0, 0.5, 16),
    # --- common electrolytes (Li||Cu compilations) ------------------------------------
    _electrolyte("lipf6-ec-dec",
                 "1 M LiPF6 in EC/DEC (1:1 vol): the carbonate baseline; organic/inorganic SEI "
                 "that keeps cracking, mossy deposits.",
                 0.880, 0.5, KIM_SOURCE.format(row="1 M LiPF6-EC/DEC (1:1 vol.), 0.88000"),
                 ASSUMED_CD_NOTE + " (the same study's +FEC row has 0.5 mA/cm2 in Electrolytomics)", LIPF6_1M),
    _electrolyte("lipf6-ec-dec-fec",
                 "1 M LiPF6 in EC/DEC (1:1 vol) + 5 vol% FEC: LiF-rich SEI from FEC.",
                 0.950, 0.5,
                 KIM_SOURCE.format(row="1 M LiPF6-EC/DEC (1:1 vol.) + 5 vol% FEC, 0.95000") + "; "
                 + EDB_SOURCE.format(line=44, what="EC/DEC 1:1, 1 M LiPF6, FEC additive, 0.5 mA/cm2, CE 0.95"),
                 EDB_NOTE, LIPF6_1M),
    _electrolyte("lifsi-dme",
                 "1 M LiFSI in DME: ether with an anion-derived SEI.",
                 0.984, 0.5,
                 EDB_SOURCE.format(line=66, what="DME, 1 M LiFSI, 0.5 mA/cm2, CE 0.984")
                 + " (Kim et al. 2023 list 0.9725 for 1 M LiFSI DME without a current density)",
                 EDB_NOTE, _lifsi(1.0, 0.5)),
    _electrolyte("hce-lifsi-dme",
                 "4 M LiFSI in DME: high-concentration ether; contact-ion pairs and aggregates "
                 "give an anion-derived, LiF-rich SEI.",
                 0.985, 1.0,
                 EDB_SOURCE.format(line=67, what="DME, 4 M LiFSI, 1.0 mA/cm2, CE 0.985")
                 + " (the compilation also lists 0.991 at 0.2 mA/cm2, line 11; the 1 mA/cm2 row "
                 "is nearer full-cell charge current densities)",
                 EDB_NOTE, _lifsi(4.0, 0.9)),
    _electrolyte("lhce",
                 "LiFSI-1.2DME-3TTE localized high-concentration electrolyte: the HCE solvation "
                 "structure diluted by the non-solvating fluorinated ether TTE.",
                 0.993, 0.5, KIM_SOURCE.format(row="LiFSI DME-TTE (1:1.2:3), 0.99300"), ASSUMED_CD_NOTE,
                 _lifsi(1.2, 0.9)),
    _electrolyte("lifsi-fdmb",
                 "1 M LiFSI in FDMB (fluorinated 1,4-dimethoxybutane): a single-salt, "
                 "single-solvent fluorinated ether.",
                 0.995, 0.5,
                 EDB_SOURCE.format(line=23, what="FDMB, 1 M LiFSI, 0.5 mA/cm2, CE 0.995")
                 + " (Kim et al. 2023 list 0.9898)",
                 EDB_NOTE, _lifsi(1.0, 0.7)),
    # --- electrolytes of published full cells (not in the CE-ordered six) ---------------
    _electrolyte("lipf6-fec-dec",
                 "1 M LiPF6 in FEC:DEC: FEC as co-solvent (not additive), the Dahn group's "
                 "anode-free baseline (Louli et al., J. Electrochem. Soc. 166, A1291, 2019).",
                 0.976, 1.0,
                 EDB_SOURCE.format(line=48, what="FEC:DEC 0.42:0.58, 1 M LiPF6, 1.0 mA/cm2, CE 0.976"),
                 EDB_NOTE, LIPF6_1M),
]

PRESETS: dict[str, Strategy] = {s.name: s for s in _PRESETS}
TABLE_PRESETS: tuple[str, ...] = tuple(s.name for s in _PRESETS[:16])
ELECTROLYTE_PRESETS: tuple[str, ...] = ("lipf6-ec-dec", "lipf6-ec-dec-fec", "lifsi-dme", "hce-lifsi-dme",
                                        "lhce", "lifsi-fdmb")
