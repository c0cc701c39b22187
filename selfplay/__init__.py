"""Everything that runs on Ray: the only package that imports it (see DESIGN.md).

AlphaZero: `worker.SelfPlayWorker`, `replay.ReplayBuffer`, `learner.LearnerActor`,
`evaluation.MatchJudge` and `inference.InferenceServer`, scheduled by `driver.AZPipeline` (the
one runner's AlphaZero trainer, `ponder train az`) on a `backend` (Ray processes, or objects of
one process). DQN scale-out: the `apex_*` modules. `cluster.ensure_ray` starts or joins Ray.
"""
