"""Our top-level packages have generic names: make sure no other distribution shadows them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["domain", "projections", "adapters"])
def test_top_level_packages_resolve_inside_this_repository(name: str) -> None:
    spec = importlib.util.find_spec(name)

    assert spec is not None, f"{name!r} is not importable"
    locations = [spec.origin] if spec.origin is not None else []
    locations += list(spec.submodule_search_locations or [])
    assert locations, f"{name!r} resolves to nothing on disk"
    for location in locations:
        path = Path(location).resolve()
        assert path.is_relative_to(REPOSITORY_ROOT), (
            f"{name!r} resolves to {path}, outside {REPOSITORY_ROOT}: another installed "
            "distribution shadows ours (use the project's .venv)"
        )
