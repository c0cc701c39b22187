"""The one game contract (envs/game.py): native games and the OpenSpiel adapter both satisfy it,
its batch and notation helpers behave alike on both kinds, and no code above envs/ asks which
kind it holds (search's state backends, search/backends.py, are the one place that does)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from ponder.envs.game import Game
from ponder.envs.registry import get_game, native_game_names

ROOT = Path(__file__).resolve().parent.parent
GAMES = [*native_game_names(), "openspiel:breakthrough", "openspiel:tic_tac_toe"]


def _random_position(game, plies: int, seed: int):
    rng = np.random.default_rng(seed)
    state = game.new_states(1)[0]
    moves = []
    for _ in range(plies):
        if game.is_terminal(state):
            break
        action = int(rng.choice(game.legal_actions(state)))
        game.play(state, action)
        moves.append(action)
    return state, moves


@pytest.mark.parametrize("name", GAMES)
def test_every_kind_satisfies_the_contract(name: str) -> None:
    game = get_game(name)
    assert isinstance(game, Game)
    assert game.num_symmetries >= 1


@pytest.mark.parametrize("name", GAMES)
def test_batch_helpers_behave_alike(name: str) -> None:
    game = get_game(name)
    fresh = game.encode_batch(game.new_states(1))[0]
    states = game.new_states(3)
    for row in range(3):
        for _ in range(row + 1):
            game.play(states[row], int(game.legal_actions(states[row])[0]))
    game.reset_row(states, 1)
    np.testing.assert_array_equal(game.encode_batch(states)[1], fresh)
    # batch_with puts the given positions at their rows and starts the others afresh.
    picked = states[[0, 2]]
    full = game.batch_with(4, np.array([3, 1]), picked)
    planes = game.encode_batch(full)
    np.testing.assert_array_equal(planes[3], game.encode_batch(states)[0])
    np.testing.assert_array_equal(planes[1], game.encode_batch(states)[2])
    np.testing.assert_array_equal(planes[0], fresh)
    np.testing.assert_array_equal(planes[2], fresh)
    # A clone is independent of its original.
    original = game.encode_batch(states)[0]
    copy = game.clone(states[0])
    game.play(copy, int(game.legal_actions(copy)[0]))
    np.testing.assert_array_equal(game.encode_batch(states)[0], original)


@pytest.mark.parametrize("name", GAMES)
def test_notation_round_trips_in_a_position(name: str) -> None:
    game = get_game(name)
    for seed in range(3):
        state, _ = _random_position(game, 4, seed)
        if game.is_terminal(state):
            continue
        for action in game.legal_actions(state):
            text = game.action_to_string(int(action), state)
            assert game.string_to_action(text, state) == int(action), text
        with pytest.raises(ValueError):
            game.string_to_action("not a move at all", state)


@pytest.mark.parametrize("name", GAMES)
def test_spiel_twin_has_the_same_action_ids(name: str) -> None:
    game = get_game(name)
    twin = game.spiel_twin()
    if game.openspiel_name is None:
        assert twin is None
        return
    assert twin.num_distinct_actions() == game.num_actions
    state = twin.new_initial_state()
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.legal_mask(game.new_states(1)[0], mask)
    assert sorted(state.legal_actions()) == list(np.flatnonzero(mask))


def _kind_checks(path: Path) -> list[str]:
    """Places in `path` that ask a game which kind it is."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr == "kind":
            base = node.value
            if not (isinstance(base, ast.Attribute) and base.attr == "dtype"):
                found.append(f"{path.relative_to(ROOT)}:{line} .kind")
        elif isinstance(node, ast.Name) and node.id in {"OPENSPIEL", "NATIVE"}:
            found.append(f"{path.relative_to(ROOT)}:{line} {node.id}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "hasattr"}
            and any(
                isinstance(a, ast.Constant) and a.value in {"kind", "spiel_game", "clone"}
                for a in node.args[1:2]
            )
        ):
            found.append(f"{path.relative_to(ROOT)}:{line} {node.func.id}")
    return found


def test_nothing_above_envs_branches_on_the_kind_of_game() -> None:
    allowed = {ROOT / "search" / "backends.py"}
    checked = [
        path
        for folder in ("search", "agents", "arena", "selfplay", "ponder")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in allowed
    ]
    assert len(checked) > 50
    offenders = [hit for path in checked for hit in _kind_checks(path)]
    assert offenders == []
    # The checker does find what it looks for.
    assert _kind_checks(ROOT / "search" / "backends.py")
