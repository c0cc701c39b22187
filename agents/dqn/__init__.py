"""DQN family on Atari and classic control: vanilla DQN, Double DQN and a Rainbow-lite agent
(dueling head, n-step returns, prioritized replay) are configs of one implementation.

    config.py      every hyperparameter, validated (configs/atari/*.yaml, configs/classic/)
    replay.py      one frame per step, stacks and n-step returns built at sample time (numba)
    sumtree.py     the priority sum-tree (numba)
    networks.py    Nature CNN or MLP torso, plain or dueling head
    learner.py     the update: Double/vanilla target, Huber loss, importance weights, Adam
    evaluation.py  protocol-standard evaluation with a bootstrap confidence interval
    training.py    counters, schedules, checkpoints and resume shared by both drivers
    loop.py        the single-process training loop (Ape-X lives in selfplay/apex_*.py)
"""
