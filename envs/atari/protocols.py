"""The two Atari evaluation protocols. Scores are only comparable within one, so every result
(checkpoint metadata, evaluation record, benchmark file) carries the protocol by name and value.

- `machado`: the ALE v5 standard of Machado et al. (2018): sticky actions with probability 0.25
  supply the stochasticity, so there are no no-op starts and no fire reset; losing a life is not
  a terminal; episodes are capped at 108,000 frames (30 minutes of play).
- `nature`: the DQN Nature paper (Mnih et al., 2015) setting that most older tables use:
  deterministic emulator with up to 30 no-op starts, and a lost life ends the episode *for
  learning* (no bootstrap past it; the game itself goes on and scores count whole games). FIRE
  is pressed at the start of every such episode, at reset and after each lost life (the effect
  of the common fire-reset plus episodic-life wrappers), in training and evaluation alike, so a
  Breakout agent never idles with the ball held.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ponder.errors import PonderError


@dataclass(frozen=True)
class AtariProtocol:
    name: str
    repeat_action_probability: float
    noop_max: int
    fire_reset: bool
    life_loss_terminal: bool
    fire_on_life_loss: bool
    max_frames_per_episode: int = 108_000
    frame_skip: int = 4
    full_action_space: bool = False

    def describe(self) -> dict[str, Any]:
        """Every field, for results and checkpoint metadata."""
        return asdict(self)


PROTOCOLS: dict[str, AtariProtocol] = {
    "machado": AtariProtocol(
        name="machado",
        repeat_action_probability=0.25,
        noop_max=0,
        fire_reset=False,
        life_loss_terminal=False,
        fire_on_life_loss=False,
    ),
    "nature": AtariProtocol(
        name="nature",
        repeat_action_probability=0.0,
        noop_max=30,
        fire_reset=True,
        life_loss_terminal=True,
        fire_on_life_loss=True,
    ),
}


def get_protocol(name: str) -> AtariProtocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise PonderError(
            f"unknown Atari protocol {name!r}; choose one of: {', '.join(PROTOCOLS)}"
        ) from None
