"""Hook priorities: a lower value runs earlier (mmcv 1.x's levels).

>>> get_priority('high'), get_priority(Priority.LOW), get_priority(45)
(30, 70, 45)
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Priority", "get_priority"]


class Priority(Enum):
    """Named priority levels; hooks with equal priority run in registration order."""

    HIGHEST = 0
    VERY_HIGH = 10
    HIGH = 30
    ABOVE_NORMAL = 40
    NORMAL = 50
    BELOW_NORMAL = 60
    LOW = 70
    VERY_LOW = 90
    LOWEST = 100


def get_priority(priority: int | str | Priority) -> int:
    """The integer value of ``priority`` (an int in [0, 100], a level name or a :class:`Priority`).

    Raises:
        ValueError: an int out of range or an unknown level name.
        TypeError: any other type.
    """
    if isinstance(priority, bool):
        raise TypeError(f"priority must be an int, a str or a Priority, got {priority!r}")
    if isinstance(priority, int):
        if not 0 <= priority <= 100:
            raise ValueError(f"priority must be between 0 and 100, got {priority}")
        return priority
    if isinstance(priority, Priority):
        return priority.value
    if isinstance(priority, str):
        try:
            return Priority[priority.upper()].value
        except KeyError:
            names = ", ".join(p.name for p in Priority)
            raise ValueError(f"unknown priority '{priority}'; use an int in [0, 100] or one of "
                             f"{names}") from None
    raise TypeError(f"priority must be an int, a str or a Priority, got {type(priority).__name__}")
