"""Every shipped board-game config loads through the AlphaZero schema and writes every key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ponder.agents.alphazero.config import AZConfig
from ponder.config import load_config
from ponder.envs.registry import OPENSPIEL_PREFIX, get_game
from ponder.errors import PonderError

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))
REQUIRED = {
    "tic_tac_toe",
    "connect_four",
    "hex_5",
    "hex_7",
    "othello_6x6",
}


def key_paths(data: object, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf (a dict-valued setting such as stop_when counts as a leaf)."""
    if not isinstance(data, dict) or prefix.endswith("stop_when"):
        return {prefix}
    out: set[str] = set()
    for key, value in data.items():
        out |= key_paths(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def test_the_expected_configs_exist() -> None:
    names = {path.stem for path in CONFIGS}
    assert names >= REQUIRED
    games = {yaml.safe_load(path.read_text())["game"] for path in CONFIGS}
    assert any(g.startswith(OPENSPIEL_PREFIX) for g in games), "one OpenSpiel-backed config"


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_is_valid_and_fully_explicit(path: Path) -> None:
    cfg = load_config(AZConfig, path)
    raw = yaml.safe_load(path.read_text())
    written = key_paths(raw)
    schema = key_paths(cfg.model_dump(mode="json"))
    assert schema - written == set(), f"{path.name} leaves settings implicit"
    get_game(cfg.game)  # the game must exist (one-line PonderError otherwise)


def test_schema_rejects_inconsistent_settings() -> None:
    base = {"game": "tic_tac_toe"}
    with pytest.raises(PonderError, match="value_head"):
        load_config(
            AZConfig, None, [f"{k}={v}" for k, v in base.items()] + ["train.value_loss=wdl"]
        )
    with pytest.raises(PonderError, match="fast_simulations"):
        load_config(
            AZConfig,
            None,
            [
                "game=tic_tac_toe",
                "selfplay.search.num_simulations=16",
                "selfplay.fast_simulations=16",
            ],
        )
    with pytest.raises(PonderError, match="lr_schedule"):
        load_config(
            AZConfig, None, ["game=tic_tac_toe", "train.lr_schedule=[[10, 0.1], [5, 0.01]]"]
        )
    with pytest.raises(PonderError, match="not a known setting"):
        load_config(AZConfig, None, ["game=tic_tac_toe", "network.layers=3"])
    ok = load_config(
        AZConfig, None, ["game=tic_tac_toe", "train.value_loss=wdl", "network.value_head=wdl"]
    )
    assert ok.network.value_head == "wdl"


def test_ablation_variants_are_valid_configs() -> None:
    """Every lever of benchmarks/ablations.py applies to connect_four.yaml and validates, on
    the baseline and on the adopted config (`--on adopted`), which is the config as it is."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from ablations import ADOPTED, BASE, VARIANTS, variant_overrides

    base = Path(__file__).parent.parent / "configs" / "connect_four.yaml"
    for name in VARIANTS:
        for on in ("baseline", "adopted"):
            if on == "adopted" and name == "baseline":
                with pytest.raises(SystemExit, match="no baseline row"):
                    variant_overrides(name, on)
                continue
            cfg = load_config(AZConfig, base, variant_overrides(name, on))
            assert cfg.game == "connect_four", name
    assert load_config(AZConfig, base, [*BASE, *ADOPTED]) == load_config(AZConfig, base, [])
    assert variant_overrides("adopted", "adopted") == [*BASE, *ADOPTED]  # not twice
    assert variant_overrides("replica", "adopted") == [*BASE, *ADOPTED]
