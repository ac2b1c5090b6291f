"""The one merge rule of configs (MMDetection v2 / mmcv 1.x semantics, reproduced exactly).

A child value is merged into its base:

- dicts merge key by key, recursively:

  >>> merge_into({'a': {'x': 1}}, {'a': {'x': 0, 'y': 2}})
  {'a': {'x': 1, 'y': 2}}

- lists, tuples, scalars and ``None`` replace the base value:

  >>> merge_into({'steps': [8]}, {'steps': [8, 11], 'lr': 0.02})
  {'steps': [8], 'lr': 0.02}

- ``_delete_=True`` in a child dict replaces the base dict instead of merging:

  >>> merge_into({'opt': {'_delete_': True, 'type': 'Adam'}}, {'opt': {'type': 'SGD', 'm': 0.9}})
  {'opt': {'type': 'Adam'}}

- a child dict over a base value that is not a dict is an error (``TypeError``) unless it
  says ``_delete_=True``;
- where the base lacks the key, the child dict is taken as it is, and mmcv keeps an
  ``_delete_`` key inside it (the flag is only read when there is something to delete):

  >>> merge_into({'new': {'_delete_': True, 'k': 1}}, {})
  {'new': {'_delete_': True, 'k': 1}}

- with ``allow_list_keys`` (used by ``--cfg-options``), digit keys index into base lists:

  >>> merge_into({'p': {'1': {'t': 'B'}}}, {'p': [{'t': 'A'}, {'t': 'X'}]}, allow_list_keys=True)
  {'p': [{'t': 'A'}, {'t': 'B'}]}
"""

from __future__ import annotations

from typing import Any

from .config_dict import ConfigDict

DELETE_KEY = "_delete_"


def merge_into(child: dict, base: Any, allow_list_keys: bool = False) -> Any:
    """Merge ``child`` into ``base`` and return the result; ``base`` is not modified.

    Args:
        child: the overriding dict (its ``_delete_`` flags are consumed, as mmcv does).
        base: a dict, or a list when ``allow_list_keys`` and ``child`` has digit keys.
        allow_list_keys: let keys like ``'0'`` index into lists of the base.

    Returns:
        The merged dict (or list).

    Raises:
        TypeError: a child dict over a non-dict base value without ``_delete_=True``.
        KeyError: a list index past the end of the base list.
    """
    out = base.copy()
    for key, value in child.items():
        if allow_list_keys and isinstance(out, list) and isinstance(key, str) and key.isdigit():
            index = int(key)
            if index >= len(out):
                raise KeyError(f"Index {index} exceeds the length of list {out}")
            out[index] = merge_into(value, out[index], allow_list_keys)
        elif isinstance(value, dict):
            # The flag is read (and removed) only when the base has the key, as mmcv does.
            if key in out and not value.pop(DELETE_KEY, False):
                allowed = (dict, list) if allow_list_keys else dict
                if not isinstance(out[key], allowed):
                    raise TypeError(
                        f"{key}={value} in child config cannot inherit from base because {key} "
                        f"is a dict in the child config but is of type {type(out[key])} in base "
                        f"config. You may set `{DELETE_KEY}=True` to ignore the base config."
                    )
                out[key] = merge_into(value, out[key], allow_list_keys)
            else:
                out[key] = ConfigDict(value)
        else:
            out[key] = value
    return out
