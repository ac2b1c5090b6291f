"""Record real MMDetection 2.28.2's mask outputs for detbox's mask parity test.

Run with the side venv (real mmdet 2.28.2, mmcv-full 1.7.2 with compiled ops, pycocotools;
``tests/data/side_env/make_side_venv.sh``), never detbox's own, from the repository root::

    /tmp/mmfull/bin/python tests/datasets/transforms/make_mask_transforms_golden.py

It runs ``mask_golden_cases.py``'s pipelines (seeding ``np.random`` per case) and mask method
calls with MMDetection's ``BitmapMasks`` / ``PolygonMasks``, ``LoadAnnotations`` on COCO
polygons and uncompressed RLE, and ``encode_mask_results``, and writes the gzip pickle
``data/mask_transforms_golden.pkl.gz`` (``{'cases', 'methods', 'load', 'rle', 'versions'}``).
"""

import gzip
import pickle
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

import numpy as np  # noqa: E402

import tests.datasets.transforms.mask_golden_cases as mc  # noqa: E402


def main():
    import cv2
    import mmcv
    import mmdet
    from mmdet.core.mask import BitmapMasks, PolygonMasks, encode_mask_results
    from mmdet.datasets.pipelines import Compose

    classes = (BitmapMasks, PolygonMasks)
    out = {"cases": {}, "methods": {}, "load": {}, "rle": {}}
    for name, (pipeline, _) in sorted(mc.CASES.items()):
        compose = Compose(pipeline)
        out["cases"][name] = {}
        for seed in mc.SEEDS:
            np.random.seed(seed)
            out["cases"][name][seed] = mc.summarize(compose(mc.case_input(name, seed, classes)))
    for name, (method, args, kwargs) in sorted(mc.METHODS.items()):
        for kind in ("bitmap", "polygon"):
            if name.startswith(("bitmap_", "polygon_")) and not name.startswith(kind):
                continue
            for seed in mc.SEEDS[:2]:
                masks = mc.method_input(seed, classes, kind)
                try:
                    value = mc.method_output(getattr(masks, method)(*args, **kwargs))
                except Exception as err:  # recorded: detbox must fail too
                    value = ("error", type(err).__name__)
                out["methods"][(name, kind, seed)] = value
        for kind in ("bitmap", "polygon"):
            masks = mc.method_input(0, classes, kind)
            out["methods"][("areas", kind, 0)] = np.asarray(masks.areas)
            out["methods"][("get_bboxes", kind, 0)] = masks.get_bboxes()
            out["methods"][("to_ndarray", kind, 0)] = np.asarray(masks.to_ndarray())
    for name, (cfg, with_rle) in sorted(mc.LOAD_CASES.items()):
        try:
            loaded = Compose([cfg])(mc.load_annotations_input(with_rle))
            out["load"][name] = mc.mask_summary(loaded["gt_masks"])
        except Exception as err:
            out["load"][name] = ("error", type(err).__name__)
    import pycocotools.mask as mask_util

    bitmaps = mc.method_input(0, classes, "bitmap").masks.astype(bool)
    out["rle"]["encoded"] = encode_mask_results([list(bitmaps)])
    crowd = mc.load_annotations_input(True)["ann_info"]["masks"][2]
    out["rle"]["crowd_compressed"] = mask_util.frPyObjects(crowd, 20, 24)
    out["versions"] = dict(mmdet=mmdet.__version__, mmcv=mmcv.__version__,
                           numpy=np.__version__, opencv=cv2.__version__)
    path = HERE / "data" / "mask_transforms_golden.pkl.gz"
    with open(path, "wb") as fh:
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
            pickle.dump(out, gz, protocol=4)
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
