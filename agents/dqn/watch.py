"""Watching a trained DQN agent: whole episodes from a run's checkpoint under the run's own
protocol, scored as evaluation scores them, and optionally saved as an MP4 of the emulator's
colour screens (`ponder.agents.dqn.video`, with the agent's Q-values beside them on request) or
as an animated GIF of the frames the agent saw (Atari: 84x84 grayscale after preprocessing;
MinAtar: its grid in the game's colours)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ponder.agents.dqn.config import DQNConfig
from ponder.checkpoint import (
    atomic_write_bytes,
    load_checkpoint,
    load_state_dict_checked,
    read_metadata,
)
from ponder.errors import PonderError
from ponder.rundir import RunDir

GIF_SCALE = 3  # 84x84 frames become 252x252
AGENT_STEPS_PER_SECOND = 15  # 60 Hz emulation with a frame skip of 4


@dataclass
class WatchedRun:
    cfg: DQNConfig
    checkpoint: Path
    step: int
    policy: Any  # a DQNLearner holding the checkpoint's online network


def is_dqn_target(target: str) -> bool:
    """Whether `target` names a DQN run directory (with a checkpoint) or a DQN checkpoint."""
    try:
        _, stem = _resolve(Path(target))
        return stem is not None and read_metadata(stem).get("algorithm") == "dqn"
    except (PonderError, OSError):
        return False


def _resolve(path: Path) -> tuple[Path | None, Path | None]:
    """(run directory, checkpoint stem) for a run directory or a checkpoint inside one."""
    if path.is_dir() and (path / "config.yaml").is_file():
        return path, RunDir.open(path).latest_checkpoint()
    stem = path.with_suffix("") if path.suffix in (".json", ".safetensors") else path
    if stem.with_suffix(".json").is_file():
        run_dir = stem.parent.parent  # RUN/checkpoints/ckpt_N
        return (run_dir if (run_dir / "config.yaml").is_file() else None), stem
    return None, None


def load_run(target: str | Path, device: str = "cpu") -> WatchedRun:
    """The run's config and the checkpoint's online network, ready to act."""
    from ponder.agents.dqn.learner import DQNLearner
    from ponder.config import read_stored_config, validate_config

    run_dir, stem = _resolve(Path(target))
    if stem is None:
        raise PonderError(f"{target} is neither a DQN run directory with a checkpoint nor one")
    if run_dir is None:
        raise PonderError(f"checkpoint {stem} is not inside a run directory (no config.yaml)")
    cfg = validate_config(DQNConfig, read_stored_config(DQNConfig, run_dir / "config.yaml"))
    from ponder.agents.dqn.training import check_network, validate_metadata

    ckpt = load_checkpoint(stem, expect={"algorithm": "dqn"}, device=device)
    meta = validate_metadata(ckpt.metadata, f"checkpoint {stem}")
    check_network(meta, cfg, f"checkpoint {stem}")
    shape = meta.network  # stack, frame shape and actions, as the run recorded them
    learner = DQNLearner(cfg, shape.stack, tuple(shape.frame_shape), shape.num_actions, device)
    load_state_dict_checked(learner.online, ckpt.section("model"), f"checkpoint {stem}")
    return WatchedRun(cfg, stem, meta.step, learner)


def watch(
    run: WatchedRun,
    episodes: int,
    epsilon: float | None,
    seed: int,
    max_frames: int | None = None,
    gif: Path | None = None,
    video: Path | None = None,
    overlay: bool = False,
) -> tuple[Any, int, int]:
    """Play `episodes` whole episodes on one env; returns (EvalResult, frames written to
    `gif`, frames written to `video`; 0 for a file not asked for). The GIF holds the first
    episode, the video every episode."""
    from ponder.agents.dqn.evaluation import evaluate
    from ponder.agents.dqn.training import protocol_info
    from ponder.agents.dqn.video import EpisodeVideo
    from ponder.envs.atari.make import make_envs

    cfg = run.cfg
    if (gif is not None or video is not None) and cfg.env.type == "classic":
        raise PonderError("--gif and --video record screens; this run trained classic control")
    envs = make_envs(
        cfg.env.type,
        cfg.env.game,
        cfg.env.protocol,
        1,
        seed=seed,
        training=False,
        max_frames=max_frames or cfg.eval.max_frames,
        rgb=video is not None,
    )
    frames: list[np.ndarray] = []
    recording = gif is not None
    film = (
        EpisodeVideo(run.policy, envs, video, overlay=overlay, title=cfg.env.game)
        if video is not None
        else None
    )

    def record(observed: np.ndarray, first: np.ndarray) -> None:
        nonlocal recording
        if film is not None:
            film.on_frames(observed, first)
        if recording:
            if first[0] and frames:  # the second episode began: the first is whole
                recording = False
            else:
                frames.append(envs.picture(observed[0]))

    video_frames = 0
    try:
        chosen = cfg.eval.epsilon if epsilon is None else epsilon
        result = evaluate(
            film if film is not None else run.policy,
            envs,
            episodes,
            chosen,
            np.random.default_rng(seed),
            run.step,
            protocol_info(cfg),
            on_frames=record,
        )
        if film is not None:
            video_frames = film.close()
            film = None
    finally:
        if film is not None:
            film.abort()
        envs.close()
    if gif is not None:
        write_gif(gif, frames)
    return result, len(frames), video_frames


def write_gif(path: Path, frames: list[np.ndarray]) -> None:
    """An animated GIF at the agent's own pace, written atomically."""
    import io

    from PIL import Image

    if not frames:
        raise PonderError("no frames to write")
    images = [
        Image.fromarray(f.repeat(GIF_SCALE, axis=0).repeat(GIF_SCALE, axis=1)) for f in frames
    ]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=round(1000 / AGENT_STEPS_PER_SECOND),
        loop=0,
    )
    atomic_write_bytes(path, buffer.getvalue())
