"""Downloading checkpoint files into the torch hub cache, as MMDetection users expect.

:func:`download_checkpoint` fetches a URL to ``torch.hub.get_dir()/checkpoints/<file name>``
(``$TORCH_HOME/hub/checkpoints``; ``~/.cache/torch/hub/checkpoints`` by default):

- with a progress bar (on a terminal) into a temporary file next to the target, renamed
  when complete, so an interrupted download never leaves a file that looks complete;
- when the file name carries a hash (``resnet50-0676ba61.pth``: the text after the last ``-``,
  at least 6 hexadecimal digits, is a prefix of the file's sha256, as torch.hub names files),
  the download is checked against it and refused on a mismatch;
- a failure (no network, HTTP error, timeout, truncated transfer) is one
  :class:`DownloadError` naming the URL, the target path and the offline switch.

Settings (environment variables):

- ``DETBOX_OFFLINE=1``: never download, not even try; a missing file is an error saying where
  to put it (the behaviour of detbox before downloads, and of ``HF_HUB_OFFLINE=1``);
- ``DETBOX_WEIGHTS_MIRROR=<base>``: fetch ``<base>/<host>/<path>`` instead of
  ``https://<host>/<path>`` (the layout ``wget -x`` writes), e.g.
  ``http://127.0.0.1:8000`` or ``file:///nfs/weights``; the cached file keeps its name;
- ``DETBOX_DOWNLOAD_TIMEOUT``: seconds without data before a download fails (default 60);
- ``DETBOX_CHECK_HASH=0``: accept a file whose sha256 does not match its name, with a warning
  (for mirrors that publish other weights under the zoo's names, and tests).

>>> hash_prefix('resnet50-0676ba61.pth')
'0676ba61'
>>> hash_prefix('faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
'047c8118'
>>> hash_prefix('model_final.pth') is None
True
>>> mirrored('https://download.pytorch.org/models/resnet18-f37072fd.pth', 'http://127.0.0.1:9')
'http://127.0.0.1:9/download.pytorch.org/models/resnet18-f37072fd.pth'
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
from urllib.parse import urlparse

__all__ = ["DownloadError", "download_checkpoint", "hash_prefix", "is_offline", "mirrored",
           "OFFLINE_ENV", "MIRROR_ENV", "TIMEOUT_ENV", "CHECK_HASH_ENV"]

_LOGGER = logging.getLogger(__name__)

OFFLINE_ENV = "DETBOX_OFFLINE"
MIRROR_ENV = "DETBOX_WEIGHTS_MIRROR"
TIMEOUT_ENV = "DETBOX_DOWNLOAD_TIMEOUT"
CHECK_HASH_ENV = "DETBOX_CHECK_HASH"
_HASH = re.compile(r"-([0-9a-f]{6,64})\.[A-Za-z0-9]+$")
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A checkpoint could not be downloaded (or its content failed the hash check)."""

    def __str__(self) -> str:
        return str(self.args[0])


def is_offline() -> bool:
    """Whether ``DETBOX_OFFLINE`` forbids any download."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0", "false", "False")


def hash_prefix(basename: str) -> str | None:
    """The sha256 prefix a torch.hub style file name carries (``name-<hex>.pth``), or None."""
    match = _HASH.search(basename)
    return match.group(1) if match else None


def mirrored(url: str, mirror: str | None = None) -> str:
    """``url`` as fetched: under ``mirror`` (default ``$DETBOX_WEIGHTS_MIRROR``) if set."""
    mirror = os.environ.get(MIRROR_ENV) if mirror is None else mirror
    if not mirror:
        return url
    parts = urlparse(url)
    return f"{mirror.rstrip('/')}/{parts.netloc}{parts.path}"


def _progress(total: int | None, desc: str):  # noqa: ANN202 - tqdm or a no-op
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=None, leave=False)


def _fail(url: str, path: str, why: str) -> DownloadError:
    return DownloadError(
        f"could not download {url} to {path}: {why}. Download the file by hand and put it at "
        f"{path}, or set {MIRROR_ENV} to a mirror; set {OFFLINE_ENV}=1 to never try to "
        f"download")


def download_checkpoint(url: str, path: str) -> str:
    """Download ``url`` to ``path`` (atomically, hash-checked when the name carries one).

    Returns:
        ``path``.

    Raises:
        DownloadError: the transfer failed or the hash does not match; no file is left at
            ``path`` (nor a temporary one).
    """
    source = mirrored(url)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    expected = hash_prefix(os.path.basename(path))
    timeout = float(os.environ.get(TIMEOUT_ENV, "60"))
    via = f" (from the mirror {source})" if source != url else ""
    _LOGGER.info("downloading %s%s to %s", url, via, path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial",
                               dir=folder)
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(source, headers={"User-Agent": "detbox"})
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = _progress(total, os.path.basename(path))
                try:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                finally:
                    if bar is not None:
                        bar.close()
            if total is not None and received != total:
                raise _fail(url, path, f"the transfer stopped after {received} of {total} "
                                       f"bytes")
        mismatch = expected is not None and not digest.hexdigest().startswith(expected)
        if mismatch and os.environ.get(CHECK_HASH_ENV, "1") in ("0", "false", "False"):
            _LOGGER.warning("%s: sha256 %s does not start with %s (the hash in its name); kept "
                            "because %s=0", path, digest.hexdigest(), expected, CHECK_HASH_ENV)
        elif mismatch:
            raise DownloadError(
                f"the file downloaded from {source} does not match the hash in its name: "
                f"sha256 {digest.hexdigest()} does not start with {expected}; it was deleted "
                f"and not put at {path} (a corrupted transfer or a wrong file on the server)")
        os.replace(tmp, path)
    except DownloadError:
        _remove(tmp)
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        _remove(tmp)
        reason = getattr(err, "reason", None) or err
        if isinstance(err, urllib.error.HTTPError):
            reason = f"HTTP {err.code} {err.reason}"
        raise _fail(url + via, path, str(reason)) from None
    except BaseException:
        _remove(tmp)
        raise
    _LOGGER.info("saved %s (%d bytes)", path, received)
    return path


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
