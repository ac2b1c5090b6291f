""""Did you mean" suggestions, shared by configs and registries (bottom layer, no imports).

>>> close_matches('lr_cofig', ['lr_config', 'log_config', 'runner'])
['lr_config']
>>> close_matches('dpth', ['depth', 'width'])
['depth']
"""

from __future__ import annotations

import difflib
from typing import Iterable


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (insertions, deletions, substitutions, swaps)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def near_misses(word: str, known: Iterable[str]) -> list[str]:
    """Known names one edit (words under 8 letters) or two edits away, closest first."""
    limit = 1 if len(word) < 8 else 2
    scored = sorted((edit_distance(word, k), k) for k in set(known) if k != word)
    return [k for d, k in scored if d <= limit]


def close_matches(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Near misses by edit distance; failing those, ``difflib``'s close matches."""
    known = [str(k) for k in known]
    return near_misses(word, known)[:n] or difflib.get_close_matches(word, known, n, cutoff=0.6)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` or an empty string."""
    close = close_matches(word, known)
    return f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
