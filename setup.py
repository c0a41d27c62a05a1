"""Package list for setuptools: every package under kpitools/, plus ``kpitools.notebooks``.

pyproject.toml holds all other metadata. The package list lives here because pyproject's
``packages.find`` cannot add a package from another folder: ``kpitools.notebooks`` is the
repository's notebooks/ folder (see ``package-dir`` there), shipped as package data.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["kpitools", "kpitools.*"]), "kpitools.notebooks"])
