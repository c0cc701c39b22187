"""A worker that keeps dying ends the run with one line instead of restarting forever."""

from __future__ import annotations

import pytest

from ponder.errors import PonderError
from ponder.selfplay.slots import WorkerSlot


def test_the_death_past_the_restart_limit_is_one_line() -> None:
    slot = WorkerSlot(handle=None, index=3, deaths_in_a_row=2)
    never = lambda index, incarnation: pytest.fail("no restart past the limit")  # noqa: E731
    with pytest.raises(PonderError) as err:
        slot.replace(RuntimeError("out of memory\ntraceback..."), 2, "env worker", never)
    assert str(err.value) == (
        "env worker 3 died 3 times in a row without finishing its work; last error: out of memory"
    )
    assert slot.incarnation == 0


def test_a_finished_round_resets_the_count() -> None:
    slot = WorkerSlot(handle=None, index=0, deaths_in_a_row=2)
    slot.finished()
    assert slot.deaths_in_a_row == 0
