"""The exhaustive perfect-play check walks the lines of every random stream it is given: a
player that is perfect on one stream's lines and blunders on another's does not pass."""

import numpy as np

from ponder.agents.player import MoveInfo
from ponder.arena.perfect import perfect_play_report
from ponder.envs.registry import get_game
from ponder.envs.solvers import get_solver

CENTRE, CORNER = 4, 0


class StreamDependentPlayer:
    """Optimal everywhere, except: under odd seeds it opens in the corner (as good as the
    centre) and then, in any line that began in the corner, plays its worst move."""

    spec = "stream-dependent"

    def start(self, game, num_games, seed):
        self.game, self.odd = game, seed % 2 == 1
        self.solve = get_solver(game.name)

    def act(self, states, histories, indices):
        actions = np.empty(len(states), dtype=np.int64)
        mask = np.zeros(self.game.num_actions, dtype=np.bool_)
        for k, (state, history) in enumerate(zip(states, histories, strict=True)):
            best = [int(a) for a in self.solve(state).best_actions]
            if not history:
                actions[k] = CORNER if self.odd else CENTRE
            elif history[0] == CORNER:
                self.game.legal_mask(state, mask)
                worse = [int(a) for a in np.flatnonzero(mask) if int(a) not in best]
                actions[k] = worse[0] if worse else best[0]
            else:
                actions[k] = best[0]
        return actions, MoveInfo()


def test_one_stream_misses_what_a_second_stream_reaches():
    game = get_game("tic_tac_toe")
    one = perfect_play_report(game, StreamDependentPlayer(), seats=(0,), repeats=1, seed=0)
    assert one.perfect  # seed 0 opens in the centre and plays perfectly from there
    two = perfect_play_report(game, StreamDependentPlayer(), seats=(0,), repeats=2, seed=0)
    assert not two.perfect
    # The mistakes are in the corner lines, which only the second stream opened.
    assert two.mistakes and all(m.moves[0] == CORNER for m in two.mistakes)
    assert two.positions > one.positions


def test_a_stream_independent_perfect_player_passes_under_many_streams():
    report = perfect_play_report("tic_tac_toe", "solver:first", repeats=3, seed=5)
    assert report.perfect and report.optimal_rate == 1.0
