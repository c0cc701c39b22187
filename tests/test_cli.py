"""The front door: --version, games, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

from ponder import __version__


def ponder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from ponder.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_version_and_help():
    out = ponder("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ponder {__version__}"
    assert ponder("--help").returncode == 0


def test_games_lists_native_games():
    out = ponder("games")
    assert out.returncode == 0, out.stderr
    assert "tic_tac_toe" in out.stdout and "numba-native" in out.stdout


def test_unknown_game_is_one_line_error():
    from ponder.envs.registry import get_game
    from ponder.errors import PonderError

    try:
        get_game("chekers")
    except PonderError as exc:
        assert "unknown game 'chekers'" in str(exc) and "\n" not in str(exc)
    else:  # pragma: no cover - the assertion above is the test
        raise AssertionError("an unknown game must raise PonderError")
