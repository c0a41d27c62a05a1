"""Test-run settings for every test path (tests/, the docstrings of kpitools/, notebooks/)."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The cells of a notebook share one kernel in order (nbval): one xdist group per notebook,
    so ``--dist loadgroup`` keeps them on one worker while the other tests spread one by one."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(item.path.name))
