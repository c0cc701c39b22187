"""Where the single-process DQN loop runs its gradient updates: in turn with acting
(`InlineUpdates`), or on a learner thread of their own (`ThreadedUpdates`) so that acting,
emulation and learning overlap on a multi-core CPU.

Both take batches the acting side sampled (so the replay has one owner and needs no lock) and
hand back (index, |TD|, loss) for the priorities. The threaded one keeps the run deterministic
by fixing every hand-over to the update count instead of to the clock: batch j is sampled once
the priorities of updates <= j - lag are applied, and acting always uses the weights as they
were after a multiple of `lag` updates, at most 2 * lag updates old. Torch releases the GIL in
its kernels, so the two threads run on two cores.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any

import numpy as np
import torch

from ponder.agents.dqn.learner import DQNLearner, epsilon_greedy
from ponder.agents.dqn.replay import Batch
from ponder.errors import PonderError

Result = tuple[np.ndarray, np.ndarray, float]  # (replay index, |TD error|, loss)


class InlineUpdates:
    """Each update runs as it is submitted, in the caller's thread: the serial order."""

    lag = 0

    def __init__(self, learner: DQNLearner):
        self.learner = learner
        self.results: list[Result] = []

    def act(self, stacks: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        return self.learner.act(stacks, epsilon, rng)

    def slot(self) -> int:
        """The replay's batch slot for the next sample (one suffices: it is used at once)."""
        return 0

    def submit(self, batch: Batch) -> None:
        td_abs, loss = self.learner.update(batch)
        self.results.append((batch.index, td_abs, loss))

    def take_results(self) -> list[Result]:
        """Results of the updates whose priorities are due before the next sample."""
        out, self.results = self.results, []
        return out

    def drain(self) -> list[Result]:
        return self.take_results()

    def close(self) -> None:
        pass


class LearnerThreadError(PonderError):
    """The learner thread stopped on an exception (the original is its `__cause__`)."""


class ThreadedUpdates:
    """Updates on a learner thread, at most `lag` batches behind the acting side."""

    POLL_S = 0.5  # waits wake this often, so Ctrl-C reaches the acting thread promptly

    def __init__(self, learner: DQNLearner, lag: int):
        if lag < 1:
            raise ValueError("lag must be >= 1")
        self.learner = learner
        self.lag = lag
        self.acting_net = copy.deepcopy(learner.online).requires_grad_(False)
        self.acting_version = learner.updates
        # With hard target copies the acting side also computes each batch's target Q-values
        # (a copy of the target net, refreshed at the same update counts as the learner's),
        # taking a forward pass off the learner's critical path.
        self.target_net = None
        if learner.precomputable_target():
            self.target_net = copy.deepcopy(learner.target).requires_grad_(False)
            self.target_net_version = learner.target_version(learner.updates + 1)
        self.target_snapshots: dict[int, list[torch.Tensor]] = {}
        self.submitted = learner.updates
        self.completed = learner.updates
        self.taken = learner.updates  # results handed back so far, in update order
        self.pending: deque[tuple[Batch, torch.Tensor | None]] = deque()  # not yet started
        self.in_flight = 0
        self.results: deque[Result] = deque()
        self.snapshots: dict[int, list[torch.Tensor]] = {}
        self.error: BaseException | None = None
        self.closing = False
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="dqn-learner", daemon=True)
        self.thread.start()

    # -- the learner thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                with self.cond:
                    while not self.pending and not self.closing:
                        self.cond.wait()
                    if not self.pending:
                        return
                    batch, target_q = self.pending.popleft()
                    self.in_flight = 1
                td_abs, loss = self.learner.update(batch, target_q)
                version = self.learner.updates
                snapshot = target = None
                if version % self.lag == 0:
                    state = self.learner.online.state_dict().values()
                    snapshot = [t.detach().clone() for t in state]
                if (
                    self.target_net is not None
                    and self.learner.target_version(version + 1) == version
                ):
                    state = self.learner.target.state_dict().values()
                    target = [t.detach().clone() for t in state]
                with self.cond:
                    if target is not None:
                        self.target_snapshots[version] = target
                    self.in_flight = 0
                    self.completed += 1
                    self.results.append((batch.index.copy(), td_abs, loss))
                    if snapshot is not None:
                        self.snapshots[version] = snapshot
                    self.cond.notify_all()
        except BaseException as exc:  # handed to the acting thread, which raises it
            with self.cond:
                self.error = exc
                self.cond.notify_all()

    # -- the acting side ----------------------------------------------------------------------
    def _wait(self, ready: Any) -> None:
        """Wait (holding `cond`) until `ready()`; a learner failure is raised here."""
        while not ready():
            if self.error is not None:
                raise LearnerThreadError(f"the learner thread failed: {self.error}") from self.error
            self.cond.wait(self.POLL_S)
        if self.error is not None:
            raise LearnerThreadError(f"the learner thread failed: {self.error}") from self.error

    def slot(self) -> int:
        """The replay's batch slot for the next sample: up to `lag` batches are held by the
        learner while the next one is drawn, so `lag + 1` slots take turns."""
        return self.submitted % (self.lag + 1)

    def submit(self, batch: Batch) -> None:
        target_q = self._target_q(batch) if self.target_net is not None else None
        with self.cond:
            self._wait(lambda: len(self.pending) + self.in_flight < self.lag)
            self.pending.append((batch, target_q))
            self.submitted += 1
            self.cond.notify_all()

    def take_results(self) -> list[Result]:
        """The results of updates up to `submitted - lag`, in order: what the next sample must
        see, no more (results that are merely early wait, so the schedule is the clock's
        business nowhere)."""
        due = self.submitted - self.lag
        return self._take_until(due)

    def _take_until(self, due: int) -> list[Result]:
        out: list[Result] = []
        if due <= self.taken:
            return out
        with self.cond:
            self._wait(lambda: self.completed >= due)
            while self.taken < due:
                out.append(self.results.popleft())
                self.taken += 1
        return out

    @torch.inference_mode()
    def _target_q(self, batch: Batch) -> torch.Tensor:
        """The target net's Q-values on the batch's next states, with the weights the learner's
        target net will hold when it reaches this batch (waiting for a fresh copy if needed)."""
        assert self.target_net is not None
        version = self.learner.target_version(self.submitted + 1)
        if version != self.target_net_version:
            copy_weights(self.target_net, self._take_snapshot(self.target_snapshots, version))
            self.target_net_version = version
        learner = self.learner
        shape = (len(batch.actions), learner.stack, *learner.frame_shape)
        next_obs = torch.from_numpy(batch.next_obs).to(learner.device).view(shape)
        with learner.autocast():
            return self.target_net(next_obs).float().clone()

    def _sync_acting_net(self) -> None:
        # The newest multiple of `lag` that is at least `lag` updates old, never going back.
        version = max(self.acting_version, (self.submitted - self.lag) // self.lag * self.lag)
        if version == self.acting_version:
            return
        copy_weights(self.acting_net, self._take_snapshot(self.snapshots, version))
        self.acting_version = version

    def _take_snapshot(self, snapshots: dict[int, list[torch.Tensor]], version: int) -> list:
        """The learner's weights at `version` updates (waiting until it gets there); older
        snapshots are dropped, since versions are only ever asked for in increasing order."""
        with self.cond:
            self._wait(lambda: version in snapshots)
            weights = snapshots.pop(version)
            for old in [v for v in snapshots if v < version]:
                del snapshots[old]
        return weights

    @torch.inference_mode()
    def act(self, stacks: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
        self._sync_acting_net()
        with self.learner.autocast():
            q_values = self.acting_net(torch.from_numpy(stacks).to(self.learner.device)).float()
        return epsilon_greedy(q_values, epsilon, rng)

    def drain(self) -> list[Result]:
        """Wait for every submitted update; all results. The learner is idle until the next
        submit, so evaluation and checkpoints may read it."""
        return self._take_until(self.submitted)

    def close(self) -> None:
        """Stop the thread after the update in hand (pending batches are dropped: the caller
        drains first when it wants them)."""
        with self.cond:
            self.closing = True
            self.pending.clear()
            self.cond.notify_all()
        self.thread.join()


@torch.no_grad()
def copy_weights(net: torch.nn.Module, weights: list[torch.Tensor]) -> None:
    for target, source in zip(net.state_dict().values(), weights, strict=True):
        target.copy_(source)


def make_updates(learner: DQNLearner, lag: int) -> InlineUpdates | ThreadedUpdates:
    return ThreadedUpdates(learner, lag) if lag > 0 else InlineUpdates(learner)
