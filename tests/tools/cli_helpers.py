"""Running the tools as a user does (a subprocess), and reading what they leave behind."""

from __future__ import annotations

import ast
import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

TOOLS = REPO / "tools"


def tool_env() -> dict[str, str]:
    """The environment of a tool run: one compute thread (the tiny models run faster with one
    thread than with two on a busy 2-core machine), the repository importable."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env.pop("DETBOX_DEBUG", None)
    return env


def tool_cmd(script: str, *args: str) -> list[str]:
    """``python tools/<script> args...``."""
    return [sys.executable, str(TOOLS / script), *map(str, args)]


def run(script: str, *args: str, cwd: Path, timeout: float = 300,
        check: bool = True) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` in ``cwd``; with ``check``, fail showing its stderr's tail."""
    result = subprocess.run(tool_cmd(script, *args), cwd=cwd, env=tool_env(),
                            capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{script} {' '.join(map(str, args))} exited with "
                             f"{result.returncode}:\n{result.stderr[-3000:]}")
    return result


def json_logs(work_dir: Path) -> list[Path]:
    """The ``<timestamp>.log.json`` files of a work dir, oldest first."""
    return [Path(p) for p in sorted(glob.glob(str(work_dir / "*.log.json")))]


def log_entries(path: Path, mode: str | None = None) -> list[dict]:
    """The train/val entries of a JSON log (the meta line is skipped), of ``mode`` if given."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "mode" in r]
    return [r for r in rows if mode is None or r["mode"] == mode]


def printed_metrics(stdout: str) -> dict:
    """The metrics dict ``tools/test.py`` prints (``OrderedDict([...])`` or ``{...}``)."""
    match = re.search(r"OrderedDict\((\[.*\])\)|(\{'bbox_mAP'.*\})", stdout)
    if match is None:
        raise AssertionError(f"no metrics printed:\n{stdout[-2000:]}")
    text = re.sub(r"\bnan\b", "None", match.group(1) or match.group(2))
    return dict(ast.literal_eval(text))
