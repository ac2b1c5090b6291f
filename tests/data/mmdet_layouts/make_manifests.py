"""Record the state_dict manifest real MMDetection 2.28.2 builds for each config of a family.

Run with the side venv (``tests/data/side_env/make_side_venv.sh``), never detbox's own::

    /tmp/mmfull/bin/python tests/data/mmdet_layouts/make_manifests.py swin \
        'swin/*.py' 'dyhead/atss_swin-l*.py'

The first argument names the family (the output file ``<family>.json.gz`` beside this
script); the others are glob patterns under MMDetection's ``configs/`` (read from the installed
wheel's ``mmdet/.mim/configs``), or, when they start with ``tests/``, under this repository
(extra configs of ours, keyed by their repository path, e.g.
``tests/data/configs/swin_combos/faster_rcnn_swin-t_fpn.py``). For each config it writes ``{"keys": [[name, shape], ...]}``
sorted by name (what ``model.state_dict()`` holds: parameters and buffers), or
``{"error": "<ExceptionClass>: <message>"}`` when MMDetection itself cannot build it.
``tests/models/layout_utils.py`` compares detbox's models with these files.
The output is gzip with mtime 0 and sorted JSON, so reruns are byte-identical.

Distillation configs (``ld/``, ``lad/``): their ``teacher_ckpt`` is a model-zoo URL; the
teacher is not in the student's state_dict, so it is recorded with ``teacher_ckpt=None``
(nothing downloaded), and the build runs in the directory that holds ``configs/`` so that
MMDetection's relative ``teacher_config='configs/gfl/...'`` resolves as it does from a
checkout's root.
"""

import contextlib
import gzip
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


@contextlib.contextmanager
def _cwd(path):
    """Run in ``path`` (relative ``teacher_config`` paths resolve against it)."""
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


def manifest(model):
    return {"keys": sorted([k, list(v.shape)] for k, v in model.state_dict().items())}


def main(argv):
    import mmdet
    from mmcv import Config
    from mmdet.models import build_detector

    family, patterns = argv[0], argv[1:]
    root = Path(mmdet.__file__).parent / ".mim" / "configs"
    out = {}
    for pattern in patterns:
        base = REPO if pattern.startswith("tests/") else root
        for path in sorted(base.glob(pattern)):
            rel = path.relative_to(base).as_posix()
            try:
                cfg = Config.fromfile(str(path))
                if cfg.get("custom_imports"):
                    from mmcv.utils import import_modules_from_strings
                    import_modules_from_strings(**cfg.custom_imports)
                if "teacher_ckpt" in cfg.model:  # distillation: the teacher's weights are
                    cfg.model.teacher_ckpt = None  # not in the state_dict; no download
                with _cwd(base.parent if base is root else base):
                    out[rel] = manifest(build_detector(cfg.model))
            except Exception as err:  # recorded: the test expects the same failure
                out[rel] = {"error": f"{type(err).__name__}: {err}"}
            print(rel, len(out[rel].get("keys", [])) or out[rel].get("error"), file=sys.stderr)
    data = json.dumps(out, sort_keys=True, separators=(",", ":")).encode()
    with open(HERE / f"{family}.json.gz", "wb") as fh:
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            gz.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
