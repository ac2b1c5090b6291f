"""Training converges on real data: a short BCCD fine-tune beats the untrained detector.

Uses the BCCD folder beside the repository (``<repo>/../shared/data/bccd/BCCD``), which CI
has and a fresh clone does not: the test is skipped, saying so, only when that folder is
missing.
"""

import json

import pytest
import torch

from tests.conftest import REPO

BCCD = REPO.parent / "shared" / "data" / "bccd"
CONFIG = REPO / "configs" / "bccd" / "atss_mobilenetv2_fpn_bccd.py"
CLASSES = ["RBC", "WBC", "Platelets"]


def untrained_map50(opts: dict) -> float:
    """``bbox_mAP_50`` on the config's val set of the detector as training starts it."""
    from detbox.apis import load_config
    from detbox.datasets import build_dataset
    from detbox.datasets.builder import build_dataloader
    from detbox.engine import set_random_seed
    from detbox.evaluation import single_gpu_test
    from detbox.models.builder import build_detector

    cfg = load_config(str(CONFIG), opts)
    set_random_seed(0)
    model = build_detector(cfg.model)
    model.init_weights()  # ImageNet backbone, freshly initialised neck and head
    dataset = build_dataset(dict(cfg.data.val, test_mode=True))
    loader = build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=0, dist=False,
                              shuffle=False)
    results = single_gpu_test(model.eval(), loader)
    return dataset.evaluate(results, metric="bbox")["bbox_mAP_50"]


@pytest.mark.slow
@pytest.mark.skipif(not (BCCD / "BCCD" / "Annotations").is_dir(),
                    reason=f"BCCD data set not found at {BCCD}/BCCD (VOC layout); CI provides "
                           "it, a fresh clone does not")
def test_bccd_finetune_beats_untrained(tmp_path):
    from detbox.apis.train_tool import run_train
    from detbox.datasets.converters import save_json, voc_to_coco

    anns = {}
    for split in ("train", "test"):
        anns[split] = str(tmp_path / f"{split}.json")
        save_json(voc_to_coco(BCCD / "BCCD", split=split, classes=CLASSES), anns[split])
    prefix = str(BCCD / "BCCD") + "/"
    scale = (320, 240)
    opts = {
        "data.train.ann_file": anns["train"], "data.train.img_prefix": prefix,
        "data.val.ann_file": anns["test"], "data.val.img_prefix": prefix,
        "data.train.pipeline.2.img_scale": scale, "data.val.pipeline.1.img_scale": scale,
        "runner.max_epochs": 4,
        "lr_config": dict(policy="step", warmup="linear", warmup_iters=50, warmup_ratio=0.01,
                          step=[3]),
        "evaluation.classwise": False,
        "checkpoint_config.interval": 100,
    }
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the data loader's worker has the other core
    try:
        before = untrained_map50(opts)
        run_train(str(CONFIG), work_dir=str(tmp_path / "work"), seed=0, cfg_options=opts)
    finally:
        torch.set_num_threads(threads)

    (log,) = (tmp_path / "work").glob("*.log.json")
    records = [json.loads(line) for line in log.read_text().splitlines()[1:]]
    val = [r for r in records if r.get("mode") == "val"]
    assert [r["epoch"] for r in val] == [1, 2, 3, 4], f"expected an evaluation per epoch: {val}"
    after = val[-1]["bbox_mAP_50"]
    assert after > before + 0.2, f"BCCD test bbox_mAP_50: {before} untrained, {after} trained"
    assert after > 0.5, f"BCCD test bbox_mAP_50 after 4 epochs: {after}"
