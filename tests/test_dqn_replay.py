"""The frame replay against brute-force references computed from plain Python episode lists:
frame stacks across episode boundaries, n-step returns, eligibility in a wrapping ring, PER
sampling probabilities and importance weights, the Ape-X export/extend path, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from ponder.agents.dqn.replay import FrameReplay
from ponder.errors import PonderError

STACK, N_STEP, GAMMA = 4, 3, 0.9


def make_replay(capacity, streams, prioritized=False, clip=False, n_step=N_STEP):
    # A frame is (stream, step, episode): the replay copies it around, the test decodes it.
    return FrameReplay(
        capacity,
        streams,
        (3,),
        np.float32,
        stack=STACK,
        n_step=n_step,
        gamma=GAMMA,
        prioritized=prioritized,
        alpha=0.6,
        reward_clip=clip,
    )


class Stream:
    """One env's true history: per step its frame id, episode, action, reward and flags."""

    def __init__(self, index, rng):
        self.index, self.rng = index, rng
        self.steps = []  # dicts: episode, first, final, action, reward, terminal
        self.episode = 0
        self.pending_first, self.pending_final = True, False

    def frame(self, step):
        return np.array([self.index, step, self.steps[step]["episode"]], dtype=np.float32)

    def observe(self):
        """The frame the env shows now (flags known before acting)."""
        row = {"episode": self.episode, "first": self.pending_first, "final": self.pending_final}
        self.steps.append(row)
        return len(self.steps) - 1

    def act(self):
        """Take a step from the newest frame; decide what happens next."""
        row = self.steps[-1]
        row["action"] = int(self.rng.integers(0, 6))
        if row["final"]:  # the autoreset step: action ignored, no reward
            row["reward"], row["terminal"] = 0.0, False
            self.episode += 1
            self.pending_first, self.pending_final = True, False
            return row
        row["reward"] = float(self.rng.choice([-3.0, -1.0, 0.0, 0.0, 1.0, 2.5]))
        u = self.rng.random()
        game_over, truncated, life_lost = u < 0.06, 0.06 <= u < 0.1, 0.1 <= u < 0.15
        row["terminal"] = bool(game_over or life_lost)
        self.pending_first = False
        self.pending_final = game_over or truncated
        return row

    def stack(self, step):
        out = np.zeros((STACK, 3), np.float32)
        for j in range(STACK):
            t = step - j
            if t < 0 or self.steps[t]["episode"] != self.steps[step]["episode"]:
                break
            out[STACK - 1 - j] = self.frame(t)
            if self.steps[t]["first"]:
                break
        return out

    def transition(self, step, n_step=N_STEP, clip=False):
        """(obs, action, return, discount, next obs) by walking the list."""
        ret, disc = 0.0, 1.0
        boot = step + n_step
        for k in range(n_step):
            t = step + k
            r = self.steps[t]["reward"]
            ret += disc * (max(-1.0, min(1.0, r)) if clip else r)
            disc *= GAMMA
            if self.steps[t]["terminal"]:
                disc, boot = 0.0, None
                break
            if self.steps[t + 1]["final"]:
                boot = t + 1
                break
        nxt = self.stack(boot) if boot is not None else np.zeros((STACK, 3), np.float32)
        return self.stack(step), self.steps[step]["action"], ret, disc, nxt


def observe(replay, streams):
    """Each env shows its next frame; the replay stores it at the stream's head."""
    for s in streams:
        s.observe()
    replay.begin(
        np.array([s.index for s in streams]),
        np.stack([s.frame(len(s.steps) - 1) for s in streams]),
        np.array([s.steps[-1]["first"] for s in streams]),
        np.array([s.steps[-1]["final"] for s in streams]),
    )


def act(replay, streams):
    """Each env acts from its head frame (whose stack must match the reference)."""
    ids = np.array([s.index for s in streams])
    heads = replay.head_stacks(ids)
    for k, s in enumerate(streams):
        np.testing.assert_array_equal(heads[k], s.stack(len(s.steps) - 1))
    rows = [s.act() for s in streams]
    replay.commit(
        ids,
        np.array([r["action"] for r in rows]),
        np.array([r["reward"] for r in rows]),
        np.array([r["terminal"] for r in rows]),
    )


def run(replay, streams, steps):
    observe(replay, streams)
    run_steps(replay, streams, steps)


def run_steps(replay, streams, steps):
    """Continue `run` (the head frames are already in)."""
    for _ in range(steps):
        act(replay, streams)
        observe(replay, streams)


def eligible(replay, streams):
    """Brute force: complete, not a final frame, whole stack history still in the ring."""
    want = set()
    for s in streams:
        last = len(s.steps) - 1
        for t in range(max(0, last - replay.per + STACK), last - N_STEP + 1):
            if not s.steps[t]["final"]:
                want.add(s.index * replay.per + t % replay.per)
    return want


def decode(frame):
    return int(frame[0]), int(frame[1])


@pytest.mark.parametrize("clip", [False, True])
def test_samples_match_brute_force_stacks_and_n_step_returns(clip):
    rng = np.random.default_rng(0)
    streams = [Stream(i, rng) for i in range(3)]
    replay = make_replay(3 * 40, 3, clip=clip)  # 40 slots per env: the ring wraps many times
    run(replay, streams, 300)
    leaves = replay.tree[len(replay.tree) // 2 :][: replay.capacity]
    assert set(np.flatnonzero(leaves > 0)) == eligible(replay, streams)
    sample_rng = np.random.default_rng(1)
    seen = set()
    for _ in range(200):
        batch = replay.sample(16, sample_rng)
        for b in range(16):
            stream, step = decode(batch.obs[b, -1])
            obs, action, ret, disc, nxt = streams[stream].transition(step, clip=clip)
            np.testing.assert_array_equal(batch.obs[b], obs)
            assert batch.actions[b] == action
            assert batch.returns[b] == pytest.approx(ret, rel=1e-6)
            assert batch.discounts[b] == pytest.approx(disc, rel=1e-6)
            np.testing.assert_array_equal(batch.next_obs[b], nxt)
            assert batch.index[b] == stream * replay.per + step % replay.per
            seen.add(int(batch.index[b]))
    assert seen == eligible(replay, streams)  # uniform sampling reaches every transition


def test_stacks_are_zero_padded_at_episode_starts_and_after_one_step_episodes():
    rng = np.random.default_rng(5)
    stream = Stream(0, rng)
    replay = make_replay(500, 1)
    run(replay, [stream], 400)
    starts = [t for t, row in enumerate(stream.steps) if row["first"]]
    short = [t for t in starts if t + 2 < len(stream.steps) and stream.steps[t + 1]["final"]]
    assert len(starts) > 20 and short, "the random history should hold one-step episodes"
    batch_rng = np.random.default_rng(2)
    checked = 0
    for _ in range(100):
        batch = replay.sample(32, batch_rng)
        for b in range(32):
            _, step = decode(batch.obs[b, -1])
            episode_start = max(t for t in starts if t <= step)
            depth = step - episode_start + 1
            if depth < STACK:
                checked += 1
                assert not batch.obs[b, : STACK - depth].any()
                assert (batch.obs[b, STACK - depth :, 2] == stream.steps[step]["episode"]).all()
    assert checked > 50


def test_priorities_give_brute_force_probabilities_and_importance_weights():
    rng = np.random.default_rng(3)
    streams = [Stream(i, rng) for i in range(2)]
    replay = make_replay(2 * 64, 2, prioritized=True)
    run(replay, streams, 100)
    index = np.array(sorted(eligible(replay, streams)))
    td = rng.gamma(1.0, 1.0, size=len(index))
    replay.update_priorities(index, td)
    expect = np.zeros(replay.capacity)
    expect[index] = (np.abs(td) + replay.priority_eps) ** 0.6
    expect /= expect.sum()
    np.testing.assert_allclose(replay.probabilities(), expect, rtol=1e-10)

    counts = np.zeros(replay.capacity)
    sample_rng = np.random.default_rng(4)
    draws, batch_size, beta = 4000, 32, 0.5
    for _ in range(draws):
        batch = replay.sample(batch_size, sample_rng, beta=beta)
        np.testing.assert_allclose(batch.probs, expect[batch.index], rtol=1e-10)
        weights = (len(index) * expect[batch.index]) ** -beta
        np.testing.assert_allclose(batch.weights, weights / weights.max(), rtol=1e-5)
        np.add.at(counts, batch.index, 1)
    total = draws * batch_size
    # Stratified draws are at least as tight as multinomial ones: a 5-sigma multinomial bound.
    sigma = np.sqrt(total * expect * (1 - expect))
    assert np.all(np.abs(counts - total * expect) <= 5 * sigma + 1)
    assert counts[expect == 0].sum() == 0


def test_stratified_sampling_takes_one_draw_per_slice_of_mass():
    rng = np.random.default_rng(6)
    stream = Stream(0, rng)
    replay = make_replay(200, 1, prioritized=True)
    run(replay, [stream], 150)
    index = np.array(sorted(eligible(replay, [stream])))
    replay.update_priorities(index, rng.random(len(index)) * 5)
    probs = replay.probabilities()
    upper = np.cumsum(probs)
    lower = upper - probs
    batch = replay.sample(8, np.random.default_rng(7))
    for b, leaf in enumerate(batch.index):
        assert lower[leaf] <= (b + 1) / 8 and upper[leaf] >= b / 8


def test_stale_priority_updates_leave_overwritten_slots_alone():
    rng = np.random.default_rng(8)
    stream = Stream(0, rng)
    replay = make_replay(30, 1, prioritized=True)
    run(replay, [stream], 50)
    batch = replay.sample(8, np.random.default_rng(9))
    index = batch.index.copy()
    run_more = Stream(0, rng)  # a fresh history overwrites the whole ring
    run(replay, [run_more], 40)
    before = replay.probabilities().copy()
    dead = before[index] == 0
    replay.update_priorities(index, np.full(len(index), 100.0))
    assert (replay.probabilities()[index][dead] == 0).all()


def test_export_then_extend_rebuilds_the_same_replay():
    rng_a, rng_b = np.random.default_rng(10), np.random.default_rng(10)
    direct = make_replay(4 * 50, 4)
    run(direct, [Stream(i, rng_a) for i in range(4)], 120)

    actor = make_replay(4 * 30, 4)  # a small window, exported every 10 steps
    learner = make_replay(4 * 50, 4)
    streams = [Stream(i, rng_b) for i in range(4)]
    exported = np.zeros(4, np.int64)
    run(actor, streams, 0)
    for _ in range(12):
        run_steps(actor, streams, 10)
        chunk = actor.export(np.arange(4), exported)
        learner.extend(np.arange(4), **chunk)
    # The learner lacks only the uncommitted head frame; give it the same one.
    last = [s.frame(len(s.steps) - 1) for s in streams]
    learner.begin(
        np.arange(4),
        np.stack(last),
        np.array([s.steps[-1]["first"] for s in streams]),
        np.array([s.steps[-1]["final"] for s in streams]),
    )
    for name in ("frames", "actions", "rewards", "flags", "heads", "counts", "tree"):
        np.testing.assert_array_equal(getattr(learner, name), getattr(direct, name), err_msg=name)


def test_a_broken_stream_never_yields_a_return_across_the_gap():
    rng = np.random.default_rng(11)
    stream = Stream(0, rng)
    replay = make_replay(400, 1)
    run(replay, [stream], 60)
    cut = len(stream.steps) - 2  # the last committed step
    replay.mark_broken(np.array([0]))
    # A new incarnation starts a fresh episode at the head slot.
    fresh = Stream(0, np.random.default_rng(12))
    fresh.steps = stream.steps[:-1]  # drop the lost head frame
    fresh.episode = stream.episode + 1
    fresh.pending_first, fresh.pending_final = True, False
    observe(replay, [fresh])
    run_steps(replay, [fresh], 40)
    probs = replay.probabilities()
    for t in range(cut - N_STEP + 1, cut + 1):
        crosses = all(
            not stream.steps[u]["terminal"] and not stream.steps[u + 1]["final"]
            for u in range(t, cut)
        )
        if crosses:
            assert probs[t] == 0, t
    assert probs[cut + 1 : cut + 10].sum() > 0  # the new episode is sampled as usual


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(13)
    replay = make_replay(2 * 60, 2, prioritized=True)
    streams = [Stream(i, rng) for i in range(2)]
    run(replay, streams, 90)
    index = np.array(sorted(eligible(replay, streams)))
    replay.update_priorities(index, rng.random(len(index)) * 3)
    replay.save(tmp_path / "replay")
    copy = make_replay(2 * 60, 2, prioritized=True)
    copy.load(tmp_path / "replay")
    a = replay.sample(16, np.random.default_rng(0), beta=0.4)
    b = copy.sample(16, np.random.default_rng(0), beta=0.4)
    for name in ("index", "obs", "next_obs", "returns", "discounts", "weights"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert copy.max_priority == replay.max_priority
    other = make_replay(2 * 60, 3)
    assert copy.matches_saved(tmp_path / "replay") and not other.matches_saved(tmp_path / "replay")
    with pytest.raises(PonderError, match="num_streams"):
        other.load(tmp_path / "replay")
