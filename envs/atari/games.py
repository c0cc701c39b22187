"""ALE game ids: the ROMs that ship with ale-py, under their snake_case names (`breakout`,
`ms_pacman`). Gymnasium-style names (`Breakout`, `ALE/Breakout-v5`) are accepted and mapped."""

from __future__ import annotations

import difflib
import functools
import re

from ponder.errors import PonderError


@functools.cache
def atari_game_ids() -> tuple[str, ...]:
    from ale_py import roms

    return tuple(sorted(roms.get_all_rom_ids()))


def normalize_game_id(name: str) -> str:
    """`ALE/MsPacman-v5` -> `ms_pacman`; snake_case names pass through."""
    base = name.strip()
    base = base.removeprefix("ALE/")
    base = re.sub(r"(NoFrameskip)?-v\d+$", "", base)
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base)
    return base.lower()


def check_game_id(name: str) -> str:
    """The canonical ROM id for `name`, or a one-line error with the closest ids."""
    game = normalize_game_id(name)
    ids = atari_game_ids()
    if game in ids:
        return game
    close = difflib.get_close_matches(game, ids, n=3)
    if close:
        hint = f"; did you mean {', '.join(close)}?"
    else:
        hint = f" ({len(ids)} games ship with ale-py)"
    raise PonderError(f"unknown Atari game {name!r}{hint}")
