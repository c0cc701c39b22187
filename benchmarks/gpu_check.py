"""The CUDA paths of AlphaZero and DQN, checked and timed on one GPU machine in a few minutes.

    python benchmarks/gpu_check.py [--minutes 3] [--skip-training]
    python benchmarks/gpu_check.py --device cpu     # the same checks on the CPU (a dry run)

1. Losses: the AlphaZero trainer (connect four, configs/connect_four.yaml) and the DQN learner
   (Nature CNN, Breakout-shaped frames) take one step from the same weights on the same batch on
   the CPU and on the GPU, in float32 and in mixed precision; the losses must agree within
   1e-3 (float32) and 3e-2 (mixed precision), relative.
2. Rates, side by side with the CPU: AlphaZero learner samples/s, network evaluations/s of the
   evaluator at self-play batch sizes, DQN learner updates/s.
3. Training: `ponder train az` on connect four for `--minutes`, where the driver puts the learner
   and the shared inference actor on the GPU; the run must write a checkpoint, and its
   positions/s, learner samples/s and evaluations/s are read from its last training log row
   (None when the learner never started, i.e. self-play did not reach `train.min_replay`).

Results: benchmarks/results/gpu_check.json. Without a GPU the default run stops with one line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_result

ROOT = Path(__file__).resolve().parent.parent
AZ_TOLERANCE = {"float32": 1e-3, "mixed": 3e-2}


def az_config(overrides: list[str] | None = None) -> Any:
    from ponder.agents.alphazero.config import AZConfig
    from ponder.config import apply_overrides, read_yaml, validate_config

    return validate_config(
        AZConfig, apply_overrides(read_yaml(ROOT / "configs/connect_four.yaml"), overrides or [])
    )


def self_play_batch(cfg: Any, size: int) -> Any:
    """Real self-play positions (a random network's search targets), at least `size` of them."""
    from ponder.agents.alphazero.evaluator import TorchEvaluator
    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.agents.alphazero.samples import Samples
    from ponder.agents.alphazero.selfplay import SelfPlayRunner
    from ponder.envs.registry import get_game

    game = get_game(cfg.game)
    evaluator = TorchEvaluator(PolicyValueNet(game, cfg.network), device="cpu")
    runner = SelfPlayRunner(game, cfg, evaluator, seed=0)
    parts: list[Any] = []
    while sum(len(p) for p in parts) < size:
        parts += [r.samples for r in runner.play(cfg.selfplay.concurrent_games)]
    batch = Samples.concat(parts)
    return Samples(**{k: v[:size] for k, v in vars(batch).items()})


def az_losses_and_rates(device: str, steps: int) -> dict[str, Any]:
    import torch

    from ponder.agents.alphazero.learner import AZLearner
    from ponder.envs.registry import get_game

    cfg = az_config()
    game = get_game(cfg.game)
    batch = self_play_batch(cfg, cfg.train.batch_size)
    out: dict[str, Any] = {"batch_size": cfg.train.batch_size}
    for label, amp in (("float32", False), ("mixed", True)):
        cfg_amp = az_config([f"train.mixed_precision={str(amp).lower()}"])
        losses = {}
        for where in ("cpu", device):
            torch.manual_seed(0)
            trainer = AZLearner(game, cfg_amp, device=where)
            losses[where] = trainer.train_step(batch)["total"]
        rel = abs(losses[device] - losses["cpu"]) / max(abs(losses["cpu"]), 1e-8)
        out[f"loss_{label}"] = {
            **losses,
            "relative_difference": rel,
            "tolerance": AZ_TOLERANCE[label],
            "ok": rel <= AZ_TOLERANCE[label],
        }
        for where in dict.fromkeys(("cpu", device)):
            torch.manual_seed(0)
            trainer = AZLearner(game, cfg_amp, device=where)
            trainer.train_step(batch)
            if where.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(batch)
            if where.startswith("cuda"):
                torch.cuda.synchronize()
            rate = steps * len(batch) / (time.perf_counter() - start)
            out.setdefault("learner_samples_per_s", {})[f"{where}_{label}"] = rate
    return out


def az_evaluations(device: str, batches: list[int], repeats: int) -> dict[str, Any]:
    import torch

    from ponder.agents.alphazero.evaluator import TorchEvaluator
    from ponder.agents.alphazero.network import PolicyValueNet
    from ponder.envs.registry import get_game

    cfg = az_config()
    game = get_game(cfg.game)
    positions = self_play_batch(cfg, max(batches))
    rates: dict[str, Any] = {}
    for where, amp in dict.fromkeys((("cpu", False), (device, False), (device, True))):
        torch.manual_seed(0)
        evaluator = TorchEvaluator(
            PolicyValueNet(game, cfg.network), device=where, mixed_precision=amp
        )
        for size in batches:
            planes, legal = positions.planes[:size], positions.legal[:size]
            evaluator(planes, legal)
            start = time.perf_counter()
            for _ in range(repeats):
                evaluator(planes, legal)  # returns numpy: the device work is finished
            label = f"{where}{'_mixed' if amp else ''}"
            rates.setdefault(label, {})[str(size)] = repeats * size / (time.perf_counter() - start)
    return rates


def dqn_losses_and_rates(device: str, updates: int) -> dict[str, Any]:
    import torch

    from ponder.agents.dqn.config import DQNConfig
    from ponder.agents.dqn.learner import DQNLearner
    from ponder.agents.dqn.replay import Batch

    rng = np.random.default_rng(0)
    size = 32
    batch = Batch(
        index=np.arange(size),
        obs=rng.integers(0, 256, (size, 4, 84 * 84), dtype=np.uint8),
        next_obs=rng.integers(0, 256, (size, 4, 84 * 84), dtype=np.uint8),
        actions=rng.integers(0, 4, size).astype(np.uint8),
        returns=rng.random(size, dtype=np.float32),
        discounts=np.full(size, 0.99, np.float32),
        probs=np.full(size, 1e-5),
        weights=np.ones(size, np.float32),
    )
    out: dict[str, Any] = {}
    for label, amp in (("float32", False), ("mixed", True)):
        losses, rates = {}, {}
        for where in dict.fromkeys(("cpu", device)):
            cfg = DQNConfig.model_validate(
                {
                    "run": {"device": where},
                    "train": {"mixed_precision": amp},
                    "replay": {"prioritized": False},
                }
            )
            torch.manual_seed(0)
            learner = DQNLearner(cfg, 4, (84, 84), 4, where)
            losses[where] = learner.update(batch)[1]
            start = time.perf_counter()
            for _ in range(updates):
                learner.update(batch)  # returns numpy TD errors: synchronised
            rates[where] = updates / (time.perf_counter() - start)
        rel = abs(losses[device] - losses["cpu"]) / max(abs(losses["cpu"]), 1e-8)
        out[label] = {
            "loss": losses,
            "relative_difference": rel,
            "tolerance": AZ_TOLERANCE[label],
            "ok": rel <= AZ_TOLERANCE[label],
            "updates_per_s": rates,
        }
    return out


def az_training(minutes: float) -> dict[str, Any]:
    """A short real run through the CLI; the driver plans the learner and inference on a GPU."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        cmd = [
            sys.executable, "-c", "from ponder.cli import main; main()", "train", "az",
            "--config", str(ROOT / "configs/connect_four.yaml"), "--out", str(run), "--quiet",
            "--set", f"run.minutes={minutes}", "--set", "eval.every=1000000",
        ]  # fmt: skip
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=minutes * 60 + 600)
        seconds = time.perf_counter() - start
        rows = []
        if (run / "metrics.jsonl").is_file():
            rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        checkpoints = sorted((run / "checkpoints").glob("*.safetensors")) if run.is_dir() else []
        train = [r for r in rows if r.get("kind") == "train"]
        last = train[-1] if train else {}
        wall = max(float(last.get("wall_seconds", 0.0)), 1e-9)
        return {
            "returncode": done.returncode,
            "stderr_tail": done.stderr.strip().splitlines()[-3:],
            "seconds": round(seconds, 1),
            "checkpoints": len(checkpoints),
            "positions_per_s": last.get("positions_per_s"),
            "learner_samples_per_s": last.get("learner_samples", 0) / wall if last else None,
            "evaluations_per_s": last.get("network_evaluations", 0) / wall if last else None,
            "last_train_row": {k: v for k, v in last.items() if isinstance(v, int | float)},
            "ok": done.returncode == 0 and bool(checkpoints),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run")
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the training run")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--quick", action="store_true", help="fewer timing repeats")
    args = parser.parse_args()
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("error: no CUDA GPU is visible to torch (run on a GPU machine, or --device cpu)")
        raise SystemExit(2)
    repeats = 3 if args.quick else 30
    results: dict[str, Any] = {
        "device": args.device,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "alphazero": az_losses_and_rates(args.device, repeats),
        "alphazero_evaluations_per_s": az_evaluations(args.device, [64, 256, 1024], repeats),
        "dqn": dqn_losses_and_rates(args.device, repeats * 3),
    }
    if not args.skip_training:
        results["alphazero_training"] = az_training(args.minutes)
    checks = [results["alphazero"][f"loss_{k}"]["ok"] for k in AZ_TOLERANCE]
    checks += [results["dqn"][k]["ok"] for k in AZ_TOLERANCE]
    if "alphazero_training" in results:
        checks.append(results["alphazero_training"]["ok"])
    results["all_ok"] = all(checks)
    write_result("gpu_check", results, quick=args.quick or args.device == "cpu")
    print(json.dumps({"all_ok": results["all_ok"]}))
    raise SystemExit(0 if results["all_ok"] else 1)


if __name__ == "__main__":
    main()
