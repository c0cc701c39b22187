"""Move-for-move comparison of a native game with its OpenSpiel twin.

Random games are played in both engines at once; at every step the legal actions, the player to
move, the terminal flag and (at the end) the returns must agree. The first difference is
reported with the action history that reproduces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ponder.envs.board.base import BoardGame


@dataclass
class ConformanceReport:
    games: int
    steps: int
    mismatch: str | None  # None when the engines agreed everywhere


def compare_with_openspiel(game: BoardGame, num_games: int, seed: int = 0) -> ConformanceReport:
    import pyspiel

    assert game.openspiel_name is not None, f"{game.name} has no OpenSpiel twin"
    spiel_game = pyspiel.load_game(game.openspiel_name)
    rng = np.random.default_rng(seed)
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    state = np.zeros(game.state_len, dtype=game.state_dtype)
    steps = 0
    for g in range(num_games):
        game.init(state)
        spiel_state = spiel_game.new_initial_state()
        history: list[int] = []
        while True:
            where = f"game {g}, history {history}"
            done = bool(game.is_terminal(state))
            if done != spiel_state.is_terminal():
                return ConformanceReport(g, steps, f"terminal flag differs at {where}")
            if done:
                ours = game.outcome(state)
                theirs = spiel_state.returns()
                if not np.allclose([ours, -ours], theirs):
                    return ConformanceReport(
                        g, steps, f"returns differ at {where}: {[ours, -ours]} vs {theirs}"
                    )
                break
            if game.to_play(state) != spiel_state.current_player():
                return ConformanceReport(g, steps, f"player to move differs at {where}")
            game.legal_mask(state, mask)
            ours_legal = np.flatnonzero(mask).tolist()
            theirs_legal = spiel_state.legal_actions()
            if ours_legal != theirs_legal:
                return ConformanceReport(
                    g, steps, f"legal actions differ at {where}: {ours_legal} vs {theirs_legal}"
                )
            # Indexing beats rng.choice(list), which copies the list into an array (~10x the
            # cost); long conformance runs are a large share of the test suite's time.
            action = ours_legal[int(rng.integers(len(ours_legal)))]
            game.play(state, action)
            spiel_state.apply_action(action)
            history.append(action)
            steps += 1
    return ConformanceReport(num_games, steps, None)
