"""Every package folder is installed under the single import name `ponder`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = {path: name for name, path in config["package-dir"].items()}
    found = set()
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0]
        if top not in mapping:
            continue
        found.add(".".join([mapping[top], *rel.parts[1:]]))
    assert found == listed


def test_packages_import_under_ponder():
    import ponder.agents
    import ponder.arena
    import ponder.envs
    import ponder.search
    import ponder.selfplay

    assert ponder.envs.__file__.endswith("envs/__init__.py")
    assert all(
        m.__name__.startswith("ponder.")
        for m in (ponder.agents, ponder.arena, ponder.search, ponder.selfplay)
    )
