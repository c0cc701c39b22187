"""The one rate limiter: a fractional ratio holds exactly, and a resumed credit continues it."""

from ponder.pacing import RateLimiter


def drain(limiter: RateLimiter) -> int:
    taken = 0
    while limiter.take():
        taken += 1
    return taken


def test_fractional_ratio_holds_exactly_over_a_run():
    limiter = RateLimiter(0.25)
    taken = 0
    for _ in range(1000):
        limiter.insert(3)  # three envs step at once
        taken += drain(limiter)
    assert taken == 750 and limiter.credit == 0.0


def test_resumed_credit_continues_the_same_count():
    whole = RateLimiter(0.75)
    first = RateLimiter(0.75)
    counts = [0, 0]
    for i in range(10):
        whole.insert(1)
        counts[0] += drain(whole)
        if i < 5:
            first.insert(1)
            counts[1] += drain(first)
    second = RateLimiter(0.75, first.credit)  # what a checkpoint carries
    for _ in range(5):
        second.insert(1)
        counts[1] += drain(second)
    assert counts[0] == counts[1] == 7 and second.credit == whole.credit


def test_remote_consumption_forgiveness_and_due():
    limiter = RateLimiter(4.0)  # AlphaZero: samples trained per sample made
    limiter.insert(100)
    assert limiter.due() and limiter.credit == 400
    limiter.consume(256)  # the learner reports one batch trained
    assert limiter.credit == 144
    limiter.forgive()
    assert not limiter.due() and not limiter.take()
