"""Config loading: typed validation, one-line errors naming the key, `--set` overrides."""

from __future__ import annotations

import pytest
from pydantic import Field

from ponder.config import StrictModel, apply_overrides, dump_config, load_config
from ponder.errors import PonderError


class Search(StrictModel):
    sims: int = Field(100, gt=0)
    c_puct: float = 1.25


class Cfg(StrictModel):
    game: str = "tic_tac_toe"
    search: Search = Search()
    tags: list[str] = []


def write(tmp_path, text: str):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_defaults_and_file_values(tmp_path):
    cfg = load_config(Cfg, write(tmp_path, "game: connect_four\nsearch:\n  sims: 7\n"))
    assert cfg.game == "connect_four" and cfg.search.sims == 7 and cfg.search.c_puct == 1.25


def test_overrides_parse_like_yaml(tmp_path):
    cfg = load_config(Cfg, write(tmp_path, "search: {sims: 7}\n"), ["search.sims=9", "tags=[a, b]"])
    assert cfg.search.sims == 9 and cfg.tags == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "overrides", "needle"),
    [
        ("search: {simz: 3}\n", [], "'search.simz' is not a known setting"),
        ("search: {sims: -1}\n", [], "'search.sims'"),
        ("search: {sims: lots}\n", [], "'search.sims'"),
        ("game: x\n", ["search.sims=0"], "'search.sims'"),
        ("[1, 2]\n", [], "mapping at the top level"),
        ("game: [unclosed\n", [], "not valid YAML"),
    ],
)
def test_bad_configs_are_one_line_errors(tmp_path, text, overrides, needle):
    with pytest.raises(PonderError) as info:
        load_config(Cfg, write(tmp_path, text), overrides)
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_missing_file_and_bad_override(tmp_path):
    with pytest.raises(PonderError, match="not found"):
        load_config(Cfg, tmp_path / "nope.yaml")
    with pytest.raises(PonderError, match=r"key\.path=value"):
        apply_overrides({}, ["search.sims"])
    with pytest.raises(PonderError, match="not a section"):
        apply_overrides({"game": "x"}, ["game.size=3"])


def test_dump_round_trips(tmp_path):
    cfg = load_config(Cfg, None, ["search.sims=5"])
    again = load_config(Cfg, write(tmp_path, dump_config(cfg)))
    assert again == cfg
