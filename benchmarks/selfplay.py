"""Self-play and learner throughput of the Ray pipeline, beside OpenSpiel's Python MCTS.

    python benchmarks/selfplay.py [--game connect_four] [--seconds 60] [--quick]

- ponder: `SelfPlayWorker` Ray actors (1, then 2) playing `concurrent_games` games each with
  batched numba MCTS and local CPU inference: positions/s and network evaluations/s summed over
  the workers, measured over a fixed window after a warm-up round (numba compile, torch init).
- peer: OpenSpiel's `open_spiel.python.algorithms.mcts.MCTSBot` (PUCT, Python tree, one leaf per
  network call: the loop of OpenSpiel's own AlphaZero) playing self-play games with the same
  network and the same simulation count, in one process. Both search every move with the full
  budget (playout cap randomization off).
- learner: samples/s of the `Learner` actor fed by the `ReplayBuffer` actor, beside the same
  `AZTrainer` stepping in-process on batches already in memory (the cost of the Ray plumbing).

Results go to benchmarks/results/selfplay.json (selfplay_quick.json with --quick).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

ROOT = Path(__file__).resolve().parent.parent


def make_config(game: str, overrides: list[str]) -> Any:
    from ponder.agents.alphazero.config import AZConfig
    from ponder.config import apply_overrides, read_yaml, validate_config

    path = ROOT / "configs" / f"{game}.yaml"
    data = read_yaml(path) if path.is_file() else {"game": game}
    return validate_config(AZConfig, apply_overrides(data, overrides))


def ponder_selfplay(cfg: Any, workers: int, seconds: float) -> dict[str, Any]:
    import ray

    from ponder.selfplay.worker import SelfPlayWorker

    config = cfg.model_dump(mode="json")
    actors = [
        ray.remote(SelfPlayWorker).options(num_cpus=0.01).remote(config, i) for i in range(workers)
    ]
    per_round = max(1, cfg.selfplay.concurrent_games // 2)
    ray.get([a.play.options(num_returns=2).remote(1, [], -1)[1] for a in actors])  # warm-up
    positions = evaluations = games = 0
    start = time.perf_counter()
    pending = {a.play.options(num_returns=2).remote(per_round, [], -1)[1]: a for a in actors}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        actor = pending.pop(ready[0])
        stats = ray.get(ready[0])
        positions += stats["positions"]
        evaluations += stats["evaluations"]
        games += stats["games"]
        if time.perf_counter() - start < seconds:
            pending[actor.play.options(num_returns=2).remote(per_round, [], -1)[1]] = actor
    elapsed = time.perf_counter() - start
    for actor in actors:
        ray.kill(actor)
    return {
        "workers": workers,
        "seconds": round(elapsed, 2),
        "games": games,
        "positions": positions,
        "evaluations": evaluations,
        "positions_per_s": positions / elapsed,
        "evaluations_per_s": evaluations / elapsed,
    }


class SpielNetworkEvaluator:
    """OpenSpiel's MCTS evaluator interface over our network: one position per forward pass."""

    def __init__(self, game: Any, net: Any):
        import torch

        self.game, self.net, self.torch = game, net, torch
        self.state = np.zeros(game.state_len, dtype=game.state_dtype)
        self.planes = np.zeros((1, *game.obs_shape), dtype=np.float32)
        self.legal = np.zeros(game.num_actions, dtype=np.bool_)
        self.evaluations = 0
        self.memo: tuple[str, Any] | None = None

    def _run(self, spiel_state: Any) -> tuple[float, list[tuple[int, float]]]:
        key = spiel_state.history_str()
        if self.memo is not None and self.memo[0] == key:
            # prior() then evaluate() of the leaf just expanded share one forward pass.
            return self.memo[1]
        self.game.init(self.state)
        for action in spiel_state.history():  # action ids are OpenSpiel's
            self.game.play(self.state, action)
        self.game.encode(self.state, self.planes[0])
        self.game.legal_mask(self.state, self.legal)
        with self.torch.inference_mode():
            logits, value = self.net(self.torch.from_numpy(self.planes))
        logits = logits[0].numpy().astype(np.float64)
        logits[~self.legal] = -np.inf
        priors = np.exp(logits - logits.max())
        priors /= priors.sum()
        self.evaluations += 1
        out = (float(value[0]), [(int(a), float(priors[a])) for a in np.flatnonzero(self.legal)])
        self.memo = (key, out)
        return out

    def evaluate(self, spiel_state: Any) -> np.ndarray:
        value, _ = self._run(spiel_state)
        mover = spiel_state.current_player()
        return np.array([value, -value] if mover == 0 else [-value, value])

    def prior(self, spiel_state: Any) -> list[tuple[int, float]]:
        return self._run(spiel_state)[1]


def openspiel_selfplay(cfg: Any, seconds: float) -> dict[str, Any]:
    import pyspiel
    import torch
    from open_spiel.python.algorithms import mcts

    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.envs.registry import get_game

    torch.set_num_threads(1)
    game = get_game(cfg.game)
    net = PolicyValueNet(game, cfg.network).eval()
    spiel_game = pyspiel.load_game(game.openspiel_name)
    evaluator = SpielNetworkEvaluator(game, net)
    bot = mcts.MCTSBot(
        spiel_game,
        uct_c=cfg.selfplay.search.c_puct_init,
        max_simulations=cfg.selfplay.search.num_simulations,
        evaluator=evaluator,
        solve=False,
        random_state=np.random.RandomState(0),
        child_selection_fn=mcts.SearchNode.puct_value,
        dirichlet_noise=(
            cfg.selfplay.search.dirichlet_fraction,
            cfg.selfplay.search.dirichlet_alpha,
        ),
    )
    positions = games = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        state = spiel_game.new_initial_state()
        while not state.is_terminal():
            state.apply_action(bot.step(state))
            positions += 1
        games += 1
    elapsed = time.perf_counter() - start
    return {
        "workers": 1,
        "seconds": round(elapsed, 2),
        "games": games,
        "positions": positions,
        "evaluations": evaluator.evaluations,
        "positions_per_s": positions / elapsed,
        "evaluations_per_s": evaluator.evaluations / elapsed,
    }


def learner_throughput(cfg: Any, steps: int) -> dict[str, Any]:
    import ray
    import torch

    from ponder.agents.alphazero.samples import Samples
    from ponder.agents.alphazero.trainer import AZTrainer
    from ponder.envs.registry import get_game
    from ponder.selfplay.learner import Learner
    from ponder.selfplay.replay import ReplayBuffer
    from ponder.selfplay.worker import SelfPlayWorker

    config = cfg.model_dump(mode="json")
    game = get_game(cfg.game)
    worker = ray.remote(SelfPlayWorker).options(num_cpus=0.01).remote(config, 0)
    samples_ref, _ = worker.play.options(num_returns=2).remote(
        cfg.selfplay.concurrent_games, [], -1
    )
    replay = ray.remote(ReplayBuffer).options(num_cpus=0).remote(cfg.train.replay_window)
    ray.get(replay.add.remote(samples_ref))
    ray.kill(worker)
    learner = ray.remote(Learner).options(num_cpus=0.01).remote(config, replay)
    ray.get(learner.train.remote(2, False))  # warm-up
    start = time.perf_counter()
    done = 0
    while done < steps:
        chunk = min(16, steps - done)
        ray.get(learner.train.remote(chunk, False))
        done += chunk
    ray_seconds = time.perf_counter() - start
    batches = [Samples(**b) for b in ray.get(replay.sample.remote(cfg.train.batch_size, steps))]
    ray.kill(learner)
    ray.kill(replay)

    torch.set_num_threads(1)
    trainer = AZTrainer(game, cfg)
    trainer.train_step(batches[0])
    start = time.perf_counter()
    for batch in batches:
        trainer.train_step(batch)
    local_seconds = time.perf_counter() - start
    samples = steps * cfg.train.batch_size
    return {
        "steps": steps,
        "batch_size": cfg.train.batch_size,
        "ray_learner_samples_per_s": samples / ray_seconds,
        "in_process_samples_per_s": samples / local_seconds,
        "ray_over_in_process": local_seconds / ray_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="connect_four")
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window per case")
    parser.add_argument("--steps", type=int, default=200, help="learner steps to time")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    args = parser.parse_args()
    # Every move searched with the full budget on both sides, so simulations per position match
    # (playout cap randomization would make ours cheaper per position).
    overrides = ["selfplay.fast_simulations=0", "selfplay.full_search_prob=1.0", *args.overrides]
    if args.quick:
        args.seconds, args.steps = 4.0, 8
        overrides += [
            "network.blocks=1",
            "network.channels=16",
            "selfplay.concurrent_games=16",
            "selfplay.search.num_simulations=16",
            "train.batch_size=64",
        ]
    cfg = make_config(args.game, overrides)

    from ponder.selfplay.cluster import ensure_ray

    ensure_ray()
    ours = [ponder_selfplay(cfg, n, args.seconds) for n in (1, 2)]
    peer = openspiel_selfplay(cfg, args.seconds)
    learner = learner_throughput(cfg, args.steps)
    results = {
        "game": cfg.game,
        "simulations": cfg.selfplay.search.num_simulations,
        "concurrent_games": cfg.selfplay.concurrent_games,
        "network": cfg.network.model_dump(mode="json"),
        "ponder_selfplay": ours,
        "openspiel_python_mcts": peer,
        "ratios": {
            "positions_per_s_1_worker_vs_openspiel": ours[0]["positions_per_s"]
            / peer["positions_per_s"],
            "positions_per_s_2_workers_vs_1": ours[1]["positions_per_s"]
            / ours[0]["positions_per_s"],
            "evaluations_per_s_1_worker_vs_openspiel": ours[0]["evaluations_per_s"]
            / peer["evaluations_per_s"],
        },
        "learner": learner,
    }
    write_result("selfplay", results, quick=args.quick, packages=("ray",))


if __name__ == "__main__":
    main()
