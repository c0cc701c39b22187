"""MP4 videos of a DQN agent's episodes: the game's full colour screens (enlarged), the score
above them and, with `overlay`, a bar per action of the agent's Q-values with the action it
chose, beside them. H.264 through imageio-ffmpeg, whose wheel ships the encoder.

`EpisodeVideo` rides along `evaluate`: it wraps the policy (to see the Q-values each decision
was made from) and takes `on_frames` (to see each screen), so an evaluation records itself
under the same protocol and scoring as any other. It films env 0 only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ponder.errors import PonderError

SCALE = 3  # 160x210 screens become 480x630
HEADER = 42  # the score strip above the screen
PANEL = 304  # the Q-value panel beside it; sizes are multiples of 16, as H.264 blocks are
FPS = 15  # 60 Hz emulation with a frame skip of 4: the agent's own pace
BG, FG, DIM = (18, 18, 22), (235, 235, 235), (140, 140, 150)
ACCENT, BAR = (228, 87, 46), (80, 130, 200)  # the chosen action's bar, the others' bars


def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def compose_frame(
    screen: np.ndarray,
    caption: str,
    q: np.ndarray | None = None,
    chosen: int | None = None,
    action_names: list[str] | None = None,
    overlay: bool = False,
) -> np.ndarray:
    """One video frame (H, W, 3) uint8: caption strip, enlarged screen, optional Q panel."""
    from PIL import Image, ImageDraw

    big = screen.repeat(SCALE, axis=0).repeat(SCALE, axis=1)
    h, w = big.shape[:2]
    # Padded up to whole H.264 blocks (Atari's 210x160 screens fit them exactly; MinAtar's
    # 160x160 ones leave a strip below).
    width = _blocks(w + (PANEL if overlay else 0))
    canvas = Image.new("RGB", (width, _blocks(h + HEADER)), BG)
    canvas.paste(Image.fromarray(big), (0, HEADER))
    draw = ImageDraw.Draw(canvas)
    draw.text((12, 9), caption, fill=FG, font=_font(22))
    if overlay:
        _draw_q_panel(draw, w, HEADER, q, chosen, action_names or [])
    return np.asarray(canvas)


def _blocks(size: int, block: int = 16) -> int:
    return -(-size // block) * block


def _draw_q_panel(
    draw: Any, left: int, top: int, q: np.ndarray | None, chosen: int | None, names: list[str]
) -> None:
    x = left + 16
    draw.text((x, top + 10), "Q-values", fill=FG, font=_font(20))
    if q is None:
        draw.text((x, top + 44), "(no decision here)", fill=DIM, font=_font(16))
        return
    greedy = int(np.argmax(q))
    low, high = float(q.min()), float(q.max())
    span = max(high - low, 1e-6)
    row, bar_left, bar_width = 30, x + 96, PANEL - 96 - 32 - 56
    for a, value in enumerate(q):
        y = top + 46 + a * row
        name = names[a] if a < len(names) else str(a)
        colour = ACCENT if a == chosen else BAR
        draw.text((x, y), name[:10], fill=FG if a == chosen else DIM, font=_font(15))
        length = 4 + (bar_width - 4) * (float(value) - low) / span
        draw.rectangle((bar_left, y + 2, bar_left + length, y + 18), fill=colour)
        draw.text((bar_left + bar_width + 6, y), f"{value:+.3f}", fill=FG, font=_font(14))
    y = top + 56 + len(q) * row
    note = "chose " + (names[chosen] if chosen is not None and chosen < len(names) else "?")
    if chosen is not None and chosen != greedy:
        note += " (random, epsilon)"
    draw.text((x, y), note, fill=ACCENT, font=_font(15))


class VideoWriter:
    """Frames in, an MP4 out; written to a temporary name and moved into place when whole."""

    def __init__(self, path: str | Path, fps: int = FPS):
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        self._tmp = self.path.with_name(f".{self.path.name}.partial.mp4")
        self._writer: Any = None
        self._size: tuple[int, int] | None = None

    def add(self, frame: np.ndarray) -> None:
        import imageio_ffmpeg

        size = (int(frame.shape[1]), int(frame.shape[0]))
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = imageio_ffmpeg.write_frames(
                str(self._tmp),
                size,
                fps=self.fps,
                codec="libx264",
                pix_fmt_out="yuv420p",
                quality=7,
                macro_block_size=16,
                ffmpeg_log_level="error",
            )
            self._writer.send(None)  # start the encoder
            self._size = size
        elif size != self._size:
            raise ValueError(f"frame size {size} changed from {self._size}")
        self._writer.send(np.ascontiguousarray(frame))
        self.frames += 1

    def close(self) -> None:
        if self._writer is None:
            raise PonderError(f"no frames to write to {self.path}")
        self._writer.close()
        self._writer = None
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._tmp.unlink(missing_ok=True)


class EpisodeVideo:
    """Films env 0 of an evaluation: `act` wraps the policy, `on_frames` goes to `evaluate`.

    Each screen is held until the next decision, so the Q-values drawn beside a screen are the
    ones the agent chose its action from while looking at it.
    """

    def __init__(
        self,
        policy: Any,
        envs: Any,
        path: str | Path,
        episodes: int | None = None,
        overlay: bool = False,
        title: str = "",
    ):
        if not getattr(envs, "filming", False):
            raise PonderError("videos are filmed from Atari or MinAtar envs made with rgb=True")
        self.policy = policy
        self.envs = envs
        self.writer = VideoWriter(path)
        self.episodes = episodes
        self.overlay = overlay
        self.title = title
        self.names = list(getattr(envs, "action_names", []))
        self.episode = 0
        self.recording = True
        self.pending: tuple[np.ndarray, str] | None = None
        self.score = 0.0

    def act(self, stacks: np.ndarray, epsilon: Any, rng: np.random.Generator) -> np.ndarray:
        from ponder.agents.dqn.learner import epsilon_greedy

        q = self.policy.q_values(stacks)
        actions = epsilon_greedy(q, epsilon, rng)  # as the policy's own act draws
        if self.pending is not None:
            self._flush(q[0].float().cpu().numpy(), int(actions[0]))
        return actions

    def on_frames(self, frames: np.ndarray, first: np.ndarray) -> None:
        if not self.recording:
            return
        if self.pending is not None:  # a screen nobody decided on (not expected): keep it
            self._flush(None, None)
        if first[0] and self.writer.frames:
            self.episode += 1
            if self.episodes is not None and self.episode >= self.episodes:
                self.recording = False
                return
        score = float(self.envs.tracker.returns[0])
        caption = f"{self.title}  episode {self.episode + 1}  score {score:g}".strip()
        self.pending = (self.envs.rgb[0].copy(), caption)

    def _flush(self, q: np.ndarray | None, chosen: int | None) -> None:
        assert self.pending is not None
        screen, caption = self.pending
        self.pending = None
        self.writer.add(compose_frame(screen, caption, q, chosen, self.names, self.overlay))

    def close(self) -> int:
        """Write the last screen and finish the file; returns the frame count."""
        if self.pending is not None and self.recording:
            self._flush(None, None)
        self.writer.close()
        return self.writer.frames

    def abort(self) -> None:
        self.writer.abort()
