"""Build the MMDetection 2.28.2 config parity golden with MMCV 1.7.x.

For every ``*.py`` under ``configs/`` inside the MMDetection wheel (stored
there as ``mmdet/.mim/configs/``), load it with MMCV's own
``Config.fromfile(path, import_custom_modules=False)`` and record
``cfg._cfg_dict.to_dict()`` in a canonical JSON encoding (see ``enc``). A file
whose loading raises is recorded as ``{"__error__": "<ExceptionClassName>"}``.
Keys are paths relative to ``configs/`` (e.g.
``faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py``). The output is gzip-compressed
``json.dumps(result, sort_keys=True)``.

This script must NOT run in detbox's own venv: it needs mmcv 1.7.x (lite), so
run it with a side venv's python, e.g.::

    python3 -m venv /tmp/mmref
    /tmp/mmref/bin/pip install 'setuptools<70' wheel addict yapf numpy \
        packaging Pillow pyyaml opencv-python-headless
    MMCV_WITH_OPS=0 /tmp/mmref/bin/pip install --no-build-isolation mmcv==1.7.2
    /tmp/mmref/bin/python tests/data/mmdet_parity/make_golden.py \
        --wheel /path/to/mmdet-2.28.2-py3-none-any.whl \
        --out tests/data/mmdet_parity/golden.json.gz
"""
import argparse
import gzip
import json
import math
import os
import sys
import tempfile
import warnings
import zipfile

PREFIX = 'mmdet/.mim/configs/'


def enc(v):
    """Canonical, JSON-safe encoding of a config value."""
    if isinstance(v, dict):
        return {str(k): enc(val) for k, val in v.items()}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, tuple):
        return {'__tuple__': [enc(x) for x in v]}
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        if math.isnan(v):
            return {'__float__': 'nan'}
        return {'__float__': 'inf' if v > 0 else '-inf'}
    return {'__repr__': repr(v)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--wheel', required=True, help='mmdet wheel (zip)')
    ap.add_argument('--out', required=True, help='output .json.gz')
    args = ap.parse_args(argv)

    warnings.simplefilter('ignore')
    from mmcv import Config  # noqa: E402  (side venv only)

    result = {}
    errors = {}
    with tempfile.TemporaryDirectory(prefix='mmdet_cfgs_') as tmp:
        with zipfile.ZipFile(args.wheel) as zf:
            members = [n for n in zf.namelist() if n.startswith(PREFIX)]
            zf.extractall(tmp, members)
        root = os.path.join(tmp, PREFIX)
        rels = []
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.endswith('.py'):
                    full = os.path.join(dirpath, f)
                    rels.append(os.path.relpath(full, root).replace(os.sep, '/'))
        rels.sort()
        for rel in rels:
            path = os.path.join(root, rel)
            try:
                cfg = Config.fromfile(path, import_custom_modules=False)
                result[rel] = enc(cfg._cfg_dict.to_dict())
            except Exception as e:  # record, keep going
                result[rel] = {'__error__': type(e).__name__}
                errors[rel] = f'{type(e).__name__}: {e}'

    data = json.dumps(result, sort_keys=True).encode('utf-8')
    with open(args.out, 'wb') as fh:
        # mtime=0 keeps the gzip output byte-for-byte reproducible
        with gzip.GzipFile(filename='', mode='wb', fileobj=fh, mtime=0) as gz:
            gz.write(data)

    print(f'{len(rels)} config files, {len(errors)} errored', file=sys.stderr)
    for rel, msg in sorted(errors.items()):
        print(f'  ERROR {rel}: {msg}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
