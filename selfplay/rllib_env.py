"""ponder's games as RLlib multi-agent environments (RLlib's new API stack): the numba-native
board games and, through the adapter, any two-player OpenSpiel game.

    from ray.tune.registry import register_env
    from ponder.selfplay.rllib_env import ENV_NAME, BoardGameMultiAgentEnv
    register_env(ENV_NAME, lambda cfg: BoardGameMultiAgentEnv(cfg))
    config.environment(ENV_NAME, env_config={"game": "connect_four"})

Turn-based: each step returns an observation only for the agent to move ("player_0" moves
first), and both agents get the result (+1 / 0 / -1) when the game ends; an illegal move ends
the game with -1 for the offender (PettingZoo's classic convention). Observations follow RLlib's
action-masking convention, `{"observations": planes, "action_mask": 0/1 floats}`, the planes
from the mover's view as everywhere in ponder, so RLlib's `ActionMaskingTorchRLModule` (and any
module reading those two keys) applies unchanged.

Built on the PettingZoo env (`ponder.envs.pettingzoo_env`) and RLlib's own `PettingZooEnv`
wrapper, which owns the turn logic; only the observation layout is adapted here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from ray.rllib.env.wrappers.pettingzoo_env import PettingZooEnv

from ponder.envs.pettingzoo_env import env as pettingzoo_env

ENV_NAME = "ponder_board_game"


class BoardGameMultiAgentEnv(PettingZooEnv):
    """`env_config`: {"game": a ponder game name (default connect_four)}."""

    def __init__(self, env_config: dict[str, Any] | None = None):
        config = dict(env_config or {})
        self.game_name = str(config.get("game", "connect_four"))
        super().__init__(pettingzoo_env(self.game_name))
        game = self.env.unwrapped.game
        planes = self.env.observation_space(self.possible_agents[0])["observation"]
        space = spaces.Dict(
            {
                "observations": planes,
                "action_mask": spaces.Box(0.0, 1.0, (game.num_actions,), dtype=np.float32),
            }
        )
        self.observation_spaces = dict.fromkeys(self.possible_agents, space)
        self.observation_space = spaces.Dict(self.observation_spaces)

    @staticmethod
    def _adapt(observations: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
        return {
            agent: {
                "observations": np.asarray(obs["observation"], dtype=np.float32),
                "action_mask": np.asarray(obs["action_mask"], dtype=np.float32),
            }
            for agent, obs in observations.items()
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observations, infos = super().reset(seed=seed, options=options)
        return self._adapt(observations), infos

    def step(self, action_dict: dict[str, Any]):
        observations, rewards, terminateds, truncateds, infos = super().step(action_dict)
        rewards = {agent: float(r) for agent, r in rewards.items()}
        return self._adapt(observations), rewards, terminateds, truncateds, infos
