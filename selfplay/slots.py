"""A restartable Ray worker: what the AlphaZero and Ape-X drivers keep per worker process.

Both drivers replace a worker that died, with a fresh random stream (its incarnation is part of
its seed), and give up with one line when the same worker keeps dying: a fault the restart
cannot cure (a bad input, a broken machine) must not loop forever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ponder.errors import PonderError


@dataclass
class WorkerSlot:
    handle: Any
    index: int
    incarnation: int = 0
    deaths_in_a_row: int = 0
    busy: bool = False

    def finished(self) -> None:
        """The worker delivered a result: its deaths no longer count as in a row."""
        self.deaths_in_a_row = 0

    def replace(
        self, exc: BaseException, restarts: int, what: str, spawn: Callable[[int, int], Any]
    ) -> None:
        """After the worker died of `exc`: one line once it died more than `restarts` times in
        a row, else kill what is left of it and put `spawn(index, incarnation)` in its place."""
        import ray

        self.deaths_in_a_row += 1
        if self.deaths_in_a_row > restarts:
            raise PonderError(
                f"{what} {self.index} died {self.deaths_in_a_row} times in a row without "
                f"finishing its work; last error: {str(exc).splitlines()[0]}"
            )
        ray.kill(self.handle, no_restart=True)
        self.incarnation += 1
        self.handle = spawn(self.index, self.incarnation)
