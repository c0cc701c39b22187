"""The same benchmark on two revisions of ponder, side by side in one run: the "previous version"
peer that a refactor or a speed change is judged against.

    python benchmarks/versions.py --base main~3 [--head HEAD] [--rounds 3] -- search.py --quick

Each revision is checked out into its own git worktree (under `--work`, default
runs/versions/) with its own small virtual environment: the packages are this environment's
(a .pth line points at them) and only ponder itself is installed, editable, from that worktree,
so Ray workers and numba caches of one revision never see the other's code. The benchmark runs
`--rounds` times per revision, alternating base and head so that slow drift on the machine
(thermal, other load) falls on both alike. Each run's JSON (what the benchmark prints) is kept;
the summary pairs every numeric field the two revisions share and reports the median of each
and their ratio head/base, plus the load average over the whole comparison.

Writes benchmarks/results/versions_<benchmark>.json (the benchmarks' own result files go to the
worktrees and are left there).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import LoadSampler, write_result

ROOT = Path(__file__).resolve().parent.parent


def git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"error: git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def prepare(revision: str, work: Path) -> tuple[str, Path]:
    """(commit, python) for `revision`: a worktree at that commit and a venv whose only own
    package is ponder, installed editable from the worktree."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    tree = work / commit[:12]
    if not (tree / ".git").exists():
        git("worktree", "add", "--detach", str(tree), commit)
    venv = tree / ".venv-versions"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        site = Path(
            subprocess.check_output(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                text=True,
            ).strip()
        )
        # A path line, not a site dir: this environment's .pth files (its own editable ponder)
        # are not run there, so `import ponder` finds only the worktree's.
        (site / "ponder_versions_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(tree)],
            check=True,
        )
    found = subprocess.check_output(
        [
            str(python),
            "-c",
            "import ponder.search, os; print(os.path.dirname(ponder.search.__file__))",
        ],
        text=True,
    ).strip()
    if Path(found).resolve() != (tree / "search").resolve():
        raise SystemExit(f"error: {revision} imports ponder from {found}, not from {tree}")
    return commit, python


def run_once(python: Path, tree: Path, benchmark: list[str]) -> dict[str, Any]:
    script = tree / "benchmarks" / benchmark[0]
    if not script.is_file():
        raise SystemExit(f"error: {script.relative_to(tree)} does not exist at that revision")
    done = subprocess.run(
        [str(python), str(script.relative_to(tree)), *benchmark[1:]],  # a command without paths
        cwd=tree,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONNOUSERSITE": "1"},
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"error: {benchmark[0]} failed in {tree.name}:\n{tail}")
    start = done.stdout.find("{")
    return json.loads(done.stdout[start:])


def numeric_leaves(value: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a JSON value by its dotted path (machine and version fields aside)."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, int | float):
        return {prefix: float(value)}
    out: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"machine", "versions", "date", "command"}:
                continue
            out.update(numeric_leaves(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(numeric_leaves(item, f"{prefix}[{i}]"))
    return out


def compare(base: list[dict[str, Any]], head: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of each shared numeric field per revision, and head / base."""
    base_leaves = [numeric_leaves(r) for r in base]
    head_leaves = [numeric_leaves(r) for r in head]
    shared = set.intersection(*(set(x) for x in base_leaves + head_leaves))
    fields = {}
    for key in sorted(shared):
        b = statistics.median(x[key] for x in base_leaves)
        h = statistics.median(x[key] for x in head_leaves)
        fields[key] = {"base": b, "head": h, "ratio": round(h / b, 4) if b else None}
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier revision (any git rev)")
    parser.add_argument("--head", default="HEAD", help="the later revision (default HEAD)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per revision, alternating")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "versions")
    parser.add_argument("benchmark", nargs=argparse.REMAINDER, help="-- SCRIPT.py [ARGS...]")
    args = parser.parse_args()
    benchmark = [a for a in args.benchmark if a != "--"] if args.benchmark else []
    if not benchmark or not benchmark[0].endswith(".py"):
        raise SystemExit("error: name the benchmark after --, e.g. -- search.py --quick")
    if args.rounds < 1:
        raise SystemExit("error: --rounds must be at least 1")
    args.work.mkdir(parents=True, exist_ok=True)
    revisions = {}
    for label, rev in (("base", args.base), ("head", args.head)):
        commit, python = prepare(rev, args.work.resolve())
        revisions[label] = {"revision": rev, "commit": commit, "python": python}
    runs: dict[str, list[dict[str, Any]]] = {"base": [], "head": []}
    with LoadSampler() as load:
        for _ in range(args.rounds):
            for label in ("base", "head"):
                info = revisions[label]
                tree = args.work.resolve() / info["commit"][:12]
                runs[label].append(run_once(info["python"], tree, benchmark))
    name = Path(benchmark[0]).stem
    write_result(
        f"versions_{name}",
        {
            "benchmark_command": benchmark,
            "rounds": args.rounds,
            "base": {k: v for k, v in revisions["base"].items() if k != "python"},
            "head": {k: v for k, v in revisions["head"].items() if k != "python"},
            "load_average": load.summary(),
            "fields": compare(runs["base"], runs["head"]),
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
