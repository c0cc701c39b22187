"""The Atari envs through the real emulator (ROMs ship with ale-py): frame format, the two
protocols' life-loss rules, time-limit truncation, autoreset flags and unclipped scores."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.envs.atari.classic import ClassicEnvs
from ponder.envs.atari.games import check_game_id, normalize_game_id
from ponder.envs.atari.make import make_envs
from ponder.envs.atari.protocols import PROTOCOLS, get_protocol
from ponder.envs.atari.vector import AtariEnvs
from ponder.errors import PonderError


def play(envs, steps, rng, until_games=None):
    """Random play; every step's flags plus the lives counter after it. Stops early once
    `until_games` games have ended."""
    envs.reset()
    rows = []
    games = 0
    for _ in range(steps):
        out = envs.step(rng.integers(0, envs.num_actions, envs.num_envs))
        rows.append((out, envs.lives.copy()))
        games += len(out.episode_returns)
        if until_games is not None and games >= until_games:
            break
    return rows


def test_frames_are_one_84x84_grayscale_frame_per_env():
    envs = AtariEnvs("pong", get_protocol("machado"), 3, seed=0)
    frames = envs.reset()
    assert frames.shape == (3, 84, 84) and frames.dtype == np.uint8
    assert envs.num_actions == 6 and envs.stack == 4
    out = envs.step(np.zeros(3, dtype=np.int64))
    assert out.frames.shape == (3, 84, 84) and out.frames.std() > 0
    envs.close()


@pytest.mark.parametrize("protocol", ["nature", "machado"])
def test_life_loss_is_terminal_only_for_nature_training(protocol):
    rng = np.random.default_rng(0)
    for training in (True, False):
        envs = AtariEnvs("breakout", get_protocol(protocol), 1, seed=1, training=training)
        rows = play(envs, 3000, rng, until_games=1)
        envs.close()
        life_lost = game_over = 0
        previous = None
        for out, lives in rows:
            if previous is not None:
                lost = (lives < previous) & ~out.first
                mid_game = lost & ~out.final
                life_lost += int(mid_game.sum())
                expect_terminal = protocol == "nature" and training
                assert (out.terminal[mid_game] == expect_terminal).all()
            game_over += int((out.final & out.terminal).sum())
            previous = lives
        assert life_lost > 0 and game_over > 0  # the random history must hold both events


def test_time_limit_truncates_without_terminal_then_autoresets():
    envs = AtariEnvs("pong", get_protocol("machado"), 2, seed=0, max_frames=400)
    rows = play(envs, 210, np.random.default_rng(0))
    finals = [t for t, (out, _) in enumerate(rows) if out.final.any()]
    assert finals[:2] == [99, 200]  # 400 frames = 100 agent steps, then the autoreset step
    for t in finals:
        out = rows[t][0]
        assert out.final.all() and not out.terminal.any()
        assert rows[t + 1][0].first.all() and (rows[t + 1][0].rewards == 0).all()
        assert out.episode_lengths == [100, 100]
    envs.close()


def test_episode_returns_are_unclipped_sums_of_step_rewards():
    envs = AtariEnvs("breakout", get_protocol("nature"), 2, seed=3)
    rows = play(envs, 3000, np.random.default_rng(3), until_games=3)
    running = np.zeros(2)
    reported = []
    for out, _ in rows:
        running[out.first] = 0
        running[~out.first] += out.rewards[~out.first]
        for env, ret in zip(out.episode_envs, out.episode_returns, strict=True):
            assert ret == running[env]
            reported.append(ret)
    assert reported
    envs.close()


def test_protocols_record_their_settings():
    machado, nature = PROTOCOLS["machado"], PROTOCOLS["nature"]
    assert machado.repeat_action_probability == 0.25 and not machado.life_loss_terminal
    assert machado.max_frames_per_episode == 108_000
    assert nature.repeat_action_probability == 0.0 and nature.life_loss_terminal
    assert nature.fire_reset and nature.noop_max == 30
    assert machado.describe()["name"] == "machado"
    with pytest.raises(PonderError, match="unknown Atari protocol 'v4'"):
        get_protocol("v4")


def test_game_ids_accept_gymnasium_spellings_and_reject_unknown_ones():
    assert normalize_game_id("ALE/MsPacman-v5") == "ms_pacman"
    assert normalize_game_id("BreakoutNoFrameskip-v4") == "breakout"
    assert check_game_id("Pong") == "pong"
    with pytest.raises(PonderError, match=r"unknown Atari game 'pongg'; did you mean pong"):
        check_game_id("pongg")
    with pytest.raises(PonderError, match="unknown env type"):
        make_envs("mujoco", "pong", "machado", 1, 0)


def test_cartpole_envs_follow_the_same_contract():
    envs = ClassicEnvs("CartPole-v1", 3, seed=0, max_steps=50)
    frames = envs.reset()
    assert frames.shape == (3, 4) and frames.dtype == np.float32 and envs.stack == 1
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(300):
        out = envs.step(rng.integers(0, 2, 3))
        assert not (out.terminal & ~out.final).any()  # no life loss in CartPole
        assert (out.rewards[out.first] == 0).all()
        for length in out.episode_lengths:
            assert 1 <= length <= 50
        ended += len(out.episode_returns)
    assert ended > 10
    with pytest.raises(PonderError, match="unknown classic-control env"):
        ClassicEnvs("CartPole-v9", 1, seed=0)
    envs.close()


def test_nature_presses_fire_after_each_lost_life_machado_never_does():
    noop = np.zeros(1, dtype=np.int64)
    envs = AtariEnvs("breakout", get_protocol("nature"), 1, seed=0)
    assert envs.fire_action == 1
    envs.reset()
    taken, lost = [], 0
    for _ in range(600):
        lives_before = envs.lives.copy()
        taken.append(int(envs.send(noop)[0]))
        out = envs.recv()
        lost += int((envs.lives < lives_before).sum())
        if out.final.any():
            break
    envs.close()
    # A NOOP-only agent still plays a whole game: the env launches every ball itself.
    assert out.final.all() and lost == 5
    assert taken.count(1) == 4  # FIRE once after each of the 4 lives lost mid-game

    envs = AtariEnvs("breakout", get_protocol("machado"), 1, seed=0)
    assert envs.fire_action is None
    envs.reset()
    for _ in range(300):
        assert int(envs.send(noop)[0]) == 0
        out = envs.recv()
        assert not out.final.any() and envs.lives[0] == 5  # the ball is never launched
    envs.close()
