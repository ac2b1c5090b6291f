"""Checkpoints for the safety tests: one whose unpickling runs code, and plain ones."""

from __future__ import annotations

from pathlib import Path

import torch


class Payload:
    """Unpickled in full, it writes ``marker`` (what an attacker's file would do)."""

    def __init__(self, marker: str | Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('the payload ran')",))


def save_malicious(path: str | Path, marker: str | Path, state_dict: dict | None = None,
                   **meta) -> Path:
    """A checkpoint in the usual layout whose ``meta`` carries a :class:`Payload`."""
    meta = dict(meta, note=Payload(marker))
    torch.save({"meta": meta, "state_dict": state_dict or {}}, path)
    return Path(path)
