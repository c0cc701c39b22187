"""An HTML replay in a real browser: Debian's headless chromium, driven by selenium through
Debian's chromedriver (the Service path is given, so Selenium Manager downloads nothing).

`make test` installs both (`make browser`). Outside CI a machine without them skips this file;
in CI (CI set) a missing browser is a failure. A screenshot is kept in test-artifacts/.
"""

import os
from pathlib import Path

import pytest

from ponder.arena.match import play_match
from ponder.arena.records import game_record
from ponder.arena.replay_html import write_replay_html
from ponder.envs.registry import get_game

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1100,900",
]  # fmt: skip

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromedriver: run `make browser` first")
    pytest.skip("no chromium/chromedriver (make browser installs them)", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def record_of(name, a, b, games=1, seed=0):
    game = get_game(name)
    match = play_match(game, a, b, games, seed=seed, openings="none", record=True)
    return game, [game_record(match, g, game) for g in match.games]


def stones_on_board(driver):
    """{cell: owner} as the page drew it."""
    out = {}
    for node in driver.find_elements(By.CSS_SELECTOR, "#board .stone"):
        owner = 1 if "p1" in node.get_attribute("class").split() else 2
        out[int(node.get_attribute("data-cell"))] = owner
    return out


def expected_stones(game, moves):
    state = game.new_states(1)[0]
    for action in moves:
        game.play(state, action)
    cells = game.cells(state).reshape(-1)
    return {i: int(v) for i, v in enumerate(cells) if v}


def severe_console_messages(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_stepping_with_keys_shows_the_right_stones_heat_map_and_chart(browser, tmp_path):
    game, records = record_of("connect_four", "uct:200", "uct:50")
    moves = records[0]["moves"]
    page = tmp_path / "c4.html"
    write_replay_html(page, records)
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    assert stones_on_board(browser) == {}
    plies = [1, 2, 3, 4, 5, 6, 5, 4, 3]  # forward six, back three, one key press each
    for ply in plies:
        previous = int(body.get_attribute("data-ply"))
        body.send_keys(Keys.ARROW_RIGHT if ply > previous else Keys.ARROW_LEFT)
        assert int(body.get_attribute("data-ply")) == ply
        assert stones_on_board(browser) == expected_stones(game, moves[:ply])
        # The heat map of the mover's search, with the move it chose ringed.
        heat = browser.find_elements(By.CSS_SELECTOR, "#board .heat")
        assert heat and all(0 < float(h.get_attribute("data-share")) <= 1 for h in heat)
        chosen = browser.find_element(By.ID, "chosen")
        assert int(chosen.get_attribute("data-action")) == moves[ply]
        rows = browser.find_elements(By.CSS_SELECTOR, "#top-table tbody tr")
        assert any(r.get_attribute("class") == "chosen" for r in rows)
        cursor = browser.find_element(By.ID, "chart-cursor")
        assert int(cursor.get_attribute("data-ply")) == ply
    # Both players' value estimates are drawn, as lines with a point per searched move.
    series = browser.find_elements(By.CSS_SELECTOR, "#chart polyline.series")
    assert len(series) == 2 and all(len(s.get_attribute("points").split()) > 1 for s in series)
    body.send_keys(Keys.END)
    assert int(body.get_attribute("data-ply")) == len(moves)
    assert stones_on_board(browser) == expected_stones(game, moves)
    body.send_keys("b")  # the biggest value swing, also marked in the move list
    blunder = browser.find_elements(By.CSS_SELECTOR, "#moves span.blunder")
    if blunder:
        assert int(body.get_attribute("data-ply")) == int(blunder[0].get_attribute("data-ply")) - 1
    body.send_keys(Keys.HOME)
    browser.find_element(By.ID, "next").click()
    assert int(body.get_attribute("data-ply")) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    body.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    browser.save_screenshot(str(ARTIFACTS / "replay_connect_four.png"))
    assert severe_console_messages(browser) == []
    # The address opens a position, so a link or a screenshot command can point at one.
    browser.get(page.as_uri() + "#ply=3")
    body = browser.find_element(By.TAG_NAME, "body")
    assert body.get_attribute("data-ply") == "3"
    assert stones_on_board(browser) == expected_stones(game, moves[:3])
    body.send_keys(Keys.ARROW_RIGHT)
    assert browser.current_url.endswith("#game=0&ply=4")


@pytest.mark.parametrize(
    "name, first, second",
    [("hex_5", "uct:30", "random"), ("othello_6x6", "uct:20", "random"),
     ("tic_tac_toe", "uct:50", "uct:10"), ("gomoku", "random", "random")],
)  # fmt: skip
def test_every_board_is_drawn_and_a_game_list_switches_games(
    browser, tmp_path, name, first, second
):
    game, records = record_of(name, first, second, games=2, seed=1)
    page = tmp_path / f"{name}.html"
    write_replay_html(page, records)
    browser.get(page.as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    cells = browser.find_elements(By.CSS_SELECTOR, "#board .cell")
    assert len(cells) == game.board_shape[0] * game.board_shape[1]
    for _ in range(4):
        body.send_keys(Keys.ARROW_RIGHT)
    assert stones_on_board(browser) == expected_stones(game, records[0]["moves"][:4])
    body.send_keys("n")  # the next game of the list
    assert body.get_attribute("data-game") == "1" and body.get_attribute("data-ply") == "0"
    body.send_keys(Keys.END)
    assert stones_on_board(browser) == expected_stones(game, records[1]["moves"])
    if name == "hex_5":
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "replay_hex_5.png"))
    assert severe_console_messages(browser) == []


def test_a_folder_of_pages_has_an_index_that_links_them(browser, tmp_path):
    from ponder.arena.replay_html import write_replay_dir

    _, records = record_of("tic_tac_toe", "uct:20", "random", games=3)
    write_replay_dir(tmp_path / "pages", records)
    browser.get((tmp_path / "pages" / "index.html").as_uri())
    links = browser.find_elements(By.CSS_SELECTOR, "#games a")
    assert [a.get_attribute("href").rsplit("/", 1)[1] for a in links] == [
        "game-0000.html", "game-0001.html", "game-0002.html"
    ]  # fmt: skip
    links[2].click()
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-ply") == "0"
    assert "game 2" in browser.find_element(By.ID, "title").text
    assert severe_console_messages(browser) == []
