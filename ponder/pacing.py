"""The one samples-per-insert rate limiter every trainer paces its learner with.

A trainer inserts data (agent steps, self-play samples) and owes its learner `ratio` units of
work (updates, trained samples) per unit inserted. The debt is one float credit rather than a
ratio of totals, so that a fractional ratio holds exactly over a whole run, survives a
checkpoint as one number, and can be forgiven while learning has not started (Reverb's
SampleToInsertRatio is the same idea).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RateLimiter:
    """Learner work owed by the data inserted so far."""

    ratio: float  # units of learner work owed per unit inserted
    credit: float = 0.0  # owed and not yet done

    def insert(self, amount: float) -> None:
        self.credit += amount * self.ratio

    def due(self) -> bool:
        """Whether at least one whole unit is owed."""
        return self.credit >= 1.0

    def take(self) -> bool:
        """Take one unit if one is owed: a local learner runs one update per True, so that
        results can be applied between updates."""
        if self.credit < 1.0:
            return False
        self.credit -= 1.0
        return True

    def consume(self, amount: float) -> None:
        """Work done elsewhere (a remote learner reports what it trained)."""
        self.credit -= amount

    def forgive(self) -> None:
        """Nothing is owed: inserts made before learning may start earn no work."""
        self.credit = 0.0
