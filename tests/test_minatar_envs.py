"""MinAtar behind the DQN stepping contract, through the real `minatar` games: channels-first
uint8 frames, autoreset flags, unclipped episode scores, per-env seeds, step-cap truncation,
colour pictures, and one-line errors for unknown games."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.atari.make import check_env, make_envs
from ponder.envs.atari.minatar import (
    DEFAULT_MAX_STEPS,
    MINATAR_GAMES,
    MinAtarEnvs,
    palette,
    pictures,
)
from ponder.errors import PonderError

CHANNELS = {"asterix": 4, "breakout": 4, "freeway": 7, "seaquest": 10, "space_invaders": 6}


def play(envs: MinAtarEnvs, steps: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    envs.reset()
    return [envs.step(rng.integers(0, envs.num_actions, envs.num_envs)) for _ in range(steps)]


@pytest.mark.parametrize("game", MINATAR_GAMES)
def test_frames_are_channels_first_uint8_grids(game):
    from minatar import Environment

    envs = make_envs("minatar", game, "machado", 3, seed=0)
    frames = envs.reset()
    assert frames.shape == (3, CHANNELS[game], 10, 10) and frames.dtype == np.uint8
    assert envs.frame_shape == (CHANNELS[game], 10, 10) and envs.frame_dtype == np.uint8
    assert envs.stack == 1 and envs.num_actions == 6 and envs.game == game
    assert envs.max_frames == DEFAULT_MAX_STEPS
    assert set(np.unique(frames)) <= {0, 1} and frames.any()
    # The same layout as the game's own (10, 10, C) state, transposed.
    game_env = envs.envs[1]
    assert (frames[1] == game_env.state().transpose(2, 0, 1)).all()
    assert tuple(Environment(game).state_shape()) == (10, 10, CHANNELS[game])
    out = envs.step(np.zeros(3, dtype=np.int64))
    assert out.frames.shape == frames.shape and out.frames.dtype == np.uint8
    envs.close()


@pytest.mark.parametrize("game", ["breakout", "space_invaders"])
def test_episodes_end_autoreset_and_report_unclipped_sums(game):
    envs = MinAtarEnvs(game, 4, seed=3)
    steps = play(envs, 1500, seed=3)
    running = np.zeros(4)
    lengths = np.zeros(4, dtype=int)
    reported = 0
    for previous, out in zip([None, *steps], steps, strict=False):
        assert not (out.terminal & ~out.final).any()  # no life loss to make terminal
        assert not (out.first & out.final).any()
        if previous is not None:
            assert (out.first == previous.final).all()  # the step after an end resets
        assert (out.rewards[out.first] == 0).all()
        running[out.first], lengths[out.first] = 0, 0
        running[~out.first] += out.rewards[~out.first]
        lengths[~out.first] += 1
        for env, ret, length in zip(
            out.episode_envs, out.episode_returns, out.episode_lengths, strict=True
        ):
            assert ret == running[env] and length == lengths[env]
            assert out.terminal[env]  # a lost game, not a cap
            reported += 1
    assert reported > 10
    envs.close()


def test_seeds_are_deterministic_and_distinct_per_env():
    def trajectory(seed: int) -> tuple[np.ndarray, np.ndarray]:
        envs = MinAtarEnvs("asterix", 4, seed=seed)
        steps = play(envs, 300, seed=0)  # the same actions whatever the env seed
        return np.stack([s.frames for s in steps]), np.stack([s.rewards for s in steps])

    frames, rewards = trajectory(7)
    again_frames, again_rewards = trajectory(7)
    assert (frames == again_frames).all() and (rewards == again_rewards).all()
    other, _ = trajectory(8)
    assert (frames != other).any()
    # Envs of one vector get streams of their own: given the same actions, they part ways.
    envs = MinAtarEnvs("asterix", 4, seed=7)
    envs.reset()
    seen = [envs.step(np.zeros(4, dtype=np.int64)).frames for _ in range(100)]
    per_env = np.stack(seen, axis=1).reshape(4, -1)
    assert len({row.tobytes() for row in per_env}) == 4
    # reset() reseeds: the episode replays exactly.
    first = play(envs, 50, seed=1)
    second = play(envs, 50, seed=1)
    assert all((a.frames == b.frames).all() for a, b in zip(first, second, strict=True))


def test_step_cap_truncates_without_terminal_then_autoresets():
    # Freeway never ends before 2500 frames on its own, so a cap of 40 steps is what ends it.
    envs = make_envs("minatar", "freeway", "machado", 2, seed=0, max_frames=40)
    assert envs.max_frames == 40
    steps = play(envs, 85)
    finals = [t for t, out in enumerate(steps) if out.final.any()]
    assert finals == [39, 80]  # 40 steps, the reset step, 40 more
    for t in finals:
        out = steps[t]
        assert out.final.all() and not out.terminal.any()
        assert out.episode_lengths == [40, 40]
        assert steps[t + 1].first.all() and (steps[t + 1].rewards == 0).all()
    envs.close()


def test_unknown_games_are_one_line_errors_naming_the_five():
    for call in (
        lambda: check_env("minatar", "pacman", "machado"),
        lambda: make_envs("minatar", "pacman", "machado", 1, 0),
    ):
        with pytest.raises(PonderError) as info:
            call()
        text = str(info.value)
        assert text.startswith("unknown MinAtar game 'pacman'") and "\n" not in text
        assert all(game in text for game in MINATAR_GAMES)
    assert check_env("minatar", "Seaquest", "machado") == "seaquest"


def test_pictures_colour_each_object_as_the_game_does():
    envs = MinAtarEnvs("breakout", 2, seed=0, rgb=True)
    frames = envs.reset()
    assert envs.rgb is not None and envs.rgb.shape == (2, 160, 160, 3)
    assert envs.rgb.dtype == np.uint8
    colours = palette(4)
    assert (colours[0] == 0).all() and len({tuple(c) for c in colours}) == 5
    # The paddle (channel 0) sits on the bottom row; bricks (channel 3) fill rows 1-3.
    column = int(np.flatnonzero(frames[0, 0, 9])[0])
    assert tuple(envs.rgb[0, 9 * 16 + 8, column * 16 + 8]) == tuple(colours[1])
    assert tuple(envs.rgb[0, 2 * 16, 5 * 16]) == tuple(colours[4])
    assert (envs.picture(frames[0]) == pictures(frames)[0]).all()
    out = envs.step(np.zeros(2, dtype=np.int64))
    assert (envs.rgb == pictures(out.frames)).all()
