"""`ponder play` (you against any player at the terminal) and `ponder watch` (two players play one
game while you read each move and the mover's top moves; or a DQN run plays Atari episodes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ponder.errors import PonderError

SEATS = {"first": True, "1": True, "x": True, "second": False, "2": False, "o": False}


def _result_text(outcome: float, first: str, second: str) -> str:
    if outcome > 0:
        return f"{first} (first) wins"
    if outcome < 0:
        return f"{second} (second) wins"
    return "draw"


def _single_game(
    game: Any, first: Any, second: Any, seed: int, on_move: Any, record: bool = False
) -> Any:
    from ponder.arena.match import GameSetup, play_games

    setups = [GameSetup(0, (), True)]
    return play_games(game, first, second, setups, seed, record=record, on_move=on_move)[0]


def _output_path(path: Path, run_dir: Path | None, out: Path | None) -> Path:
    """Where a DQN watch writes `path`: as given when absolute, else under `--out`, else under
    the run's own videos/ folder."""
    if path.is_absolute():
        return path
    if out is not None:
        return out / path
    return (run_dir / "videos" / path) if run_dir is not None else path


def _watch_dqn(
    target: str,
    episodes: int,
    epsilon: float | None,
    seed: int,
    max_frames: int | None,
    gif: Path | None,
    video: Path | None,
    overlay: bool,
    out: Path | None,
) -> None:
    from ponder.agents.dqn.training import setting_label
    from ponder.agents.dqn.watch import load_run
    from ponder.agents.dqn.watch import watch as play_episodes  # `watch` here is the command

    if overlay and video is None:
        raise PonderError("--overlay draws on the video: give --video NAME.mp4 too")
    if video is not None and video.suffix.lower() != ".mp4":
        raise PonderError(f"--video {video}: the video is written as MP4 (name it .mp4)")
    run = load_run(target)
    cfg = run.cfg
    run_dir = run.checkpoint.parent.parent
    gif = _output_path(gif, run_dir, out) if gif is not None else None
    video = _output_path(video, run_dir, out) if video is not None else None
    typer.echo(
        f"{cfg.env.game} ({setting_label(cfg)}), checkpoint {run.checkpoint.name} "
        f"at step {run.step}"
    )
    result, frames, video_frames = play_episodes(
        run, episodes, epsilon, seed, max_frames, gif, video, overlay
    )
    for i, (ret, length) in enumerate(zip(result.returns, result.lengths, strict=True), 1):
        typer.echo(f"episode {i}: return {ret:g} in {length} agent steps")
    typer.echo(
        f"mean {result.mean:g} over {result.episodes} episodes (epsilon {result.epsilon:g}, "
        f"cap {result.max_frames} frames)"
    )
    if gif is not None:
        typer.echo(f"wrote {gif} ({frames} frames)")
    if video is not None:
        typer.echo(f"wrote {video} ({video_frames} frames)")


def _watch_board(
    game: Any,
    first: Any,
    second: Any,
    seed: int,
    delay: float,
    top: int,
    step: bool,
    plain: bool,
) -> Any:
    """One game, drawn live (rich, redrawn in place) on a terminal, as lines of text otherwise
    or with `plain`. `step` waits for Enter after each move (q + Enter stops waiting)."""
    import sys

    from rich.console import Console

    from ponder.arena.live_view import move_panel
    from ponder.arena.play_session import top_line

    console = Console()
    live = console.is_terminal and not plain
    names = (first.spec, second.spec)
    stepping = step

    def on_move(event: Any) -> None:
        nonlocal stepping
        after = event.state_before  # a copy of the position: play the move on it to show
        game.play(after, event.action)
        if live:
            console.clear()
            console.print(move_panel(game, event, after, names, top))
        else:
            side = "first" if event.mover == 0 else "second"
            line = f"{event.ply + 1:>3}. {event.player} ({side}) plays {event.text}"
            if event.value is not None:
                line += f"   value {event.value:+.2f}"
            typer.echo(line)
            if top and event.top:
                typer.echo(f"     top: {top_line(event.top, top)}")
            typer.echo(game.render(after))
        if stepping:
            typer.echo("Enter: next move, q Enter: play on without stopping", err=True)
            if sys.stdin.readline().strip().lower() in ("q", "quit"):
                stepping = False
        elif delay:
            time.sleep(delay)

    if not live:
        typer.echo(f"{game.name}: {first.spec} (first) vs {second.spec} (second)")
    return _single_game(game, first, second, seed, on_move, record=True)


def play(
    opponent: Annotated[str, typer.Argument(help="The player you face, e.g. uct:1000.")],
    game_name: Annotated[str, typer.Option("--game", "-g", help="Game name.")],
    colour: Annotated[
        str, typer.Option("--colour", "--color", help="first or second (x / o).")
    ] = "first",
    seed: Annotated[int, typer.Option(help="Seed of the opponent's randomness.")] = 0,
) -> None:
    """Play a game against any player, in the game's notation; `hint` shows the player's
    top moves and value for your position, `undo` takes back your last move, `sims N`
    changes its search budget, `quit` (or end of input) stops."""
    from ponder.arena.match import check_seed
    from ponder.arena.play_session import PlaySession
    from ponder.envs.registry import get_game

    check_seed(seed)
    if colour.lower() not in SEATS:
        raise PonderError(f"--colour {colour!r}: use first or second")
    game = get_game(game_name)
    you_first = SEATS[colour.lower()]

    session = PlaySession(game, opponent, you_first, seed, read=input, write=typer.echo)
    typer.echo(
        f"{game.name}: you move {'first' if you_first else 'second'} against "
        f"{session.bot.spec}; type a move, hint, undo, sims N or quit"
    )
    result = session.run()
    if result.outcome is None:
        typer.echo("game abandoned")
        return
    typer.echo(game.render(session.state))
    first, second = ("you", result.bot_spec) if you_first else (result.bot_spec, "you")
    typer.echo(_result_text(result.outcome, first, second))


# `watch` option types, named once so its signature reads as a list of parameters.
_PlayerAArg = Annotated[
    str, typer.Argument(help="The first mover (e.g. uct:1000), or a DQN run directory.")
]
_PlayerBArg = Annotated[
    str | None, typer.Argument(help="The second mover, e.g. random (board games).")
]
_GameOpt = Annotated[str | None, typer.Option("--game", "-g", help="Game name (board games).")]
_DelayOpt = Annotated[
    float, typer.Option(help="Seconds to pause after each move.", min=0, max=3600)
]
_StepOpt = Annotated[bool, typer.Option("--step", help="Wait for Enter after each move.")]
_PlainOpt = Annotated[bool, typer.Option("--plain", help="Print moves as lines, not a live board.")]
_HtmlOpt = Annotated[
    Path | None,
    typer.Option(help="Also write the game, with every search, as an HTML replay."),
]
_EpsilonOpt = Annotated[
    float | None,
    typer.Option(help="DQN: exploration (default: the run's eval.epsilon).", min=0, max=1),
]
_MaxFramesOpt = Annotated[
    int | None,
    typer.Option(help="DQN: emulator frames per episode (default: the run's cap).", min=1),
]
_VideoOpt = Annotated[
    Path | None,
    typer.Option(help="DQN: an MP4 of the episodes in colour (relative: in RUN/videos/)."),
]
_OverlayOpt = Annotated[
    bool, typer.Option("--overlay", help="DQN: draw the Q-values beside the video.")
]
_GifOpt = Annotated[
    Path | None,
    typer.Option(help="DQN: the first episode's agent frames as an animated GIF."),
]
_OutOpt = Annotated[
    Path | None,
    typer.Option(help="DQN: folder for relative --video/--gif names (default RUN/videos)."),
]


def _board_players(player_a: str, player_b: str, game: Any) -> tuple[Any, Any]:
    """Both players, built and checked for `game`, under two names the display can tell
    apart."""
    from ponder.arena.specs import check_player_for_game, make_player

    first = make_player(player_a, game)
    second = make_player(player_b, game)
    if first.spec == second.spec:
        second.spec = f"{second.spec} (2)"
    for p in (first, second):
        check_player_for_game(p, game)
    return first, second


def _write_watch_html(
    path: Path, game: Any, first: Any, second: Any, seed: int, result: Any
) -> None:
    """The watched game as a one-game match, so it replays like any game `pit` recorded."""
    from ponder.arena.match import MatchResult
    from ponder.arena.records import game_record
    from ponder.arena.replay_html import write_replay_html

    match = MatchResult(game.name, first.spec, second.spec, seed, "none", [result], 1)
    write_replay_html(path, [game_record(match, result, game)])
    typer.echo(f"wrote {path}")


def watch(
    player_a: _PlayerAArg,
    player_b: _PlayerBArg = None,
    game_name: _GameOpt = None,
    delay: _DelayOpt = 0.5,
    top: Annotated[int, typer.Option(help="Top moves shown per move.", min=0)] = 3,
    step: _StepOpt = False,
    plain: _PlainOpt = False,
    html: _HtmlOpt = None,
    seed: Annotated[int, typer.Option(help="Seed of the players' randomness.")] = 0,
    episodes: Annotated[int, typer.Option(help="DQN: episodes to play.", min=1)] = 1,
    epsilon: _EpsilonOpt = None,
    max_frames: _MaxFramesOpt = None,
    video: _VideoOpt = None,
    overlay: _OverlayOpt = False,
    gif: _GifOpt = None,
    out: _OutOpt = None,
) -> None:
    """Watch two players play one game: a live board with each mover's top moves (visits,
    Q, prior) and value, optionally saved as an HTML replay; or, given a DQN run directory
    or checkpoint, watch it play Atari episodes, optionally saved as MP4 or GIF."""
    from ponder.agents.dqn.watch import is_dqn_target

    if is_dqn_target(player_a):
        if player_b is not None or game_name is not None:
            raise PonderError("a DQN run plays its own game: drop the second player and -g")
        if html is not None:
            raise PonderError("--html replays board games; for Atari use --video")
        _watch_dqn(player_a, episodes, epsilon, seed, max_frames, gif, video, overlay, out)
        return
    if player_b is None or game_name is None:
        raise PonderError(
            "watch needs two players and a game (ponder watch uct:1000 random -g "
            "connect_four), or a DQN run directory (ponder watch runs/dqn-breakout-...)"
        )
    if video is not None or gif is not None or overlay or out is not None:
        raise PonderError("--video, --gif, --overlay and --out are for DQN runs; use --html")
    from ponder.envs.registry import get_game

    game = get_game(game_name)
    first, second = _board_players(player_a, player_b, game)
    result = _watch_board(game, first, second, seed, delay, top, step, plain)
    typer.echo(
        f"{_result_text(result.outcome, first.spec, second.spec)} in {len(result.moves)} moves"
    )
    if html is not None:
        _write_watch_html(html, game, first, second, seed, result)


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    app.command()(play)
    app.command()(watch)
