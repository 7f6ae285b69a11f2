"""Physical constants with their units (the names of Brian2's ``brian2.units.constants``).

Values are CODATA 2018 (those fixed by the 2019 SI definitions are exact)::

    from spikeforge.units.constants import faraday_constant as F, gas_constant as R
    E_K = R*T/F * log(K_out/K_in)
"""

from spikeforge.units import (
    amp,
    coulomb,
    farad,
    gram,
    joule,
    kelvin,
    kilogram,
    metre,
    mole,
    newton,
)

#: Avogadro constant, 6.02214076e23 per mole (exact).
avogadro_constant = 6.02214076e23 / mole
#: Boltzmann constant, 1.380649e-23 joule per kelvin (exact).
boltzmann_constant = 1.380649e-23 * joule / kelvin
#: Vacuum electric permittivity, 8.8541878128e-12 farad per metre.
electric_constant = 8.8541878128e-12 * farad / metre
#: Electron mass, 9.1093837015e-31 kilogram.
electron_mass = 9.1093837015e-31 * kilogram
#: Elementary charge, 1.602176634e-19 coulomb (exact).
elementary_charge = 1.602176634e-19 * coulomb
#: Faraday constant, the charge of a mole of elementary charges (exact).
faraday_constant = 6.02214076e23 * 1.602176634e-19 * coulomb / mole
#: Molar gas constant, Avogadro times Boltzmann (exact).
gas_constant = 6.02214076e23 * 1.380649e-23 * joule / (mole * kelvin)
#: Vacuum magnetic permeability, 1.25663706212e-6 newton per ampere squared.
magnetic_constant = 1.25663706212e-6 * newton / amp**2
#: Molar mass constant, 1 gram per mole.
molar_mass_constant = 1 * gram / mole
#: 0 degrees Celsius in kelvin.
zero_celsius = 273.15 * kelvin

__all__ = [
    "avogadro_constant",
    "boltzmann_constant",
    "electric_constant",
    "electron_mass",
    "elementary_charge",
    "faraday_constant",
    "gas_constant",
    "magnetic_constant",
    "molar_mass_constant",
    "zero_celsius",
]
