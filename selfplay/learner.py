"""The learner: AZ-core's `AZLearner` as an actor (a Ray process, or an object of the driver's
process on the in-process backend), fed from the replay buffer.

It trains only as many steps as the driver grants (the driver holds trained samples at
`train.sample_ratio` times the generated ones), and publishes weights with one `put` whose
reference is handed on, so every worker and the evaluator read one copy from the store.
"""

from __future__ import annotations

import time
from typing import Any


class LearnerActor:
    def __init__(
        self,
        config: dict[str, Any],
        replay: Any,
        device: str = "cpu",
        checkpoint: Any = None,
        threads: int = 1,
        store: Any = None,
    ):
        import torch

        from ponder.agents.alphazero.config import AZConfig
        from ponder.agents.alphazero.learner import AZLearner
        from ponder.envs.registry import get_game
        from ponder.selfplay.backend import RayBackend

        torch.set_num_threads(threads)
        self.cfg = AZConfig.model_validate(config)
        self.replay = replay
        self.store = store or RayBackend()  # where the replay and published weights live
        self.trainer = AZLearner(get_game(self.cfg.game), self.cfg, device=device)
        if checkpoint is not None:
            self.trainer.restore(checkpoint)
        self.device = device

    def counters(self) -> dict[str, int]:
        return {"step": self.trainer.step, "samples_trained": self.trainer.samples_trained}

    def train(self, steps: int, publish: bool) -> dict[str, Any]:
        """Run `steps` learner steps on fresh uniform batches; mean losses over them.

        With `publish`, the result carries `weights: [ObjectRef]` of the state after the steps.
        """
        from ponder.agents.alphazero.samples import Samples

        start = time.perf_counter()
        totals: dict[str, float] = {}
        if steps > 0:
            batches = self.store.get(self.replay.sample.remote(self.cfg.train.batch_size, steps))
            for batch in batches:
                for key, value in self.trainer.train_step(Samples(**batch)).items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        out: dict[str, Any] = {
            **self.counters(),
            "steps": steps,
            "seconds": time.perf_counter() - start,
            "losses": {k: v / steps for k, v in totals.items()},
        }
        if publish:
            out["weights"] = self.publish()
        return out

    def publish(self) -> list[Any]:
        return [self.store.put(self.trainer.weights())]

    def checkpoint(self, compute: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Tensors and metadata for `RunDir.save_checkpoint` at the current step."""
        return self.trainer.checkpoint(compute)
