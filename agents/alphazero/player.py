"""AlphaZero as a `Player`: a trained network with search ("System 2") or without ("System 1").

With `simulations > 0` the network guides `BatchedMCTS` (no root noise; the search settings
otherwise follow the run's config). With `simulations == 0` the move comes straight from the
masked policy: its argmax at temperature 0, else a sample from policy^(1/temperature).

With `adapt > 1` the budget is spent as each move deserves (`AdaptiveBudget`): `simulations`
is the typical budget and `adapt * simulations` the most one move may take.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.learner import ALGORITHM, validate_metadata
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.agents.player import MoveInfo
from ponder.checkpoint import load_checkpoint, load_state_dict_checked, nonfinite_tensor
from ponder.errors import PonderError
from ponder.search import BatchedMCTS, SearchConfig


def most_visited(visits: np.ndarray, q: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The most visited move per row, ties broken by Q and then by prior (as Leela does).

    The search's own rule breaks ties at random, which suits self-play; at test time, where
    tiny budgets leave many ties (two simulations can visit two moves once each), a random
    pick would throw away what the search and the prior know.
    """
    top = visits == visits.max(axis=1, keepdims=True)
    key = np.where(top, q.astype(np.float64) + 1e-3 * prior.astype(np.float64), -np.inf)
    return np.argmax(key, axis=1).astype(np.int64)


class AdaptiveBudget:
    """Think as long as a move deserves: stop early on easy moves, go on while it is unsettled.

    The search grows in slices of a quarter of the typical budget N and is checked after each:
    - it stops once the most visited move can no longer be overtaken in what is left of the
      maximum (`adapt * N`): more search could not change the move (Leela's smart pruning);
    - before N, it stops when the move looks decided: the leader holds `decided_share` of the
      visits and the root value moved less than `value_drift` over the last slice;
    - after N, it goes on only while the move is unsettled: the runner-up's Q is within
      `close_q` of the leader's, or the root value still moves by `value_drift` or more
      (chess engines' time management and KataGo's playout caps work from the same signals).
    Gumbel's sequential halving plans its whole budget up front, so this is a PUCT rule.
    """

    def __init__(
        self,
        base: int,
        adapt: float,
        decided_share: float = 0.75,
        close_q: float = 0.05,
        value_drift: float = 0.02,
    ):
        self.base = base
        self.cap = max(base, round(adapt * base))
        self.slice = max(1, base // 4)
        self.decided_share = decided_share
        self.close_q = close_q
        self.value_drift = value_drift

    def stop(
        self,
        spent: np.ndarray,
        visits: np.ndarray,
        q: np.ndarray,
        value: np.ndarray,
        previous_value: np.ndarray,
    ) -> np.ndarray:
        """Which rows stop now, from their root statistics after `spent` simulations."""
        order = np.argsort(-visits, axis=1, kind="stable")
        rows = np.arange(len(visits))
        v1 = visits[rows, order[:, 0]].astype(np.int64)
        v2 = visits[rows, order[:, 1]].astype(np.int64) if visits.shape[1] > 1 else 0 * v1
        share = v1 / np.maximum(visits.sum(axis=1), 1)
        gap = q[rows, order[:, 0]] - (q[rows, order[:, 1]] if visits.shape[1] > 1 else -1.0)
        moving = np.abs(value - previous_value) >= self.value_drift
        out_of_reach = v1 - v2 > self.cap - spent
        decided = (share >= self.decided_share) & ~moving
        unsettled = (np.abs(gap) < self.close_q) | moving
        past_base = spent >= self.base
        return (
            (spent >= self.cap) | out_of_reach | (~past_base & decided) | (past_base & ~unsettled)
        )


class AlphaZeroPlayer:
    """Plays a batch of games with one network; `act` gets only the games where it moves."""

    def __init__(
        self,
        evaluator: TorchEvaluator,
        simulations: int,
        temperature: float,
        spec: str,
        search: SearchConfig | None = None,
        adapt: float = 0.0,
    ):
        if simulations < 0:
            raise PonderError(f"player {spec!r}: simulations must be >= 0 (got {simulations})")
        if temperature < 0:
            raise PonderError(f"player {spec!r}: temperature must be >= 0 (got {temperature})")
        self.evaluator = evaluator
        self.simulations = simulations
        self.temperature = temperature
        self.spec = spec
        base = search or SearchConfig()
        self.budget: AdaptiveBudget | None = None
        if adapt > 1 and simulations > 0:
            if base.gumbel:
                raise PonderError(
                    f"player {spec!r}: an adaptive budget needs the PUCT root (root=puct)"
                )
            self.budget = AdaptiveBudget(simulations, adapt)
        # Tree reuse needs every move of the game, the opponent's too; a Player sees only its
        # own turns, so each search starts from a fresh tree. The adaptive budget grows one
        # move's tree slice by slice, which is what tree reuse on an unchanged root does.
        self.search_config = base.model_copy(
            update={
                "num_simulations": self.budget.cap if self.budget else max(simulations, 1),
                "root_noise": False,
                "temperature": temperature,
                "tree_reuse": self.budget is not None,
                # Forced playouts explore for self-play's sake; a player spends every visit on
                # its own choice (KataGo forces them in self-play only).
                "forced_playouts_k": 0.0,
                # A Gumbel root samples its candidate moves; at temperature 0 play the best.
                "gumbel_scale": base.gumbel_scale if temperature > 0 else 0.0,
            }
        )
        self.game: Any = None
        self.mcts: BatchedMCTS | None = None
        self.rng = np.random.default_rng(0)
        self.num_games = 0

    def start(self, game: Any, num_games: int, seed: int) -> None:
        self.game = game
        self.num_games = num_games
        self.rng = np.random.default_rng(seed)
        if self.simulations > 0:
            self.mcts = BatchedMCTS(game, num_games, self.search_config, self.evaluator, seed)
        else:
            self.mcts = None

    def act(
        self, states: Any, histories: Sequence[Sequence[int]], indices: np.ndarray
    ) -> tuple[np.ndarray, MoveInfo | None]:
        if self.game is None:
            raise RuntimeError("AlphaZeroPlayer.act called before start")
        if self.mcts is None:
            return self._act_raw_policy(states)
        return self._act_search(states, np.asarray(indices, dtype=np.int64))

    def _encode(self, states: Any) -> tuple[np.ndarray, np.ndarray]:
        game = self.game
        n = len(states)
        planes = np.zeros((n, *game.obs_shape), dtype=np.float32)
        legal = np.zeros((n, game.num_actions), dtype=np.bool_)
        for i in range(n):
            game.encode(states[i], planes[i])
            game.legal_mask(states[i], legal[i])
        return planes, legal

    def _act_raw_policy(self, states: Any) -> tuple[np.ndarray, MoveInfo]:
        planes, legal = self._encode(states)
        priors, values = self.evaluator(planes, legal)
        spent = np.ones(len(states), dtype=np.int64)
        if self.temperature == 0:
            # Ties (rare with float priors) go to the lowest action id, deterministically.
            actions = np.argmax(np.where(legal, priors, -1.0), axis=1)
        else:
            actions = np.empty(len(priors), dtype=np.int64)
            for i, p in enumerate(priors):
                weights = np.where(legal[i], p.astype(np.float64), 0.0) ** (1.0 / self.temperature)
                if weights.sum() <= 0:  # underflow at tiny temperatures: fall back to argmax
                    actions[i] = int(np.argmax(np.where(legal[i], p, -1.0)))
                else:
                    actions[i] = self.rng.choice(len(p), p=weights / weights.sum())
        return actions.astype(np.int64), MoveInfo(
            prior=priors, root_value=values, evaluations=spent
        )

    def _act_search(self, states: Any, indices: np.ndarray) -> tuple[np.ndarray, MoveInfo]:
        """Search the given games in their own rows of the batch (other rows stay inactive)."""
        game = self.game
        active = np.zeros(self.num_games, dtype=np.bool_)
        active[indices] = True
        # Inactive rows hold initial positions, which the search skips over.
        full = game.batch_with(self.num_games, indices, states)
        self.mcts.reset()
        before = self.mcts.evaluations[indices].copy()
        if self.budget is None:
            result = self.mcts.search(full, active=active, temperature=self.temperature)
        else:
            result = self._search_adaptive(full, active)
        info = MoveInfo(
            visits=result.visits[indices],
            q=result.q[indices],
            prior=result.prior[indices],
            root_value=result.root_value[indices],
            evaluations=self.mcts.evaluations[indices] - before,
        )
        actions = np.asarray(result.action, dtype=np.int64)[indices]
        if self.temperature == 0 and not self.search_config.gumbel:
            actions = most_visited(info.visits, info.q, info.prior)
        return actions, info

    def _search_adaptive(self, full: Any, active: np.ndarray) -> Any:
        """Grow each active tree a slice at a time until `self.budget` says its move is ready;
        a row's result is the one of its last slice."""
        budget = self.budget
        thinking = active.copy()
        spent = np.zeros(self.num_games, dtype=np.int64)
        previous = np.full(self.num_games, np.inf, dtype=np.float32)
        final = None
        while thinking.any():
            step = min(budget.slice, int(budget.cap - spent[thinking].max()))
            result = self.mcts.search(
                full, active=thinking, num_simulations=max(step, 1), temperature=self.temperature
            )
            spent[thinking] += max(step, 1)
            if final is None:
                final = result
            rows = np.flatnonzero(thinking)
            for name in ("action", "policy", "root_value", "visits", "q", "prior"):
                getattr(final, name)[rows] = getattr(result, name)[rows]
            stop = budget.stop(
                spent[rows],
                result.visits[rows],
                result.q[rows],
                result.root_value[rows],
                previous[rows],
            )
            previous[rows] = result.root_value[rows]
            thinking[rows[stop]] = False
        return final


def network_player(
    net_or_weights: PolicyValueNet | dict[str, torch.Tensor],
    game: Any,
    network_cfg: NetworkConfig,
    simulations: int,
    temperature: float,
    spec: str,
    search: SearchConfig | None = None,
    device: str = "cpu",
    adapt: float = 0.0,
) -> AlphaZeroPlayer:
    """A player from a live network or a state_dict (e.g. weights the learner just published)."""
    if isinstance(net_or_weights, PolicyValueNet):
        net = net_or_weights
    else:
        net = PolicyValueNet(game, network_cfg)
        load_state_dict_checked(net, dict(net_or_weights), f"player {spec!r}")
    evaluator = TorchEvaluator(net, device=device)
    check_network_output(evaluator, game, spec)
    return AlphaZeroPlayer(evaluator, simulations, temperature, spec, search=search, adapt=adapt)


def check_network_output(evaluator: TorchEvaluator, game: Any, spec: str) -> None:
    """Refuse a network whose priors or value are NaN or infinite at the initial position: a
    search fed NaN picks moves by accident (or loops), and a match against it means nothing."""
    state = game.new_states(1)
    planes = np.zeros((1, *game.obs_shape), dtype=np.float32)
    legal = np.zeros((1, game.num_actions), dtype=np.bool_)
    game.encode(state[0], planes[0])
    game.legal_mask(state[0], legal[0])
    priors, values = evaluator(planes, legal)
    if not (np.isfinite(priors).all() and np.isfinite(values).all()):
        raise PonderError(
            f"player {spec!r}: the network outputs NaN or infinite values (its weights are "
            "broken, e.g. by a diverged run); use an earlier checkpoint"
        )


def load_checkpoint_player(
    path: str,
    simulations: int,
    temperature: float,
    game: Any,
    device: str = "cpu",
    root: str | None = None,
    adapt: float = 0.0,
) -> AlphaZeroPlayer:
    """The player stored in an AlphaZero checkpoint (`ckpt` stem, `.safetensors` or `.json`).

    The checkpoint must be an AlphaZero checkpoint of `game`; anything else is a one-line
    PonderError. The search settings (c_puct, FPU, Gumbel...) come from the run's config;
    `root` ("puct" or "gumbel") overrides the root rule, `adapt` > 1 makes the budget adaptive.
    """
    ckpt = load_checkpoint(path, expect={"algorithm": ALGORITHM, "game": game.name})
    where = f"checkpoint {ckpt.path}"
    meta = validate_metadata(ckpt.metadata, where)
    network_cfg: NetworkConfig = meta.network
    search = None
    if meta.config is not None:
        try:
            search = AZConfig.model_validate(meta.config).selfplay.search
        except ValueError:
            search = None  # an older or hand-made config: default search settings are fine
    if root is not None:
        search = (search or SearchConfig()).model_copy(update={"gumbel": root == "gumbel"})
    weights = ckpt.section("model")
    if not weights:
        raise PonderError(f"{where} holds no model/* tensors")
    bad = nonfinite_tensor(weights)
    if bad is not None:
        raise PonderError(
            f"{where}: tensor {bad!r} holds NaN or infinite values; use an earlier checkpoint"
        )
    spec = f"{path}@{simulations}"
    return network_player(
        weights,
        game,
        network_cfg,
        simulations,
        temperature,
        spec,
        search=search,
        device=device,
        adapt=adapt,
    )
