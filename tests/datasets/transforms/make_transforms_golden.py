"""Record MMDetection 2.28.2's pipeline transform outputs for detbox's parity test.

Runs MMDetection's own ``mmdet/datasets/pipelines/{transforms,loading,compose,
test_time_aug}.py`` (read from its wheel) under mmcv 1.7 on the inputs of
``transforms_golden_cases.py``, seeding ``np.random`` per case, and writes a gzip pickle
``{'cases': {name: {seed: summary}}, 'files': {...}, 'load': {...}}``.

mmdet's torch-dependent imports are replaced by stubs (``find_inside_bboxes``, a
pipeline registry, a no-op ``log_img_scale``); masks are not exercised. Do not run it in
detbox's venv; use a side venv with mmcv 1.7.2 lite (see
``tests/data/mmdet_parity/make_golden.py`` for how to make one), e.g.::

    /tmp/mmref/bin/python tests/datasets/transforms/make_transforms_golden.py \\
        --wheel .cache/mmdet/mmdet-2.28.2-py3-none-any.whl \\
        --out tests/datasets/transforms/data/transforms_golden.pkl.gz
"""

import argparse
import gzip
import os
import pickle
import sys
import tempfile
import zipfile

STUBS = {
    "mmdet/__init__.py": "",
    "mmdet/core/__init__.py": (
        "BitmapMasks = PolygonMasks = None\n"
        "def find_inside_bboxes(bboxes, img_h, img_w):\n"
        "    return ((bboxes[:, 0] < img_w) & (bboxes[:, 2] > 0)\n"
        "            & (bboxes[:, 1] < img_h) & (bboxes[:, 3] > 0))\n"
    ),
    "mmdet/core/evaluation/__init__.py": "",
    "mmdet/utils/__init__.py": "def log_img_scale(*args, **kwargs):\n    return False\n",
    "mmdet/datasets/__init__.py": "",
    # mmcv.utils only exports the registry when torch imports; the module itself needs none.
    "mmdet/datasets/builder.py": (
        "import mmcv.utils\nfrom mmcv.utils.registry import Registry, build_from_cfg\n"
        "mmcv.utils.build_from_cfg = build_from_cfg\nPIPELINES = Registry('p')\n"
    ),
    "mmdet/datasets/pipelines/__init__.py": (
        "from .. import builder\nfrom .compose import Compose\n"
        "from . import transforms, loading, test_time_aug\n"
    ),
    "pycocotools/__init__.py": "",
    "pycocotools/mask.py": "",
}
FROM_WHEEL = (
    "mmdet/core/evaluation/bbox_overlaps.py",
    "mmdet/datasets/pipelines/compose.py",
    "mmdet/datasets/pipelines/transforms.py",
    "mmdet/datasets/pipelines/loading.py",
    "mmdet/datasets/pipelines/test_time_aug.py",
)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", required=True, help="mmdet-2.28.2 wheel (zip)")
    ap.add_argument("--out", required=True, help="output .pkl.gz")
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp()
    for path, text in STUBS.items():
        os.makedirs(os.path.join(tmp, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(tmp, path), "w") as f:
            f.write(text)
    with zipfile.ZipFile(args.wheel) as zf:
        for path in FROM_WHEEL:
            with open(os.path.join(tmp, path), "wb") as f:
                f.write(zf.read(path))
    sys.path.insert(0, tmp)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

    import numpy as np
    import transforms_golden_cases as gc
    from mmdet.datasets.pipelines import Compose

    golden = {"cases": {}, "files": gc.encoded_images(), "load": {}}
    for name, (cfgs, _) in gc.CASES.items():
        pipeline = Compose(cfgs)
        golden["cases"][name] = {}
        for seed in gc.SEEDS:
            np.random.seed(seed)
            golden["cases"][name][seed] = gc.summarize(pipeline(gc.case_input(name, seed)))
    folder = os.path.join(tmp, "files")
    os.makedirs(folder)
    for fname, content in golden["files"].items():
        with open(os.path.join(folder, fname), "wb") as f:
            f.write(content)
    for i, cfg in enumerate(gc.LOAD_CASES):
        load = Compose([cfg])
        for fname in golden["files"]:
            out = load(dict(img_prefix=folder, img_info=dict(filename=fname)))
            golden["load"][(i, fname)] = out["img"]  # full arrays: small files
    with gzip.open(args.out, "wb") as f:
        pickle.dump(golden, f, protocol=4)
    print(f"wrote {len(golden['cases'])} transform cases x {len(gc.SEEDS)} seeds and "
          f"{len(golden['load'])} loading cases to {args.out}")


if __name__ == "__main__":
    main()
