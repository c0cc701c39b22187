"""ponder: game-playing reinforcement learning (numba board games, batched MCTS, AlphaZero, DQN)."""

__version__ = "0.1.0"
