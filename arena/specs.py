"""Player spec strings: the short names that pick a player on the command line and in results.

    random                      uniform over legal moves (rated 0 on every scale)
    uct:N[:c=C][:rollouts=R]    UCT with random rollouts, N simulations per move (c: 2.0, R: 1)
    solver | minimax            exact play where the game has a solver; random among best moves
    solver:first                exact play, always the lowest of the best moves (deterministic)
    openspiel:mcts:N[:c=C][:rollouts=R][:solve=1]
                                OpenSpiel's C++ MCTSBot with random rollouts (c: 2.0, R: 1)
    human                       you, at the terminal
    PATH@N[:t=T][:root=R][:adapt=K]
                                an AlphaZero checkpoint searching N simulations per move
                                (@0: the raw policy network); t: move temperature (default 0);
                                root: puct or gumbel (default: the run's config); adapt: spend
                                N on a typical move and up to K*N where the move is unsettled

PATH is a checkpoint stem or either of its files (`runs/c4/checkpoints/ckpt_000200`, with or
without `.safetensors`/`.json`). The spec string itself names the player in tables and ratings
files, so write the same spec to put the same player on one scale.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ponder.agents.player import Player
from ponder.checkpoint import path_exists
from ponder.errors import PonderError, short

KINDS = "random, uct:N, solver, solver:first, minimax, openspiel:mcts:N, human, PATH@N[:t=T]"
# ASCII digits only: str.isdigit and \d also accept other scripts' digits and superscripts,
# which int() then refuses (or reads as a number the user did not type).
_CHECKPOINT = re.compile(
    r"^(?P<path>.+)@(?P<sims>[0-9]+)(?P<options>(?::[^:@]*)*)$", re.ASCII | re.DOTALL
)
ROOTS = ("puct", "gumbel")
# Search budgets beyond this are not a player anyone can wait for (UCT runs about 1M
# simulations a second); the cap also keeps the trees' size a number the machine can hold.
MAX_SIMULATIONS = 10_000_000
MAX_ROLLOUTS = 10_000
MAX_SPEC_CHARS = 4096


def _options(spec: str, items: list[str], allowed: dict[str, type]) -> dict[str, Any]:
    """`key=value` items after the kind; each key once, each value of its type."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or key not in allowed:
            names = ", ".join(f"{k}=" for k in allowed) or "none"
            raise PonderError(f"player spec {spec!r}: unknown option {item!r} (options: {names})")
        if key in out:
            raise PonderError(f"player spec {spec!r}: option {key!r} given twice")
        kind = allowed[key]
        if kind is bool:
            if raw.lower() not in ("0", "1", "true", "false", "yes", "no"):
                raise PonderError(f"player spec {spec!r}: {key}= takes 0 or 1")
            out[key] = raw.lower() in ("1", "true", "yes")
            continue
        if kind is str:
            out[key] = raw
            continue
        pattern = r"[0-9]+" if kind is int else r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
        if not re.fullmatch(pattern, raw, re.ASCII):
            what = "a whole number" if kind is int else "a number"
            raise PonderError(f"player spec {spec!r}: {key}={short(raw)} is not {what}")
        value = kind(raw)
        if not math.isfinite(value):
            raise PonderError(f"player spec {spec!r}: {key}={short(raw)} is not finite")
        out[key] = value
    return out


def _simulations(spec: str, text: str | None, example: str) -> int:
    if text is None or not re.fullmatch(r"[0-9]+", text, re.ASCII) or int(text) < 1:
        raise PonderError(
            f"player spec {spec!r}: give a positive number of simulations, e.g. {example}"
        )
    return _at_most(spec, "simulations", int(text), MAX_SIMULATIONS)


def _at_most(spec: str, what: str, value: int, limit: int) -> int:
    if value > limit:
        raise PonderError(f"player spec {spec!r}: {what} {value} is over the limit of {limit:,}")
    return value


def _positive(spec: str, key: str, value: float) -> None:
    if value <= 0:
        raise PonderError(f"player spec {spec!r}: {key} must be positive")


def _uct(spec: str, parts: list[str]) -> Player:
    from ponder.agents.players import UCTPlayer

    sims = _simulations(spec, parts[1] if len(parts) > 1 else None, "uct:200")
    opts = _options(spec, parts[2:], {"c": float, "rollouts": int})
    for key in opts:
        _positive(spec, key, opts[key])
    _at_most(spec, "rollouts", opts.get("rollouts", 1), MAX_ROLLOUTS)
    return UCTPlayer(sims, opts.get("c", 2.0), opts.get("rollouts", 1), spec=spec)


def _openspiel(spec: str, parts: list[str]) -> Player:
    from ponder.agents.players import OpenSpielMCTSPlayer

    if len(parts) < 2 or parts[1] != "mcts":
        raise PonderError(f"player spec {spec!r}: the OpenSpiel player is openspiel:mcts:N")
    sims = _simulations(spec, parts[2] if len(parts) > 2 else None, "openspiel:mcts:200")
    opts = _options(spec, parts[3:], {"c": float, "rollouts": int, "solve": bool})
    for key in ("c", "rollouts"):
        if key in opts:
            _positive(spec, key, opts[key])
    _at_most(spec, "rollouts", opts.get("rollouts", 1), MAX_ROLLOUTS)
    return OpenSpielMCTSPlayer(
        sims, opts.get("c", 2.0), opts.get("rollouts", 1), opts.get("solve", False), spec=spec
    )


def _solver(spec: str, parts: list[str]) -> Player:
    from ponder.agents.players import SolverPlayer

    if len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("first", "random")):
        raise PonderError(f"player spec {spec!r}: use {parts[0]}, {parts[0]}:first or :random")
    return SolverPlayer(parts[1] if len(parts) == 2 else "random", spec=spec)


def _checkpoint(spec: str, game: Any) -> Player:
    from ponder.checkpoint import check_expected, checkpoint_stem, read_metadata

    match = _CHECKPOINT.match(spec)
    if match is None:
        raise PonderError(
            f"player spec {spec!r}: a checkpoint is PATH@N[:t=T][:root=puct|gumbel][:adapt=K] "
            "(N simulations, 0 = raw policy; T temperature)"
        )
    path = match["path"]
    sims = _at_most(spec, "simulations", int(match["sims"]), MAX_SIMULATIONS)
    items = [item for item in match["options"].split(":") if item]
    opts = _options(spec, items, {"t": float, "root": str, "adapt": float})
    temperature = opts.get("t", 0.0)
    if not 0.0 <= temperature < float("inf"):
        raise PonderError(f"player spec {spec!r}: t must be a finite number >= 0")
    root = opts.get("root")
    if root is not None and root not in ROOTS:
        raise PonderError(f"player spec {spec!r}: root must be puct or gumbel")
    adapt = opts.get("adapt", 0.0)
    if "adapt" in opts and not 1.0 < adapt <= 64.0:
        raise PonderError(
            f"player spec {spec!r}: adapt is the most a move may take, as a "
            "multiple of N: above 1 and at most 64"
        )
    if "adapt" in opts and sims == 0:
        raise PonderError(f"player spec {spec!r}: an adaptive budget needs N > 0 simulations")
    stem = checkpoint_stem(path)
    meta = read_metadata(stem)  # one-line errors for a missing or unreadable checkpoint
    check_expected(meta, {"game": game.name}, stem)
    try:
        from ponder.agents.alphazero.player import load_checkpoint_player
    except ModuleNotFoundError:
        raise PonderError(
            f"player spec {spec!r}: checkpoint players need ponder.agents.alphazero.player, "
            "which this installation lacks"
        ) from None
    player = load_checkpoint_player(str(stem), sims, temperature, game, root=root, adapt=adapt)
    player.spec = spec
    return player


def with_budget(spec: str, simulations: int) -> str:
    """The same player searching `simulations` per move (`uct:1000` -> `uct:800`, `PATH@64` ->
    `PATH@800`); a one-line error for players that have no search budget."""
    text = spec.strip()
    if simulations < 0 or (simulations == 0 and "@" not in text):
        raise PonderError(f"{text}: the budget must be positive (0 only for a checkpoint)")
    match = _CHECKPOINT.match(text)
    if match is not None:
        return f"{match['path']}@{simulations}{match['options']}"
    parts = text.split(":")
    where = {"uct": 1, "openspiel": 2}.get(parts[0].lower())
    if where is None or len(parts) <= where:
        raise PonderError(f"{text} has no search budget to change")
    parts[where] = str(simulations)
    return ":".join(parts)


def looks_like_checkpoint(spec: str) -> bool:
    return "@" in spec or "/" in spec or spec.endswith((".safetensors", ".json"))


def make_player(spec: str | Player, game: Any) -> Player:
    """Build the player a spec names for `game` (a Player object passes through unchanged).
    Every mistake in a spec is a one-line PonderError that quotes the spec."""
    if not isinstance(spec, str):
        if not isinstance(spec, Player):
            raise TypeError(f"a player is a spec string or a Player, not {type(spec).__name__}")
        return spec
    text = spec.strip()
    if not text:
        raise PonderError(f"empty player spec; known kinds: {KINDS}")
    if len(text) > MAX_SPEC_CHARS:
        raise PonderError(f"player spec {short(text)} is {len(text):,} characters long")
    if not text.isprintable():
        raise PonderError(f"player spec {short(text)} holds control characters")
    parts = text.split(":")
    head = parts[0].lower()
    if "@" in text:
        return _checkpoint(text, game)
    if head == "random" and len(parts) == 1:
        from ponder.agents.players import RandomPlayer

        return RandomPlayer(spec=text)
    if head == "human" and len(parts) == 1:
        from ponder.agents.players import HumanPlayer

        return HumanPlayer(spec=text)
    if head == "uct":
        return _uct(text, parts)
    if head in ("solver", "minimax"):
        return _solver(text, parts)
    if head == "openspiel":
        return _openspiel(text, parts)
    if looks_like_checkpoint(text) or path_exists(text):
        raise PonderError(
            f"player spec {text!r}: a checkpoint needs a search budget, e.g. {text}@200 "
            "(@0 plays the raw policy)"
        )
    raise PonderError(f"unknown player spec {short(text)}; known kinds: {KINDS}")


def check_player_for_game(player: Player, game: Any) -> None:
    """Fail before any game starts when a player cannot play `game` at all."""
    from ponder.agents.players import OpenSpielMCTSPlayer, SolverPlayer, spiel_twin
    from ponder.envs.solvers import get_solver

    if isinstance(player, SolverPlayer) and get_solver(game.name) is None:
        raise PonderError(f"player {player.spec!r}: no exact solver for {game.name}")
    if isinstance(player, OpenSpielMCTSPlayer):
        spiel_twin(game, player.spec)
