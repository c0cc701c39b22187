"""Game names -> game objects. Native games load lazily so `ponder --help` stays fast.

Names: `tic_tac_toe`, `connect_four`, `hex_3` ... `hex_11`, `othello` (8x8), `othello_6x6`,
`gomoku`, and `openspiel:<pyspiel game string>` for the generic (slower) OpenSpiel path,
e.g. `openspiel:go(board_size=9)` or `openspiel:breakthrough`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from typing import Any

from ponder.errors import PonderError

OPENSPIEL_PREFIX = "openspiel:"

# name -> (module, factory attribute, factory args). A module that does not exist yet is skipped.
_NATIVE: dict[str, tuple[str, str, tuple]] = {
    "tic_tac_toe": ("ponder.envs.board.tic_tac_toe", "GAME", ()),
    "connect_four": ("ponder.envs.board.connect_four", "GAME", ()),
    **{f"hex_{n}": ("ponder.envs.board.hex", "make_game", (n,)) for n in range(3, 12)},
    "othello": ("ponder.envs.board.othello", "make_game", (8,)),
    "othello_6x6": ("ponder.envs.board.othello", "make_game", (6,)),
    "gomoku": ("ponder.envs.board.gomoku", "GAME", ()),
}

# OpenSpiel games that `ponder games` advertises for the generic path (any other two-player,
# zero-sum, perfect-information game string works too).
FEATURED_OPENSPIEL = ["go(board_size=9)", "chess", "breakthrough", "checkers", "clobber"]


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def native_game_names() -> list[str]:
    return [name for name, (module, _, _) in _NATIVE.items() if _module_exists(module)]


@functools.cache
def get_game(name: str) -> Any:
    """Return the `BoardGame` (or OpenSpiel adapter) for `name`; unknown names are user errors."""
    if name.startswith(OPENSPIEL_PREFIX):
        if not _module_exists("ponder.envs.openspiel"):
            raise PonderError("the OpenSpiel adapter is not available in this build")
        from ponder.envs.openspiel import make_game

        return make_game(name[len(OPENSPIEL_PREFIX) :])
    entry = _NATIVE.get(name)
    if entry is None or not _module_exists(entry[0]):
        known = ", ".join(native_game_names())
        raise PonderError(
            f"unknown game {name!r}; native games: {known}; or openspiel:<game>, e.g. "
            "openspiel:breakthrough"
        )
    module, attr, args = entry
    factory = getattr(importlib.import_module(module), attr)
    return factory(*args) if args else factory
