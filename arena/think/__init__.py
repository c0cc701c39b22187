"""`ponder think`: what test-time search buys, measured against training compute.

A study takes the checkpoints of one training run, log-spaced in training compute, and plays
each at search budgets 0 ("System 1", the raw policy) and 1, 2, 4, ... ("System 2"), against
each other and against fixed references (random = 0, a UCT ladder, the exact solver), until
every rating of one joint Bradley-Terry fit is known to the width asked for. It then fits how
Elo grows with test compute at each stage of training and the exchange rate between the two.

Modules: `compute` (training and test compute of a checkpoint), `roster` (which checkpoints
and budgets, and the players they make), `schedule` (which games are most informative next),
`cache` (every played batch, so a study resumes without replaying a game), `fits` (Elo per
doubling, the exchange rate, adaptive budgets at equal compute), `labels` (optimal-move
shares on solver-labelled positions), `plots`, `report`, and `study` (the loop).
It reads checkpoints and writes a study folder; it never trains.
"""
