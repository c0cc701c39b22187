"""The live terminal board of `ponder watch`: the position, the mover's top moves, its value."""

from rich.console import Console

from ponder.arena.live_view import board_text, move_panel
from ponder.arena.match import GameSetup, play_games
from ponder.arena.specs import make_player
from ponder.envs.registry import get_game


def draw(renderable) -> str:
    console = Console(width=100, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_boards_are_drawn_from_cells_with_the_last_move_marked():
    game = get_game("connect_four")
    state = game.new_states(1)[0]
    for action in (3, 3, 4):
        game.play(state, action)
    rows = draw(board_text(game, state, last=4)).splitlines()
    assert rows[-2] == "· · · ● ● · · " and rows[-3] == "· · · ● · · · "
    assert rows[-1].strip() == "a b c d e f g"
    hex_rows = draw(board_text(get_game("hex_3"), get_game("hex_3").new_states(1)[0])).splitlines()
    assert hex_rows[:3] == ["· · · ", " · · · ", "  · · · "]  # the rhombus leans right
    chess_like = get_game("openspiel:tic_tac_toe")
    assert "..." in draw(board_text(chess_like, chess_like.new_states(1)[0]))


def test_a_move_panel_shows_who_played_the_search_and_the_value():
    game = get_game("tic_tac_toe")
    panels = []

    def on_move(event):
        after = event.state_before
        game.play(after, event.action)
        panels.append(draw(move_panel(game, event, after, ("uct:50", "random"), 3)))

    a, b = make_player("uct:50", game), make_player("random", game)
    play_games(game, a, b, [GameSetup(0, (), True)], seed=0, on_move=on_move)
    first = panels[0]
    assert "tic_tac_toe: uct:50 (first) vs random (second)" in first
    assert "1. uct:50 (first) plays" in first and "value" in first
    assert "move" in first and "visits" in first and "share" in first and "←" in first
    assert "2. random (second) plays" in panels[1] and "visits" not in panels[1]
