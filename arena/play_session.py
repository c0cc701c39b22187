"""You against a player, one move at a time at the terminal, with the commands a person wants
beside moves: `hint` (the opponent's own search on your position: its top moves and value),
`undo` (take back your last move and the reply), `sims N` (change the opponent's budget
mid-game) and `quit`. Bad input gets a short answer and the prompt again; end of input ends the
game cleanly.

Unlike `play_games` (which pits two `Player`s over a batch), this loop owns the position, so
that a move can be taken back: the position is always replayed from the move list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ponder.agents.players import QUIT_WORDS, legal_mask_of
from ponder.errors import PonderError

HELP = "moves in the game's notation; hint | undo | sims N | quit"


def top_line(top: list[dict], count: int) -> str:
    """`d 310v Q+0.25 P0.14 | c 40v ...` for the most visited moves of a search."""
    parts = []
    for entry in top[:count]:
        bits = [entry["move"]]
        if "visits" in entry:
            bits.append(f"{entry['visits']}v")
        if "q" in entry:
            bits.append(f"Q{entry['q']:+.2f}")
        if "prior" in entry:
            bits.append(f"P{entry['prior']:.2f}")
        parts.append(" ".join(bits))
    return " | ".join(parts)


@dataclass
class SessionResult:
    moves: list[int]
    outcome: float | None  # for the first mover; None when the game was abandoned
    bot_spec: str  # the opponent's spec at the end (after any `sims` change)


class PlaySession:
    """One game of a person (`read`/`write`) against `bot`, who is built from `bot_spec`."""

    def __init__(
        self,
        game: Any,
        bot_spec: str,
        you_first: bool,
        seed: int,
        read: Callable[[str], str] = input,
        write: Callable[[str], None] = print,
    ):
        self.game = game
        self.you = 0 if you_first else 1
        self.seed = seed
        self.read = read
        self.write = write
        self.history: list[int] = []
        self.bot: Any = None
        self._load(bot_spec)
        self._reset_position()

    def _load(self, spec: str) -> None:
        from ponder.arena.specs import check_player_for_game, make_player

        bot = make_player(spec, self.game)
        check_player_for_game(bot, self.game)
        bot.start(self.game, 1, self.seed)
        self.bot = bot

    def _reset_position(self) -> None:
        self.states = self.game.new_states(1)
        for action in self.history:
            self.game.play(self.states[0], action)

    @property
    def state(self) -> Any:
        return self.states[0]

    def _bot_search(self) -> tuple[int, Any]:
        actions, info = self.bot.act(self.states, [list(self.history)], np.zeros(1, np.int64))
        return int(actions[0]), info

    def run(self) -> SessionResult:
        game = self.game
        while not game.is_terminal(self.state):
            if int(game.to_play(self.state)) == self.you:
                action = self._ask()
                if action is None:
                    return SessionResult(list(self.history), None, self.bot.spec)
            else:
                action, _ = self._bot_search()
                side = "first" if self.you == 1 else "second"
                text = game.action_to_string(action, self.state)
                self.write(f"{self.bot.spec} ({side}) plays {text}")
            game.play(self.state, action)
            self.history.append(action)
        return SessionResult(list(self.history), float(game.outcome(self.state)), self.bot.spec)

    def _ask(self) -> int | None:
        """Your move, after any commands; None when you quit or the input ends."""
        game = self.game
        self.write(game.render(self.state))
        while True:
            legal = np.flatnonzero(legal_mask_of(game, self.state))
            examples = ", ".join(game.action_to_string(a, self.state) for a in legal[:8])
            more = ", ..." if len(legal) > 8 else ""
            try:
                text = self.read(f"your move ({examples}{more}; hint, undo, sims N, quit): ")
            except EOFError:
                return None
            text = text.strip()
            word = text.lower()
            if not text:
                continue
            if word in QUIT_WORDS:
                return None
            if word in ("help", "?"):
                self.write(f"  {HELP}")
            elif word == "hint":
                self._hint()
            elif word == "undo":
                if self._undo():
                    self.write(game.render(self.state))
            elif word.split()[0] in ("sims", "budget"):
                self._set_budget(word.split()[1:])
            else:
                try:
                    action = game.string_to_action(text, self.state)
                except ValueError as exc:
                    self.write(f"  {exc}")
                    continue
                if not 0 <= action < game.num_actions or action not in legal:
                    self.write(f"  {text!r} is not legal here; legal: {examples}{more}")
                    continue
                return action

    def _hint(self) -> None:
        from ponder.arena.match import top_moves

        _, info = self._bot_search()
        if info is None:
            self.write(f"  {self.bot.spec} has no search to show")
            return
        parts = []
        if info.root_value is not None:
            parts.append(f"value for you {float(info.root_value[0]):+.2f}")
        top = top_moves(self.game, info, 0, self.state, 5)
        if top:
            parts.append(top_line(top, 5))
        self.write(f"  hint from {self.bot.spec}: " + "; ".join(parts))

    def _undo(self) -> bool:
        """Take back your last move and everything after it; False when there is none."""
        game = self.game
        mine = [
            ply
            for ply in range(len(self.history))
            if int(game.to_play(self._position(ply))) == self.you
        ]
        if not mine:
            self.write("  nothing to undo yet")
            return False
        del self.history[mine[-1] :]
        self._reset_position()
        self.write(f"  took back your move {mine[-1] + 1} and the reply")
        return True

    def _position(self, ply: int) -> Any:
        state = self.game.new_states(1)[0]
        for action in self.history[:ply]:
            self.game.play(state, action)
        return state

    def _set_budget(self, args: list[str]) -> None:
        from ponder.arena.specs import with_budget

        if len(args) != 1 or not args[0].isdigit():
            self.write("  sims takes one number, e.g. sims 800")
            return
        try:
            spec = with_budget(self.bot.spec, int(args[0]))
            self._load(spec)
        except PonderError as exc:
            self.write(f"  {exc}")
            return
        self.write(f"  now playing {spec}")
