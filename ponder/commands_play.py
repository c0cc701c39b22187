"""`ponder play` (you against any player at the terminal) and `ponder watch` (two players play one
game while you read each move and the mover's top moves; or a DQN run plays Atari episodes)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ponder.errors import PonderError

SEATS = {"first": True, "1": True, "x": True, "second": False, "2": False, "o": False}


def _top_line(event: Any, count: int) -> str:
    """`d 310v Q+0.25 P0.14 | c 40v ...` for the mover's most visited moves."""
    parts = []
    for entry in event.top[:count]:
        bits = [entry["move"]]
        if "visits" in entry:
            bits.append(f"{entry['visits']}v")
        if "q" in entry:
            bits.append(f"Q{entry['q']:+.2f}")
        if "prior" in entry:
            bits.append(f"P{entry['prior']:.2f}")
        parts.append(" ".join(bits))
    return " | ".join(parts)


def _result_text(outcome: float, first: str, second: str) -> str:
    if outcome > 0:
        return f"{first} (first) wins"
    if outcome < 0:
        return f"{second} (second) wins"
    return "draw"


def _single_game(game: Any, first: Any, second: Any, seed: int, on_move: Any) -> Any:
    from ponder.arena.match import GameSetup, play_games

    return play_games(game, first, second, [GameSetup(0, (), True)], seed, on_move=on_move)[0]


def _watch_dqn(
    target: str,
    episodes: int,
    epsilon: float | None,
    seed: int,
    max_frames: int | None,
    gif: Path | None,
) -> None:
    from ponder.agents.dqn.watch import load_run, watch

    run = load_run(target)
    cfg = run.cfg
    typer.echo(
        f"{cfg.env.game} ({cfg.env.protocol} protocol), checkpoint {run.checkpoint.name} "
        f"at step {run.step}"
    )
    result, frames = watch(run, episodes, epsilon, seed, max_frames, gif)
    for i, (ret, length) in enumerate(zip(result.returns, result.lengths, strict=True), 1):
        typer.echo(f"episode {i}: return {ret:g} in {length} agent steps")
    typer.echo(
        f"mean {result.mean:g} over {result.episodes} episodes (epsilon {result.epsilon:g}, "
        f"cap {result.max_frames} frames)"
    )
    if gif is not None:
        typer.echo(f"wrote {gif} ({frames} frames)")


def register(app: typer.Typer, train_app: typer.Typer) -> None:
    @app.command()
    def play(
        opponent: Annotated[str, typer.Argument(help="The player you face, e.g. uct:1000.")],
        game_name: Annotated[str, typer.Option("--game", "-g", help="Game name.")],
        colour: Annotated[
            str, typer.Option("--colour", "--color", help="first or second (x / o).")
        ] = "first",
        seed: Annotated[int, typer.Option(help="Seed of the opponent's randomness.")] = 0,
    ) -> None:
        """Play a game against any player; moves in the game's notation, `quit` to stop."""
        from ponder.agents.players import HumanPlayer, HumanQuit
        from ponder.arena.openings import replay
        from ponder.arena.specs import check_player_for_game, make_player
        from ponder.envs.registry import get_game

        if colour.lower() not in SEATS:
            raise PonderError(f"--colour {colour!r}: use first or second")
        game = get_game(game_name)
        bot = make_player(opponent, game)
        check_player_for_game(bot, game)
        human = HumanPlayer(spec="you")
        you_first = SEATS[colour.lower()]
        first, second = (human, bot) if you_first else (bot, human)

        def on_move(event: Any) -> None:
            if event.player != "you":
                side = "first" if event.mover == 0 else "second"
                typer.echo(f"{bot.spec} ({side}) plays {event.text}")

        typer.echo(f"{game.name}: you move {'first' if you_first else 'second'}")
        try:
            result = _single_game(game, first, second, seed, on_move)
        except HumanQuit:
            typer.echo("game abandoned")
            return
        typer.echo(game.render(replay(game, result.moves)))
        typer.echo(_result_text(result.outcome, first.spec, second.spec))

    @app.command()
    def watch(
        player_a: Annotated[
            str, typer.Argument(help="The first mover (e.g. uct:1000), or a DQN run directory.")
        ],
        player_b: Annotated[
            str | None, typer.Argument(help="The second mover, e.g. random (board games).")
        ] = None,
        game_name: Annotated[
            str | None, typer.Option("--game", "-g", help="Game name (board games).")
        ] = None,
        delay: Annotated[
            float, typer.Option(help="Seconds to pause after each move.", min=0, max=3600)
        ] = 0.5,
        top: Annotated[int, typer.Option(help="Top moves shown per move.", min=0)] = 3,
        seed: Annotated[int, typer.Option(help="Seed of the players' randomness.")] = 0,
        episodes: Annotated[int, typer.Option(help="DQN: episodes to play.", min=1)] = 1,
        epsilon: Annotated[
            float | None,
            typer.Option(help="DQN: exploration (default: the run's eval.epsilon).", min=0, max=1),
        ] = None,
        max_frames: Annotated[
            int | None,
            typer.Option(help="DQN: emulator frames per episode (default: the run's cap).", min=1),
        ] = None,
        gif: Annotated[
            Path | None, typer.Option(help="DQN: save the first episode as an animated GIF.")
        ] = None,
    ) -> None:
        """Watch two players play one game, with each mover's top moves (visits, Q, prior); or,
        given a DQN run directory or checkpoint, watch it play Atari episodes."""
        from ponder.agents.dqn.watch import is_dqn_target

        if is_dqn_target(player_a):
            if player_b is not None or game_name is not None:
                raise PonderError("a DQN run plays its own game: drop the second player and -g")
            _watch_dqn(player_a, episodes, epsilon, seed, max_frames, gif)
            return
        if player_b is None or game_name is None:
            raise PonderError(
                "watch needs two players and a game (ponder watch uct:1000 random -g "
                "connect_four), or a DQN run directory (ponder watch runs/dqn-breakout-...)"
            )
        from ponder.arena.specs import check_player_for_game, make_player
        from ponder.envs.registry import get_game

        game = get_game(game_name)
        first = make_player(player_a, game)
        second = make_player(player_b, game)
        if first.spec == second.spec:
            second.spec = f"{second.spec} (2)"  # two names, so the display can tell them apart
        for p in (first, second):
            check_player_for_game(p, game)

        def on_move(event: Any) -> None:
            side = "first" if event.mover == 0 else "second"
            line = f"{event.ply + 1:>3}. {event.player} ({side}) plays {event.text}"
            if event.value is not None:
                line += f"   value {event.value:+.2f}"
            typer.echo(line)
            if top and event.top:
                typer.echo(f"     top: {_top_line(event, top)}")
            after = event.state_before  # a copy of the position: play the move on it to show
            game.play(after, event.action)
            typer.echo(game.render(after))
            if delay:
                time.sleep(delay)

        typer.echo(f"{game.name}: {first.spec} (first) vs {second.spec} (second)")
        result = _single_game(game, first, second, seed, on_move)
        typer.echo(
            f"{_result_text(result.outcome, first.spec, second.spec)} in {len(result.moves)} moves"
        )
