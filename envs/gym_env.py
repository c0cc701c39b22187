"""Gymnasium environments for the native board games: the agent holds one seat, an opponent
policy plays the other inside `step`, so single-agent RL libraries can train on any game.

Importing this module registers one id per native game, e.g. `ponder/ConnectFour-v0`,
`ponder/Hex7-v0`, `ponder/Othello6x6-v0` (games added to the registry later are picked up):

    import gymnasium as gym
    import ponder.envs.gym_env  # noqa: F401  (registers the ids)
    env = gym.make("ponder/ConnectFour-v0", agent_player=1, illegal_action="loss")

Observations are the game's planes from the agent's view (`encode`); `info["action_mask"]` is
an int8 vector of the legal actions. The reward is the final result for the agent (+1, 0, -1),
given once when the game ends; games end within `max_moves`, so nothing is truncated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ponder.envs.board.base import NATIVE, BoardGame
from ponder.envs.registry import get_game, native_game_names
from ponder.errors import PonderError

Opponent = Callable[[np.ndarray], int]  # state row (a copy) -> a legal action
ILLEGAL_ACTION_MODES = ("error", "loss")


def env_id(game_name: str) -> str:
    """Gymnasium id of a native game: "connect_four" -> "ponder/ConnectFour-v0"."""
    camel = "".join(part[:1].upper() + part[1:] for part in game_name.split("_"))
    return f"ponder/{camel}-v0"


class BoardGameEnv(gymnasium.Env):
    """One seat of a native two-player game against a fixed opponent policy.

    `opponent` gets a copy of the state row when it is to move and returns an action; the
    default plays uniformly at random with the env's seeded generator. `illegal_action="error"`
    raises ValueError on an illegal agent action (a bug to hear about); `"loss"` ends the game
    as lost (reward -1, `info["illegal_action"] = True`) for agents that learn the rules.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 2}  # fps: for "human" viewers

    def __init__(
        self,
        game: str | BoardGame,
        agent_player: int = 0,
        opponent: Opponent | None = None,
        illegal_action: str = "error",
        render_mode: str | None = None,
    ):
        self.game = get_game(game) if isinstance(game, str) else game
        if getattr(self.game, "kind", None) != NATIVE:
            raise PonderError(f"{self.game.name}: the Gymnasium env needs a numba-native game")
        if agent_player not in (0, 1):
            raise PonderError(f"agent_player must be 0 or 1, got {agent_player!r}")
        if illegal_action not in ILLEGAL_ACTION_MODES:
            raise PonderError(
                f"illegal_action must be one of {ILLEGAL_ACTION_MODES}, got {illegal_action!r}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise PonderError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.agent_player = agent_player
        self.opponent = opponent
        self.illegal_action = illegal_action
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0.0, 1.0, self.game.obs_shape, dtype=np.float32)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self._state = np.zeros(self.game.state_len, dtype=self.game.state_dtype)
        self._mask = np.zeros(self.game.num_actions, dtype=np.bool_)
        self._planes = np.zeros(self.game.obs_shape, dtype=np.float32)
        self._over = True  # until reset

    # --- helpers ---
    def _observation(self) -> np.ndarray:
        self.game.encode(self._state, self._planes)
        return self._planes.copy()

    def _info(self, **extra: Any) -> dict[str, Any]:
        self.game.legal_mask(self._state, self._mask)
        return {"action_mask": self._mask.astype(np.int8), **extra}

    def _agent_reward(self, outcome_for_player0: float) -> float:
        return float(outcome_for_player0 if self.agent_player == 0 else -outcome_for_player0)

    def _opponent_action(self) -> int:
        self.game.legal_mask(self._state, self._mask)
        legal = np.flatnonzero(self._mask)
        if self.opponent is None:
            return int(self.np_random.choice(legal))
        action = int(self.opponent(self._state.copy()))
        if not (0 <= action < self.game.num_actions and self._mask[action]):
            raise ValueError(f"the opponent chose an illegal action {action} in {self.game.name}")
        return action

    def _play_opponent(self) -> tuple[bool, float]:
        """Let the opponent move until the agent is to move or the game is over."""
        done, result = bool(self.game.is_terminal(self._state)), self.game.outcome(self._state)
        while not done and self.game.to_play(self._state) != self.agent_player:
            done, result = self.game.play(self._state, self._opponent_action())
            done = bool(done)
        return done, float(result)

    # --- gymnasium API ---
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.game.init(self._state)
        self._over, _ = self._play_opponent()  # the opponent opens when the agent is second
        return self._observation(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._over:
            raise RuntimeError("step() called before reset() or after the game ended")
        action = int(action)
        self.game.legal_mask(self._state, self._mask)
        if not (0 <= action < self.game.num_actions and self._mask[action]):
            if self.illegal_action == "error":
                raise ValueError(f"illegal action {action} in {self.game.name}")
            self._over = True
            return self._observation(), -1.0, True, False, self._info(illegal_action=True)
        done, result = self.game.play(self._state, action)
        if not done:
            done, result = self._play_opponent()
        self._over = bool(done)
        reward = self._agent_reward(result) if done else 0.0
        if self.render_mode == "human":
            self.render()
        return self._observation(), reward, bool(done), False, self._info()

    def render(self) -> str | None:
        text = self.game.render(self._state)
        if self.render_mode == "human":
            print(text + "\n")
            return None
        return text


def _register_all() -> None:
    for name in native_game_names():
        if env_id(name) not in gymnasium.registry:
            gymnasium.register(
                id=env_id(name), entry_point=f"{__name__}:BoardGameEnv", kwargs={"game": name}
            )


_register_all()
