"""Self-play and learner throughput of the Ray pipeline, beside OpenSpiel's Python MCTS.

    python benchmarks/selfplay.py [--game connect_four] [--seconds 60] [--quick]

- ponder: `SelfPlayWorker` Ray actors (1, then 2) playing `concurrent_games` games each with
  batched numba MCTS and local CPU inference: positions/s and network evaluations/s summed over
  the workers, measured over a fixed window after a warm-up round (numba compile, torch init).
- peer: OpenSpiel's `open_spiel.python.algorithms.mcts.MCTSBot` (PUCT, Python tree, one leaf per
  network call: the loop of OpenSpiel's own AlphaZero) playing self-play games with the same
  network and the same simulation count, in one process. Both search every move with the full
  budget (playout cap randomization off).
- learner: samples/s of the `LearnerActor` fed by the `ReplayBuffer` actor, beside the same
  `AZLearner` stepping in-process on batches already in memory (the cost of the Ray plumbing).

Results go to benchmarks/results/selfplay.json (selfplay_quick.json with --quick).

    python benchmarks/selfplay.py --inference [--backends torch,onnxruntime] [--threads 1,2]
        [--batches 8,64,256,512] [--checkpoint CKPT] [--quick]

measures instead the inference backends of the local evaluator (`selfplay.inference_backend`)
side by side on the config's network: evaluations/s of a whole evaluator call (forward pass
and masking) at the batch sizes self-play produces, per torch thread count; the build and the
refresh (`load_weights`, once per `selfplay.weights_every` learner steps) in seconds; the
largest difference of priors and values from eager float32 on positions from random play; and
the share of positions whose move under a short search is unchanged. Weights are a seeded
random network unless `--checkpoint` names a trained one. --quick keeps the network (its size
is what is measured) and shortens the timings. Results go to selfplay_inference.json.

    python benchmarks/selfplay.py --split [--minutes 5]

runs the real training pipeline (`ponder train az`, the game's config, evaluation off) with one
and then two self-play workers beside the learner on Ray, then on the in-process backend (one
worker and the learner taking turns in one process, torch's threads on every core), and reports
the positions/s, learner samples/s and sample ratio each reached: how two cores are best split.
selfplay_split.json (or `--result NAME`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_average_1m, write_result

from ponder.agents.alphazero.config import InferenceBackend

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

    from ponder.agents.alphazero.learner import AZLearner
    from ponder.agents.alphazero.samples import Samples
    from ponder.envs.registry import get_game
    from ponder.selfplay.learner import LearnerActor
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
    learner = ray.remote(LearnerActor).options(num_cpus=0.01).remote(config, replay)
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
    trainer = AZLearner(game, cfg)
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


# ---------------------------------------------------------------- inference backends
def random_play_positions(game: Any, count: int, seed: int) -> np.ndarray:
    """States after a random number of random plies (never terminal)."""
    rng = np.random.default_rng(seed)
    states = game.new_states(count)
    legal = np.zeros(game.num_actions, dtype=np.bool_)
    for row in states:
        for _ in range(int(rng.integers(0, game.max_moves // 2))):
            game.legal_mask(row, legal)
            trial = row.copy()
            if game.play(trial, int(rng.choice(np.flatnonzero(legal))))[0]:
                break
            row[:] = trial
    return states


def legal_masks(game: Any, states: np.ndarray) -> np.ndarray:
    legal = np.zeros((len(states), game.num_actions), dtype=np.bool_)
    for row, mask in zip(states, legal, strict=True):
        game.legal_mask(row, mask)
    return legal


def network_weights(cfg: Any, game: Any, checkpoint: str | None) -> tuple[Any, list, str]:
    """The network shape and two weight sets (the measured one, and another for refreshes)."""
    import torch

    from ponder.agents.alphazero.network import PolicyValueNet

    def seeded(seed: int, shape: Any) -> dict:
        torch.manual_seed(seed)
        return PolicyValueNet(game, shape).state_dict()

    if checkpoint is None:
        return cfg.network, [seeded(0, cfg.network), seeded(1, cfg.network)], "random, seed 0"
    from ponder.agents.alphazero.learner import validate_metadata
    from ponder.checkpoint import load_checkpoint

    ckpt = load_checkpoint(checkpoint, expect={"algorithm": "alphazero", "game": game.name})
    shape = validate_metadata(ckpt.metadata, checkpoint).network
    return shape, [dict(ckpt.section("model")), seeded(1, shape)], f"checkpoint {checkpoint}"


def calls_rate(evaluator: Any, planes: np.ndarray, legal: np.ndarray, seconds: float) -> float:
    """Evaluations/s of whole evaluator calls on one batch: the best of three windows."""
    evaluator(planes, legal)  # this size's first call (a compiled backend may specialize)
    best = float("inf")
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while True:
            evaluator(planes, legal)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / 3:
                break
        best = min(best, elapsed / calls)
    return len(planes) / best


def search_moves(evaluator: Any, game: Any, states: np.ndarray, search: Any) -> np.ndarray:
    from ponder.search import BatchedMCTS

    return BatchedMCTS(game, len(states), search, evaluator, seed=0).search(states).action


def check_search(cfg: Any, simulations: int) -> Any:
    """The short, deterministic search whose moves each backend must leave unchanged."""
    return cfg.selfplay.search.model_copy(
        update={
            "num_simulations": simulations,
            "root_noise": False,
            "temperature": 0.0,
            "tree_reuse": False,
        }
    )


def build_backends(
    build: Callable[[str, int], tuple[Any, float]],
    backends: list[str],
    report: dict[str, dict[str, Any]],
    count: int,
) -> dict[str, Any]:
    """Every backend still available, built at this thread count; a failed build marks the
    backend unavailable in `report` (with why), a good one records its build time there."""
    from ponder.errors import PonderError

    built: dict[str, Any] = {}
    for backend in backends:
        if not report[backend]["available"]:
            continue
        try:
            built[backend], build_s = build(backend, 0)
        except PonderError as exc:
            report[backend] = {"available": False, "why": str(exc)}
            continue
        report[backend].setdefault("build_s", {})[f"threads_{count}"] = round(build_s, 3)
    return built


def batch_rates(
    built: dict[str, Any], planes: np.ndarray, legal: np.ndarray, batches: list[int], seconds: float
) -> dict[str, dict[str, float]]:
    """Evaluations/s per backend and batch size."""
    rates: dict[str, dict[str, float]] = {b: {} for b in built}
    for batch in batches:  # every backend per batch size, so drifting load hits all alike
        for backend, evaluator in built.items():
            rate = calls_rate(evaluator, planes[:batch], legal[:batch], seconds)
            rates[backend][str(batch)] = round(rate, 1)
    return rates


def output_differences(
    evaluator: Any, planes: np.ndarray, legal: np.ndarray, want: tuple[np.ndarray, np.ndarray]
) -> dict[str, float]:
    """The largest differences of priors and values from eager float32's."""
    priors, values = evaluator(planes, legal)
    return {
        "max_abs_diff_priors": float(np.abs(priors - want[0]).max()),
        "max_abs_diff_values": float(np.abs(values - want[1]).max()),
    }


def refresh_timings(
    evaluator: Any,
    weights: list,
    planes: np.ndarray,
    legal: np.ndarray,
    want: tuple[np.ndarray, np.ndarray],
) -> dict[str, float]:
    """Seconds of a weights refresh and of the first call after it (medians of three), then
    the largest difference from eager float32 on the weights the refreshes leave in place."""
    refresh, first_call = [], []
    for which in (1, 0, 1):  # the last load leaves the second weights in place
        start = time.perf_counter()
        evaluator.load_weights(weights[which])
        refresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        evaluator(planes[:64], legal[:64])
        first_call.append(time.perf_counter() - start)
    priors, values = evaluator(planes, legal)
    return {
        "refresh_s": round(float(np.median(refresh)), 4),
        "first_call_after_refresh_s": round(float(np.median(first_call)), 4),
        "after_refresh_max_abs_diff": float(
            max(np.abs(priors - want[0]).max(), np.abs(values - want[1]).max())
        ),
    }


def speed_tables(
    report: dict[str, dict[str, Any]], threads: list[int], batches: list[int]
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, str]]]:
    """Per thread count: each backend's speed-up over torch, and the fastest per batch size."""
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    fastest: dict[str, dict[str, str]] = {}
    base = report.get("torch", {}).get("evaluations_per_s", {})
    for count in threads:
        key = f"threads_{count}"
        table = {
            b: e["evaluations_per_s"][key] for b, e in report.items() if "evaluations_per_s" in e
        }
        fastest[key] = {str(n): max(table, key=lambda b: table[b][str(n)]) for n in batches}
        if key in base:
            ratios[key] = {
                b: {str(n): round(r[str(n)] / base[key][str(n)], 3) for n in batches}
                for b, r in table.items()
            }
    return ratios, fastest


def inference_backends(
    cfg: Any,
    backends: list[str],
    threads: list[int],
    batches: list[int],
    seconds: float,
    checkpoint: str | None,
    search_positions: int,
    search_simulations: int,
) -> dict[str, Any]:
    """Each backend beside eager float32 torch: its speed per thread count and batch size, its
    build and refresh times, and how far its answers and search moves differ."""
    import torch

    from ponder.agents.alphazero.evaluator import TorchEvaluator
    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.envs.registry import get_game

    game = get_game(cfg.game)
    shape, weights, source = network_weights(cfg, game, checkpoint)
    states = random_play_positions(game, max(batches), seed=0)
    planes, legal = game.encode_batch(states), legal_masks(game, states)
    search = check_search(cfg, search_simulations)
    sample = states[:search_positions]

    def build(backend: str, which: int) -> tuple[Any, float]:
        net = PolicyValueNet(game, shape)
        net.load_state_dict(weights[which])
        start = time.perf_counter()
        evaluator = TorchEvaluator(net, device="cpu", mixed_precision=False, backend=backend)
        evaluator(planes[:8], legal[:8])
        return evaluator, time.perf_counter() - start

    torch.set_num_threads(1)
    reference = [build("torch", i)[0] for i in (0, 1)]
    want = [r(planes, legal) for r in reference]
    want_moves = search_moves(reference[0], game, sample, search)
    report: dict[str, dict[str, Any]] = {b: {"available": True} for b in backends}
    for count in threads:
        torch.set_num_threads(count)
        torch._dynamo.reset()  # compiled kernels keep the thread count they were built for
        built = build_backends(build, backends, report, count)
        rates = batch_rates(built, planes, legal, batches, seconds)
        for backend, evaluator in built.items():
            entry = report[backend]
            entry.setdefault("evaluations_per_s", {})[f"threads_{count}"] = rates[backend]
            if count != threads[0]:
                continue
            entry.update(output_differences(evaluator, planes, legal, want[0]))
            moves = search_moves(evaluator, game, sample, search)
            entry["search_moves_unchanged"] = float(np.mean(moves == want_moves))
            entry.update(refresh_timings(evaluator, weights, planes, legal, want[1]))
        built.clear()

    ratios, fastest = speed_tables(report, threads, batches)
    return {
        "game": cfg.game,
        "network": shape.model_dump(mode="json"),
        "weights": source,
        "positions": f"{len(states)} positions from random play (seed 0), the game's encode",
        "search_check": {
            "positions": len(sample),
            "simulations": search_simulations,
            "leaves_per_step": search.leaves_per_step,
        },
        "threads": threads,
        "batches": batches,
        "seconds_per_cell": seconds,
        "speedup_vs_torch": ratios,
        "fastest": fastest,
        "backends": report,
    }


# ---------------------------------------------------------------- how the cores are split
def pipeline_split(
    game: str, workers: int, minutes: float, overrides: list[str], backend: str = "ray"
) -> dict:
    """A real `ponder train az` run with `workers` self-play workers on `backend` (evaluation
    off): the positions/s, learner samples/s and the sample ratio it reached, from its last
    log row."""
    import json
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        sets = [f"run.workers={workers}", f"run.minutes={minutes}", f"run.backend={backend}"]
        sets += ["eval.every=100000000", *overrides]
        cmd = [
            sys.executable, "-c", "from ponder.cli import main; main()", "train", "az",
            "--config", str(ROOT / "configs" / f"{game}.yaml"), "--out", str(run), "--quiet",
            *[arg for key in sets for arg in ("--set", key)],
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=minutes * 60 + 600)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in rows if r.get("kind") == "train"]
    last = train[-1] if train else {}
    wall = max(float(last.get("wall_seconds", 0.0)), 1e-9)
    return {
        "backend": backend,
        "workers": workers,
        "minutes": minutes,
        "learner_steps": last.get("step"),
        "positions": last.get("positions"),
        "positions_per_s_overall": last.get("positions", 0) / wall,
        "positions_per_s_last_window": last.get("positions_per_s"),
        "learner_samples_per_s": last.get("learner_samples", 0) / wall,
        "sample_ratio_reached": last.get("sample_ratio"),
        "network_evaluations_per_s": last.get("network_evaluations", 0) / wall,
    }


# (backend, self-play workers): Ray processes beside the learner, or one process taking turns.
CORE_SPLITS = (("ray", 1), ("ray", 2), ("inprocess", 1))


def run_split(args: argparse.Namespace) -> None:
    load_start = load_average_1m()
    cases = [
        pipeline_split(args.game, n, args.minutes, args.overrides, backend)
        for backend, n in CORE_SPLITS
        if backend in args.split_backends.split(",")
    ]
    write_result(
        args.result or "selfplay_split",
        {
            "game": args.game,
            "config": f"configs/{args.game}.yaml",
            "cases": cases,
            "load_average_1m": {"start": load_start, "end": load_average_1m()},
        },
        quick=args.quick,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="connect_four")
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window per case")
    parser.add_argument("--steps", type=int, default=200, help="learner steps to time")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument(
        "--inference", action="store_true", help="compare the local evaluator's backends instead"
    )
    parser.add_argument("--backends", default=",".join(get_args(InferenceBackend)))
    parser.add_argument("--threads", default="1,2", help="torch thread counts (--inference)")
    parser.add_argument("--batches", default="8,64,256,512", help="batch sizes (--inference)")
    parser.add_argument("--checkpoint", help="AlphaZero checkpoint to measure (--inference)")
    parser.add_argument(
        "--split", action="store_true", help="the real pipeline with 1 and 2 self-play workers"
    )
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes per case (--split)")
    parser.add_argument(
        "--split-backends", default="ray,inprocess", help="run.backend values (--split)"
    )
    parser.add_argument("--result", help="results file name (--split; default selfplay_split)")
    args = parser.parse_args()
    if args.inference:
        run_inference(args)
        return
    if args.split:
        run_split(args)
        return
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


def run_inference(args: argparse.Namespace) -> None:
    cfg = make_config(args.game, args.overrides)
    load_start = load_average_1m()
    results = inference_backends(
        cfg,
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        threads=[int(t) for t in args.threads.split(",")],
        batches=[int(b) for b in args.batches.split(",")],
        seconds=0.15 if args.quick else 3.0,
        checkpoint=args.checkpoint,
        search_positions=16 if args.quick else 128,
        search_simulations=16 if args.quick else 64,
    )
    results["load_average_1m"] = {"start": load_start, "end": load_average_1m()}
    write_result(
        "selfplay_inference",
        results,
        quick=args.quick,
        packages=("onnx", "onnxscript", "onnxruntime", "openvino"),
    )


if __name__ == "__main__":
    main()
