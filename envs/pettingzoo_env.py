"""PettingZoo AEC environments for ponder's games (the numba-native board games and any
two-player OpenSpiel game through the adapter), shaped like PettingZoo's classic games:
agents "player_0" (moves first) and "player_1", observations `{"observation": planes,
"action_mask": int8}`, and the result (+1, 0, -1) as rewards when the game ends.

    from ponder.envs.pettingzoo_env import env
    aec = env("connect_four")
    aec.reset(seed=0)
    for agent in aec.agent_iter():
        observation, reward, termination, truncation, info = aec.last()
        ...

Observation planes: the game contract encodes a position from the view of the player to move,
so that is what every agent observes. An agent acts only on its own turn, when that view is its
own; the one exception is the final observation of the agent that made the last move, which
shows the finished board from its opponent's side. The waiting agent's action mask is all zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from ponder.envs.board.base import NATIVE, BoardGame
from ponder.envs.registry import get_game
from ponder.errors import PonderError

AGENTS = ("player_0", "player_1")


class BoardGameAEC(AECEnv):
    """The raw AEC env; `env()` adds PettingZoo's usual wrappers (illegal move = loss)."""

    metadata = {
        "render_modes": ["ansi", "human"],
        "name": "ponder_board_game_v0",
        "is_parallelizable": False,
        "render_fps": 2,
    }

    def __init__(self, game: str | BoardGame, render_mode: str | None = None):
        super().__init__()
        self.game = get_game(game) if isinstance(game, str) else game
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise PonderError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.metadata = {**self.metadata, "name": f"ponder_{self.game.name}_v0"}
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        # Native planes are 0/1; OpenSpiel's observation tensors are not bounded in general.
        low, high = (0.0, 1.0) if getattr(self.game, "kind", None) == NATIVE else (-np.inf, np.inf)
        observation_space = spaces.Dict(
            {
                "observation": spaces.Box(low, high, self.game.obs_shape, dtype=np.float32),
                "action_mask": spaces.Box(0, 1, (self.game.num_actions,), dtype=np.int8),
            }
        )
        self.observation_spaces = dict.fromkeys(AGENTS, observation_space)
        self.action_spaces = dict.fromkeys(AGENTS, spaces.Discrete(self.game.num_actions))
        self._state = self.game.new_states(1)[0]  # a state row, or a pyspiel.State
        self._mask = np.zeros(self.game.num_actions, dtype=np.bool_)

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        planes = np.zeros(self.game.obs_shape, dtype=np.float32)
        self.game.encode(self._state, planes)
        mask = np.zeros(self.game.num_actions, dtype=np.int8)
        if agent == self.agent_selection and not self.game.is_terminal(self._state):
            self.game.legal_mask(self._state, self._mask)
            mask[self._mask] = 1
        return {"observation": planes, "action_mask": mask}

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        # The games are deterministic; `seed` is accepted for the API and has nothing to seed.
        self._state = self.game.new_states(1)[0]
        self.agents = list(AGENTS)
        self.rewards = dict.fromkeys(AGENTS, 0.0)
        self._cumulative_rewards = dict.fromkeys(AGENTS, 0.0)
        self.terminations = dict.fromkeys(AGENTS, False)
        self.truncations = dict.fromkeys(AGENTS, False)
        self.infos = {agent: {} for agent in AGENTS}
        self.agent_selection = AGENTS[self.game.to_play(self._state)]

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        action = int(action)
        self.game.legal_mask(self._state, self._mask)
        if not (0 <= action < self.game.num_actions and self._mask[action]):
            raise ValueError(f"illegal action {action} by {agent} in {self.game.name}")
        self._cumulative_rewards[agent] = 0.0
        done, result = self.game.play(self._state, action)
        self.rewards = dict.fromkeys(AGENTS, 0.0)
        if done:
            self.rewards = {AGENTS[0]: float(result), AGENTS[1]: -float(result)}
            self.terminations = dict.fromkeys(AGENTS, True)
        # When the game ends the other agent goes next, and both collect the result with
        # PettingZoo's dead step (a finished OpenSpiel game has no player to move).
        if done:
            self.agent_selection = AGENTS[1 - AGENTS.index(agent)]
        else:
            self.agent_selection = AGENTS[self.game.to_play(self._state)]
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def render(self) -> str | None:
        text = self.game.render(self._state)
        if self.render_mode == "human":
            print(text + "\n")
            return None
        return text

    def close(self) -> None:
        pass


def raw_env(game: str | BoardGame, render_mode: str | None = None) -> BoardGameAEC:
    return BoardGameAEC(game, render_mode=render_mode)


def env(game: str | BoardGame, render_mode: str | None = None) -> AECEnv:
    """The AEC env wrapped as PettingZoo's classic games are: an illegal move ends the game with
    -1 for the offender, out-of-range actions assert, and call order is enforced."""
    aec = raw_env(game, render_mode=render_mode)
    aec = wrappers.TerminateIllegalWrapper(aec, illegal_reward=-1)
    aec = wrappers.AssertOutOfBoundsWrapper(aec)
    return wrappers.OrderEnforcingWrapper(aec)
