"""Opening sets: every game pair of a match starts from one opening, played once with each colour.

`openings="auto"` picks, per game:
- tic_tac_toe: every 1-ply opening (9);
- connect_four: every 2-ply opening (49);
- any other game: 64 distinct random openings of 2 plies (othello: 4), drawn from the match
  seed. They are plain random, not filtered for balance: the colour swap inside each pair
  cancels an opening's bias from the pair's score, and a lopsided opening only makes its pair
  less informative (it tends to split 1-1).
Other choices: "none" (the initial position only), "all:K" (every K-ply opening, up to 10,000),
"random:K" or "random:K:N" (N distinct random K-ply openings), or a list of action sequences.
Pairs cycle through the set in order, so the first len(set) pairs of a match use distinct
openings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ponder.errors import PonderError

Opening = tuple[int, ...]
MAX_OPENINGS = 10_000
RANDOM_PLIES = {"othello": 4, "othello_6x6": 4}
RANDOM_COUNT = 64


def _legal(game: Any, state: Any) -> np.ndarray:
    mask = np.zeros(game.num_actions, dtype=np.bool_)
    game.legal_mask(state, mask)
    return np.flatnonzero(mask)


def replay(game: Any, moves: Sequence[int]) -> Any:
    """The position after `moves` from the start (a state row or an OpenSpiel state)."""
    state = game.new_states(1)[0]
    for action in moves:
        game.play(state, int(action))
    return state


def all_openings(game: Any, plies: int) -> list[Opening]:
    """Every sequence of `plies` legal moves that leaves the game unfinished, in action order."""
    frontier: list[Opening] = [()]
    for _ in range(plies):
        grown: list[Opening] = []
        for moves in frontier:
            state = replay(game, moves)
            for action in _legal(game, state):
                child = replay(game, (*moves, int(action)))
                if not game.is_terminal(child):
                    grown.append((*moves, int(action)))
            if len(grown) > MAX_OPENINGS:
                raise PonderError(
                    f"openings all:{plies} for {game.name}: more than {MAX_OPENINGS} sequences; "
                    "use random:K:N"
                )
        frontier = grown
    return frontier


def random_openings(game: Any, plies: int, count: int, seed: int) -> list[Opening]:
    """Up to `count` distinct random `plies`-move openings (fewer when fewer exist)."""
    if not 1 <= count <= MAX_OPENINGS:
        raise PonderError(f"openings random:{plies}:{count}: give 1 to {MAX_OPENINGS} openings")
    rng = np.random.default_rng([seed, plies, count])
    found: dict[Opening, None] = {}
    for _ in range(count * 20):
        if len(found) == count:
            break
        state = game.new_states(1)[0]
        moves: list[int] = []
        for _ in range(plies):
            action = int(rng.choice(_legal(game, state)))
            game.play(state, action)
            moves.append(action)
            if game.is_terminal(state):
                break
        if not game.is_terminal(state):
            found.setdefault(tuple(moves), None)
    if not found:
        raise PonderError(f"no {plies}-ply opening of {game.name} leaves the game unfinished")
    return list(found)


def _count(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise PonderError(f"openings {what!r}: {text!r} is not a whole number")
    return int(text)


def opening_book(game: Any, openings: Any = "auto", seed: int = 0) -> list[Opening]:
    """Resolve an openings choice (see the module docstring) into a list of move sequences."""
    if not isinstance(openings, str):
        book = [tuple(int(a) for a in moves) for moves in openings]
        if not book:
            raise PonderError("the opening list is empty")
        for moves in book:
            check_opening(game, moves)
        return book
    text = openings.strip().lower()
    if text == "auto":
        if game.name == "tic_tac_toe":
            return all_openings(game, 1)
        if game.name == "connect_four":
            return all_openings(game, 2)
        return random_openings(game, RANDOM_PLIES.get(game.name, 2), RANDOM_COUNT, seed)
    if text == "none":
        return [()]
    kind, _, rest = text.partition(":")
    if kind == "all" and rest:
        return all_openings(game, _count(rest, openings))
    if kind == "random" and rest:
        plies, _, count = rest.partition(":")
        return random_openings(
            game,
            _count(plies, openings),
            _count(count, openings) if count else RANDOM_COUNT,
            seed,
        )
    raise PonderError(
        f"unknown openings {openings!r}: use auto, none, all:K, random:K or random:K:N"
    )


def check_opening(game: Any, moves: Opening) -> None:
    """A user-given opening must be legal and leave the game unfinished."""
    state = game.new_states(1)[0]
    for ply, action in enumerate(moves):
        if game.is_terminal(state) or action not in _legal(game, state):
            raise PonderError(f"opening {list(moves)}: move {ply + 1} ({action}) is not legal")
        game.play(state, action)
    if game.is_terminal(state):
        raise PonderError(f"opening {list(moves)} already ends the game")


def describe(openings: Any, book: list[Opening]) -> str:
    name = openings if isinstance(openings, str) else "custom"
    plies = sorted({len(m) for m in book})
    span = "/".join(str(p) for p in plies)
    return f"{name}: {len(book)} opening(s) of {span} plies"
