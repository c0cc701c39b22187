"""AlphaZero self-play: B games at once, one batched search per move, finished slots restart.

Each step searches every game's position in one `BatchedMCTS.search` call (so the evaluator sees
B x K leaves per call), plays the chosen moves, and records one sample per position. The tricks
that the strong engines use, each where it happens below:

- Playout cap randomization (KataGo): with `fast_simulations > 0`, a step is a full search with
  probability `full_search_prob`, else a fast one; only full searches become policy targets
  (`policy_weight` 0 otherwise), while every position still teaches the value head. The coin is
  tossed per step for the whole batch, not per game, so each step stays one evaluator batch.
- Temperature: for the first `temperature_moves` plies of a game the move is sampled in
  proportion to root visits (PUCT); later plies take the search's choice. A Gumbel search already
  samples its root actions, so its choice is always used.
- Forced playouts (KataGo, `search.forced_playouts_k`): the search gives noise-boosted root
  moves a minimum of visits; the policy target then drops those visits again (`targets.py`).
- Value targets: the game result z, or a mix with the root's search value q
  (`value_target_q`), set once the game ends.
- Resignation (AlphaGo Zero): a player whose root value falls below `resign_threshold` after
  `resign_min_moves` plies resigns, except in a `resign_disabled_fraction` share of games that
  are played out to measure how often resigning would have been wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ponder.agents.alphazero.config import AZConfig
from ponder.agents.alphazero.samples import GameRecord, Samples
from ponder.agents.alphazero.targets import mixed_value, pruned_policy
from ponder.search import BatchedMCTS


class _Slot:
    """The growing record of one game in progress (lists grow once per ply, not per node)."""

    def __init__(self, resign_disabled: bool):
        self.moves: list[int] = []
        self.planes: list[np.ndarray] = []
        self.policy: list[np.ndarray] = []
        self.legal: list[np.ndarray] = []
        self.weight: list[float] = []
        self.mover: list[int] = []
        self.root_value: list[float] = []  # the search's value of each position, mover's view
        self.resign_disabled = resign_disabled
        self.would_resign: int | None = None  # first player below the threshold (no-resign games)


class SelfPlayRunner:
    """Plays self-play games with `evaluator` and returns them as `GameRecord`s.

    Counters: `positions` (samples recorded), `evaluations` (positions sent to the evaluator),
    `games` (finished), `resigned`, and for no-resign games `resign_checks` / `false_resigns`.
    """

    def __init__(self, game: Any, cfg: AZConfig, evaluator: Any, seed: int):
        self.game = game
        self.cfg = cfg
        self.sp = cfg.selfplay
        self.batch = self.sp.concurrent_games
        self.rng = np.random.default_rng(seed)
        self.evaluator = evaluator
        self.mcts = BatchedMCTS(game, self.batch, self.sp.search, self._counted_evaluate, seed)
        self.positions = 0
        self.evaluations = 0
        self.games = 0
        self.resigned = 0
        self.resign_checks = 0
        self.false_resigns = 0
        self._planes = np.zeros((self.batch, *game.obs_shape), dtype=np.float32)
        self._legal = np.zeros((self.batch, game.num_actions), dtype=np.bool_)
        self.states: Any = game.new_states(self.batch)
        self.slots = [self._new_slot() for _ in range(self.batch)]

    def _counted_evaluate(self, planes: np.ndarray, legal: np.ndarray) -> Any:
        self.evaluations += len(planes)
        return self.evaluator(planes, legal)

    def _new_slot(self) -> _Slot:
        return _Slot(resign_disabled=bool(self.rng.random() < self.sp.resign_disabled_fraction))

    def _restart(self, row: int) -> None:
        self.game.reset_row(self.states, row)
        self.slots[row] = self._new_slot()

    def _resign_enabled(self) -> bool:
        return self.sp.resign_threshold > -1.0

    def play(self, min_games: int) -> list[GameRecord]:
        """Run until at least `min_games` games finish; games still running carry over."""
        finished: list[GameRecord] = []
        while len(finished) < min_games:
            finished.extend(self.step())
        return finished

    def step(self) -> list[GameRecord]:
        """One move in every game; returns the games that ended with it."""
        game, sp = self.game, self.sp
        full = sp.fast_simulations == 0 or bool(self.rng.random() < sp.full_search_prob)
        sims = sp.search.num_simulations if full else sp.fast_simulations
        result = self.mcts.search(self.states, num_simulations=sims, temperature=0.0)
        actions = np.asarray(result.action, dtype=np.int64).copy()
        policy = result.policy
        search = sp.search
        if search.forced_playouts_k > 0:
            policy = pruned_policy(
                result.visits,
                result.prior,
                result.q,
                search.forced_playouts_k,
                search.c_puct_init,
                search.c_puct_base,
            )
        for row in range(self.batch):
            game.encode(self.states[row], self._planes[row])
            game.legal_mask(self.states[row], self._legal[row])
        resign_on = self._resign_enabled()
        ended: list[GameRecord] = []
        ended_rows: list[int] = []
        for row in range(self.batch):
            slot = self.slots[row]
            ply = len(slot.moves)
            mover = int(game.to_play(self.states[row]))
            if ply < sp.temperature_moves and not sp.search.gumbel:
                actions[row] = self._sample_by_visits(result.visits[row], actions[row])
            slot.planes.append(self._planes[row].copy())
            slot.policy.append(np.asarray(policy[row], dtype=np.float32).copy())
            slot.legal.append(self._legal[row].copy())
            slot.weight.append(1.0 if full else 0.0)
            slot.mover.append(mover)
            slot.root_value.append(float(result.root_value[row]))
            self.positions += 1
            hopeless = resign_on and ply >= sp.resign_min_moves
            if hopeless and result.root_value[row] < sp.resign_threshold:
                if not slot.resign_disabled:
                    # The mover resigns: the game ends as a loss for it; no move is played.
                    ended.append(self._finish(row, -1.0 if mover == 0 else 1.0, True))
                    ended_rows.append(row)
                    actions[row] = -1
                    continue
                if slot.would_resign is None:
                    slot.would_resign = mover
            action = int(actions[row])
            slot.moves.append(action)
            done, outcome = game.play(self.states[row], action)
            if done or len(slot.moves) >= game.max_moves:
                ended.append(self._finish(row, float(outcome), False))
                ended_rows.append(row)
        # Trees follow the moves played (tree reuse); finished games start afresh.
        self.mcts.advance(actions)
        if ended_rows:
            rows = np.asarray(ended_rows, dtype=np.int64)
            for row in ended_rows:
                self._restart(row)
            self.mcts.reset(rows)
        return ended

    def _sample_by_visits(self, visits: np.ndarray, fallback: int) -> int:
        counts = np.asarray(visits, dtype=np.float64)
        total = counts.sum()
        if total <= 0:
            return int(fallback)
        return int(self.rng.choice(len(counts), p=counts / total))

    def _finish(self, row: int, outcome: float, resigned: bool) -> GameRecord:
        """Close the game in `row`: value targets are the result from each mover's view (mixed
        with the search's root value when `value_target_q` asks for it)."""
        slot = self.slots[row]
        movers = np.asarray(slot.mover, dtype=np.int64)
        results = np.where(movers == 0, outcome, -outcome).astype(np.float32)
        values = mixed_value(results, np.asarray(slot.root_value), self.sp.value_target_q)
        samples = Samples(
            planes=np.stack(slot.planes),
            policy=np.stack(slot.policy),
            value=values,
            legal=np.stack(slot.legal),
            policy_weight=np.asarray(slot.weight, dtype=np.float32),
        )
        would_have_lost: bool | None = None
        if slot.would_resign is not None:
            resigner_result = outcome if slot.would_resign == 0 else -outcome
            would_have_lost = bool(resigner_result < 0)
            self.resign_checks += 1
            self.false_resigns += int(not would_have_lost)
        self.games += 1
        self.resigned += int(resigned)
        return GameRecord(
            moves=list(slot.moves),
            outcome=outcome,
            resigned=resigned,
            resign_disabled=slot.resign_disabled,
            would_have_lost_resigner=would_have_lost,
            samples=samples,
        )

    def stats(self) -> dict[str, float]:
        """Counters for logging; `false_resign_rate` is over no-resign games that would have."""
        return {
            "games": self.games,
            "positions": self.positions,
            "evaluations": self.evaluations,
            "resign_rate": self.resigned / max(self.games, 1),
            "false_resign_rate": self.false_resigns / max(self.resign_checks, 1),
            "resign_checks": self.resign_checks,
        }
