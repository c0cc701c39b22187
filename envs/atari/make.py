"""One entry point for the DQN envs: `kind` is `atari` (ALE, with a named protocol), `classic`
(gymnasium classic control) or `minatar` (MinAtar's 10x10 games)."""

from __future__ import annotations

from typing import Any

from ponder.envs.atari.protocols import get_protocol
from ponder.errors import PonderError

ENV_KINDS = ("atari", "classic", "minatar")


def check_env(kind: str, game: str, protocol: str) -> str:
    """The canonical game id, or a one-line error, without starting an emulator."""
    if kind == "atari":
        from ponder.envs.atari.games import check_game_id

        get_protocol(protocol)
        return check_game_id(game)
    if kind == "classic":
        import gymnasium as gym
        from gymnasium.error import Error as GymError

        try:
            gym.spec(game)
        except GymError:
            raise PonderError(
                f"unknown classic-control env {game!r} (e.g. CartPole-v1, Acrobot-v1)"
            ) from None
        return game
    if kind == "minatar":
        from ponder.envs.atari.minatar import check_minatar_game

        return check_minatar_game(game)
    raise PonderError(f"unknown env type {kind!r}; choose one of: {', '.join(ENV_KINDS)}")


def make_envs(
    kind: str,
    game: str,
    protocol: str,
    num_envs: int,
    seed: int,
    *,
    training: bool = True,
    max_frames: int | None = None,
    rgb: bool = False,
) -> Any:
    """`AtariEnvs`, `ClassicEnvs` or `MinAtarEnvs`; `max_frames` caps an episode (emulator
    frames for Atari, agent steps otherwise), None keeping the protocol's or the env's own cap;
    `rgb` keeps colour screens too (for videos; Atari and MinAtar)."""
    if kind == "atari":
        from ponder.envs.atari.vector import AtariEnvs

        return AtariEnvs(
            game,
            get_protocol(protocol),
            num_envs,
            seed,
            training=training,
            max_frames=max_frames,
            rgb=rgb,
        )
    if kind == "classic":
        from ponder.envs.atari.classic import ClassicEnvs

        return ClassicEnvs(game, num_envs, seed, max_steps=max_frames)
    if kind == "minatar":
        from ponder.envs.atari.minatar import MinAtarEnvs

        return MinAtarEnvs(game, num_envs, seed, max_steps=max_frames, rgb=rgb)
    raise PonderError(f"unknown env type {kind!r}; choose one of: {', '.join(ENV_KINDS)}")
