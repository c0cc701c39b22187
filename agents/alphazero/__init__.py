"""AlphaZero: the algorithm itself, free of Ray (the distributed pipeline lives in selfplay/).

config (schema), network (residual policy/value net), evaluator (the search's torch callable),
selfplay (batched self-play games), augment (symmetries), learner (losses and optimizer steps,
exact resume), player (checkpoints as arena players, with or without search).
"""
