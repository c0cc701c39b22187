"""`SearchConfig`: every knob of the batched search, embedded in the algorithm configs."""

from __future__ import annotations

from pydantic import Field, model_validator

from ponder.config import StrictModel


class SearchConfig(StrictModel):
    """Settings of one `BatchedMCTS`; the defaults are AlphaZero's where AlphaZero has one."""

    num_simulations: int = Field(100, ge=1, le=10**7)
    # K leaves per tree per evaluator call; virtual loss keeps the K descents apart.
    leaves_per_step: int = Field(8, ge=1, le=1024)
    virtual_loss: float = Field(1.0, ge=0.0)
    # AlphaZero's exploration schedule: c(s) = log((1 + N(s) + base) / base) + init.
    c_puct_init: float = Field(1.25, ge=0.0)
    c_puct_base: float = Field(19652.0, gt=0.0)
    # First-play urgency (KataGo, Leela): an unvisited child is worth the parent's Q minus this.
    fpu_reduction: float = Field(0.25, ge=-2.0, le=2.0)
    # The root may differ: with Dirichlet noise a smaller reduction lets noisy moves get tried.
    # None = same as fpu_reduction.
    root_fpu_reduction: float | None = Field(None, ge=-2.0, le=2.0)
    root_noise: bool = False
    dirichlet_alpha: float = Field(0.3, gt=0.0)
    dirichlet_fraction: float = Field(0.25, ge=0.0, le=1.0)
    # 0 = the most visited move (ties broken at random); > 0 samples visits ** (1 / temperature).
    temperature: float = Field(0.0, ge=0.0)
    tree_reuse: bool = True
    # Gumbel root with sequential halving (Danihelka et al. 2022); see ponder.search.gumbel.
    gumbel: bool = False
    gumbel_considered: int = Field(16, ge=1, le=1 << 16)
    gumbel_c_visit: float = Field(50.0, ge=0.0)
    gumbel_c_scale: float = Field(1.0, ge=0.0)
    # Scale of the root Gumbel noise: 1 samples as the paper does, 0 plays deterministically.
    gumbel_scale: float = Field(1.0, ge=0.0)
    # KataGo's forced playouts (PUCT only): a root child that has been visited at all gets at
    # least sqrt(k * P * N) of the root's N visits, so noise-boosted moves are really tried;
    # self-play takes the forced visits out of the policy target again (policy target pruning).
    # KataGo uses k = 2; 0 = off.
    forced_playouts_k: float = Field(0.0, ge=0.0, le=100.0)
    # Nodes per tree. None: sized from num_simulations (twice over, so a reused subtree fits).
    max_nodes: int | None = Field(None, ge=2, le=10**9)

    @model_validator(mode="after")
    def _nodes_hold_a_search(self) -> SearchConfig:
        if self.max_nodes is not None and self.max_nodes < self.num_simulations + 1:
            raise ValueError(
                f"max_nodes={self.max_nodes} cannot hold a search of num_simulations="
                f"{self.num_simulations} (needs at least {self.num_simulations + 1})"
            )
        if self.forced_playouts_k and self.gumbel:
            raise ValueError("forced_playouts_k is for the PUCT root; the Gumbel root has its own")
        return self
