"""The one user-facing error type: the CLI prints its message on one line and exits 2."""

from __future__ import annotations

import re

# How a PonderError raised in a Ray actor's constructor survives: only as text, inside the
# message of the ActorDiedError that every later call on the actor raises.
_IN_ACTOR_MESSAGE = re.compile(r"^(?:ponder\.errors\.)?PonderError: (?P<message>.+)$", re.M)
MAX_MESSAGE_CHARS = 600


class PonderError(Exception):
    """Bad input from the user (a config, a path, a player spec, a checkpoint).

    Raise it with a message that names the culprit and says what was expected; the CLI shows the
    message alone, without a traceback. Bugs should stay ordinary exceptions so they are loud.
    """

    exit_code = 2


def one_line(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`text` on one line (newlines and runs of spaces collapsed), long middles elided: an
    over-long path quoted in a message must not push what to fix off the screen."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    keep = (limit - 5) // 2
    return f"{flat[:keep]} ... {flat[-keep:]}"


def short(value: object, limit: int = 80) -> str:
    """`repr(value)` cut to `limit` characters, for quoting user input in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def user_error_in(exc: BaseException) -> PonderError | None:
    """The PonderError behind `exc`, if there is one: itself, the cause Ray attaches to a task
    error, the text of an actor that failed in its constructor, or one in its chain."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        cause = getattr(err, "cause", None)
        if isinstance(err, PonderError):
            # Ray re-raises a task's error as a class deriving from both RayTaskError and the
            # original type; its text is then Ray's traceback, the cause's is the message.
            return cause if isinstance(cause, PonderError) else err
        if type(err).__name__.endswith(("ActorDiedError", "RayActorError")):
            match = _IN_ACTOR_MESSAGE.search(str(err))
            if match:
                return PonderError(match["message"].strip())
        todo.extend(
            [cause if isinstance(cause, BaseException) else None, err.__cause__, err.__context__]
        )
    return None
