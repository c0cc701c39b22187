"""AlphaZero as a `Player`: a trained network with search ("System 2") or without ("System 1").

With `simulations > 0` the network guides `BatchedMCTS` (no root noise; the search settings
otherwise follow the run's config). With `simulations == 0` the move comes straight from the
masked policy: its argmax at temperature 0, else a sample from policy^(1/temperature).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ponder.agents.alphazero.config import AZConfig, NetworkConfig
from ponder.agents.alphazero.evaluator import TorchEvaluator
from ponder.agents.alphazero.network import PolicyValueNet
from ponder.agents.alphazero.trainer import ALGORITHM, validate_metadata
from ponder.agents.player import MoveInfo
from ponder.checkpoint import load_checkpoint, load_state_dict_checked, nonfinite_tensor
from ponder.errors import PonderError
from ponder.search import BatchedMCTS, SearchConfig


class AlphaZeroPlayer:
    """Plays a batch of games with one network; `act` gets only the games where it moves."""

    def __init__(
        self,
        evaluator: TorchEvaluator,
        simulations: int,
        temperature: float,
        spec: str,
        search: SearchConfig | None = None,
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
        # Tree reuse needs every move of the game, the opponent's too; a Player sees only its
        # own turns, so each search starts from a fresh tree.
        self.search_config = base.model_copy(
            update={
                "num_simulations": max(simulations, 1),
                "root_noise": False,
                "temperature": temperature,
                "tree_reuse": False,
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
        return actions.astype(np.int64), MoveInfo(prior=priors, root_value=values)

    def _act_search(self, states: Any, indices: np.ndarray) -> tuple[np.ndarray, MoveInfo]:
        """Search the given games in their own rows of the batch (other rows stay inactive)."""
        game = self.game
        active = np.zeros(self.num_games, dtype=np.bool_)
        active[indices] = True
        if getattr(game, "kind", "native") == "openspiel":
            full: Any = [None] * self.num_games
            for i, row in enumerate(indices):
                full[row] = states[i]
            # Inactive rows still need a valid state object for the search to skip over.
            spare = game.init()
            full = [s if s is not None else spare for s in full]
        else:
            full = game.new_states(self.num_games)
            full[indices] = states
        self.mcts.reset()
        result = self.mcts.search(full, active=active, temperature=self.temperature)
        info = MoveInfo(
            visits=result.visits[indices],
            q=result.q[indices],
            prior=result.prior[indices],
            root_value=result.root_value[indices],
        )
        return np.asarray(result.action, dtype=np.int64)[indices], info


def network_player(
    net_or_weights: PolicyValueNet | dict[str, torch.Tensor],
    game: Any,
    network_cfg: NetworkConfig,
    simulations: int,
    temperature: float,
    spec: str,
    search: SearchConfig | None = None,
    device: str = "cpu",
) -> AlphaZeroPlayer:
    """A player from a live network or a state_dict (e.g. weights the learner just published)."""
    if isinstance(net_or_weights, PolicyValueNet):
        net = net_or_weights
    else:
        net = PolicyValueNet(game, network_cfg)
        load_state_dict_checked(net, dict(net_or_weights), f"player {spec!r}")
    evaluator = TorchEvaluator(net, device=device)
    check_network_output(evaluator, game, spec)
    return AlphaZeroPlayer(evaluator, simulations, temperature, spec, search=search)


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
    path: str, simulations: int, temperature: float, game: Any, device: str = "cpu"
) -> AlphaZeroPlayer:
    """The player stored in an AlphaZero checkpoint (`ckpt` stem, `.safetensors` or `.json`).

    The checkpoint must be an AlphaZero checkpoint of `game`; anything else is a one-line
    PonderError. The search settings (c_puct, FPU, Gumbel...) come from the run's config.
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
        weights, game, network_cfg, simulations, temperature, spec, search=search, device=device
    )
