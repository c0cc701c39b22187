"""The self-play worker: one process playing many games at once and handing back their positions.

A worker wraps AZ-core's `SelfPlayRunner` (B concurrent games on one batched search). Its network
is either local (CPU inference inside the worker, run by `selfplay.inference_backend`) or the
shared `InferenceServer` actor. Before each round of games it pulls the newest published weights
from the object store when the learner has moved on; the driver passes the weights as a
reference wrapped in a list, so a worker that is already up to date never fetches them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ponder.seeds import derive_seed

# How many finished games of each round are kept whole (moves and result) for the run's
# games/ folder: enough to watch how play changes, without writing every game.
RECORDS_PER_ROUND = 1


class SelfPlayWorker:
    def __init__(
        self,
        config: dict[str, Any],
        worker_index: int,
        incarnation: int = 0,
        inference_server: Any = None,
        threads: int = 1,
        store: Any = None,
    ):
        import torch

        from ponder.agents.alphazero.config import AZConfig
        from ponder.agents.alphazero.evaluator import TorchEvaluator
        from ponder.agents.alphazero.network import PolicyValueNet
        from ponder.agents.alphazero.selfplay import SelfPlayRunner
        from ponder.envs.registry import get_game
        from ponder.selfplay.backend import RayBackend
        from ponder.selfplay.inference import RemoteEvaluator

        torch.set_num_threads(threads)
        self.cfg = AZConfig.model_validate(config)
        self.game = get_game(self.cfg.game)
        self.worker_index = worker_index
        self.store = store or RayBackend()  # where the published weights live
        self.remote_inference = inference_server is not None
        if self.remote_inference:
            self.evaluator: Any = RemoteEvaluator(inference_server)
        else:
            net = PolicyValueNet(self.game, self.cfg.network)
            self.evaluator = TorchEvaluator(
                net,
                device="cpu",
                mixed_precision=False,
                backend=self.cfg.selfplay.inference_backend,
            )
        # A restarted worker gets a fresh seed so it does not replay its predecessor's games.
        seed = derive_seed(self.cfg.run.seed, worker_index, incarnation)
        self.runner = SelfPlayRunner(self.game, self.cfg, self.evaluator, seed)
        self.weights_step = -1

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        return self.store.node()

    def play(self, min_games: int, weights: list[Any], weights_step: int) -> tuple[Any, dict]:
        """Play until `min_games` games finish; returns (Samples, statistics of the round).

        `weights` is `[ObjectRef]` of the newest published state dict (or `[]` before the first
        publication); with a shared inference server the worker ignores it.
        """
        from ponder.agents.alphazero.samples import Samples

        if weights and not self.remote_inference and weights_step != self.weights_step:
            self.evaluator.load_weights(self.store.get(weights[0]))
            self.weights_step = weights_step
        start = time.perf_counter()
        positions, evaluations = self.runner.positions, self.runner.evaluations
        records = self.runner.play(min_games)
        samples = (
            Samples.concat([r.samples for r in records])
            if records
            else Samples.empty(self.game.obs_shape, self.game.num_actions)
        )
        outcomes = np.array([r.outcome for r in records], dtype=np.float64)
        checked = [r.would_have_lost_resigner for r in records if r.resign_disabled]
        checked = [c for c in checked if c is not None]
        stats = {
            "worker": self.worker_index,
            "node": self.node(),
            "games": len(records),
            "positions": self.runner.positions - positions,
            "samples": len(samples),
            "evaluations": self.runner.evaluations - evaluations,
            "seconds": time.perf_counter() - start,
            "weights_step": self.weights_step,
            "plies": int(sum(len(r.moves) for r in records)),
            "first_player_wins": int(np.sum(outcomes > 0)),
            "draws": int(np.sum(outcomes == 0)),
            "second_player_wins": int(np.sum(outcomes < 0)),
            "resigned": int(sum(r.resigned for r in records)),
            # Calibration games: a resignation there would have been wrong when the would-be
            # resigner did not in fact lose (KataGo/AlphaZero measure this to set the threshold).
            "resign_checked": len(checked),
            "false_resigns": int(sum(not c for c in checked)),
            "records": [
                {
                    "moves": [int(m) for m in r.moves],
                    "outcome": float(r.outcome),
                    "resigned": r.resigned,
                }
                for r in records[:RECORDS_PER_ROUND]
            ],
        }
        return samples, stats
