"""Benchmarks of kpitools (see README.md); not part of the installed package."""
