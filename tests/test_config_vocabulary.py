"""One config vocabulary: `run.*`, `checkpoint.*` and `eval.every` mean the same in AlphaZero and
DQN; a key renamed since an earlier version is refused in a config the user writes (one line
naming the rename) but moved when read from a run directory or a checkpoint, so old runs
resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ponder.agents.alphazero.config import AZ_RENAMED, AZConfig
from ponder.agents.dqn.config import DQN_RENAMED, DQNConfig
from ponder.agents.dqn.loop import train_single
from ponder.agents.dqn.training import prepare_run
from ponder.config import load_config, move_renamed_keys, read_yaml
from ponder.errors import PonderError

ROOT = Path(__file__).resolve().parents[1]
CARTPOLE = ROOT / "configs/classic/cartpole_dqn.yaml"
SHARED = ("run.seed", "run.steps", "run.minutes", "run.workers", "run.log_every", "run.stop_when")


def test_both_algorithms_share_the_run_checkpoint_and_eval_keys():
    az = AZConfig.model_validate({"game": "tic_tac_toe"})
    dqn = DQNConfig()
    for cfg in (az, dqn):
        for dotted in (*SHARED, "checkpoint.every", "checkpoint.keep", "checkpoint.replay"):
            section, key = dotted.split(".")
            assert hasattr(getattr(cfg, section), key), dotted
        assert cfg.eval.every >= 1
    assert (az.run.unit, dqn.run.unit) == ("learner_steps", "agent_steps")


AZ_FILE, DQN_FILE = "configs/tic_tac_toe.yaml", "configs/classic/cartpole_dqn.yaml"


@pytest.mark.parametrize(
    "schema, path, override, old, new",
    [
        (AZConfig, AZ_FILE, "pipeline.max_minutes=3", "pipeline.max_minutes", "run.minutes"),
        (AZConfig, AZ_FILE, "eval.every_steps=10", "eval.every_steps", "eval.every"),
        (DQNConfig, DQN_FILE, "train.total_steps=10", "train.total_steps", "run.steps"),
        (DQNConfig, DQN_FILE, "apex.actors=2", "apex.actors", "run.workers"),
    ],
)
def test_an_old_key_in_a_users_config_is_one_line_naming_its_new_name(
    schema, path, override, old, new
):
    with pytest.raises(PonderError) as info:
        load_config(schema, ROOT / path, [override])
    message = str(info.value)
    assert "\n" not in message and repr(old) in message and repr(new) in message


def test_every_shipped_config_uses_the_current_names():
    for path in sorted((ROOT / "configs").rglob("*.yaml")):
        data = read_yaml(path)
        renamed = AZ_RENAMED if "game" in data else DQN_RENAMED
        assert move_renamed_keys(data, renamed)[1] == [], path


def test_unit_and_stop_metrics_are_checked():
    with pytest.raises(PonderError, match=r"run\.unit"):
        load_config(AZConfig, ROOT / "configs/tic_tac_toe.yaml", ["run.unit=agent_steps"])
    with pytest.raises(PonderError, match="eval_retrun"):
        load_config(DQNConfig, CARTPOLE, ["run.stop_when={eval_retrun: 3}"])


def old_shape(data: dict, renamed: dict[str, str]) -> dict:
    """`data` written with an earlier version's key names (the inverse of the renames)."""
    out = yaml.safe_load(yaml.safe_dump(data))
    for old, new in renamed.items():
        out, _ = move_renamed_keys(out, {new: old})
    for section in ("run", "checkpoint"):  # what is left there had no earlier name
        out.pop(section, None)
    return out


def test_a_dqn_run_written_with_the_old_names_resumes(tmp_path, capsys):
    cfg, run, _ = prepare_run(
        CARTPOLE,
        ["run.steps=300", "train.learning_starts=100", "eval.every=100000", "eval.episodes=1"],
        out=tmp_path / "old",
    )
    first = train_single(cfg, run, False, show_progress=False)
    assert first.step >= 300
    stored = read_yaml(run.config_path())
    legacy = old_shape(stored, DQN_RENAMED)
    assert "total_steps" in legacy["train"] and "run" not in legacy
    run.config_path().write_text(yaml.safe_dump(legacy, sort_keys=False))
    cfg2, run2, resumed = prepare_run(None, ["run.steps=500"], resume=run.path)
    assert "earlier key names" in capsys.readouterr().err
    assert cfg2.run.steps == 500 and cfg2.run.seed == cfg.run.seed
    assert cfg2.checkpoint.every == cfg.checkpoint.every
    second = train_single(cfg2, run2, resumed, show_progress=False)
    assert second.step >= 500


def test_an_az_checkpoint_config_with_the_old_names_still_validates():
    new = load_config(AZConfig, ROOT / "configs/connect_four.yaml")
    legacy = old_shape(new.model_dump(mode="json"), AZ_RENAMED)
    assert "pipeline" in legacy and "run" not in legacy
    assert AZConfig.model_validate(legacy) == new


def test_dqn_run_minutes_stops_the_loop(tmp_path):
    cfg, run, _ = prepare_run(
        CARTPOLE,
        ["run.steps=1000000", "run.minutes=0.005", "eval.every=100000000", "eval.episodes=1"],
        out=tmp_path / "minutes",
    )
    summary = train_single(cfg, run, False, show_progress=False)
    assert summary.stop_reason == "reached run.minutes=0.005"
    assert 0 < summary.step < 1_000_000
    assert run.latest_checkpoint() is not None
