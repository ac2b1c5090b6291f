import logging
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset

from detbox.evaluation import multi_gpu_test, single_gpu_test
from detbox.evaluation.inference_loop import collect_results, tensor2imgs

NORM = dict(mean=[100.0, 110.0, 120.0], std=[2.0, 4.0, 8.0], to_rgb=True)


class TinyTestSet(Dataset):
    """Test samples as the pipeline gives them: ``img`` / ``img_metas`` lists (one aug)."""

    PALETTE = [(1, 2, 3)]

    def __init__(self, n=5):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        meta = dict(ori_filename=f"img_{i}.jpg", img_shape=(4, 6, 3), ori_shape=(8, 12, 3),
                    img_norm_cfg=NORM)
        return dict(img=[torch.full((3, 4, 6), float(i))], img_metas=[meta])


def collate(samples):
    return dict(img=[torch.stack([s["img"][0] for s in samples])],
                img_metas=[[s["img_metas"][0] for s in samples]])


class FakeDetector(torch.nn.Module):
    """Returns, per image, ``[ndarray[1, 5]]`` whose score is the image's pixel value."""

    def __init__(self):
        super().__init__()
        self.calls = []
        self.shown = []

    def forward(self, img, img_metas, return_loss=True, rescale=False):
        self.calls.append(dict(return_loss=return_loss, rescale=rescale, training=self.training,
                               grad=torch.is_grad_enabled(), batch=img[0].shape[0]))
        return [[np.array([[0, 0, 1, 1, float(x[0, 0, 0])]], dtype=np.float32)]
                for x in img[0]]

    def show_result(self, img, result, **kwargs):
        self.shown.append((img, result, kwargs))


def test_single_gpu_test_runs_in_eval_mode_without_grad_in_order(caplog):
    model = FakeDetector()
    loader = DataLoader(TinyTestSet(5), batch_size=2, collate_fn=collate)
    with caplog.at_level(logging.INFO, logger="detbox.evaluation.inference_loop"):
        results = single_gpu_test(model, loader)
    assert [r[0][0, 4] for r in results] == [0, 1, 2, 3, 4]
    assert [c["batch"] for c in model.calls] == [2, 2, 1]
    assert all(c == dict(c, return_loss=False, rescale=True, training=False, grad=False)
               for c in model.calls)
    # not a terminal under pytest: plain progress lines
    assert "test: [5/5]" in caplog.text


def test_single_gpu_test_show_writes_denormalised_original_size_images(tmp_path):
    model = FakeDetector()
    loader = DataLoader(TinyTestSet(2), batch_size=2, collate_fn=collate)
    single_gpu_test(model, loader, out_dir=str(tmp_path), show_score_thr=0.5)
    assert len(model.shown) == 2
    img, result, kwargs = model.shown[1]
    assert img.shape == (8, 12, 3) and img.dtype == np.uint8
    # pixel 1 -> 1 * std + mean (RGB) = (102, 114, 128), shown as BGR
    assert img[0, 0].tolist() == [128, 114, 102]
    assert result[0][0, 4] == 1
    assert kwargs["out_file"] == os.path.join(str(tmp_path), "img_1.jpg")
    assert kwargs["score_thr"] == 0.5 and kwargs["bbox_color"] == [(1, 2, 3)]
    assert kwargs["show"] is False


def test_tensor2imgs_without_rgb_swap_and_clipping():
    t = torch.tensor([[[[-200.0]], [[0.0]], [[300.0]]]])
    (img,) = tensor2imgs(t, mean=(0, 0, 0), std=(1, 1, 1), to_rgb=False)
    assert img.tolist() == [[[0, 0, 255]]]
    with pytest.raises(ValueError, match="Tensor"):
        tensor2imgs(torch.zeros(3, 2, 2))


def test_collect_results_interleaves_ranks_and_drops_padding():
    # 5 images over 2 ranks: rank 0 has 0, 2, 4; rank 1 has 1, 3 and a padded copy of 0
    assert collect_results([[0, 2, 4], [1, 3, 0]], 5) == [0, 1, 2, 3, 4]
    assert collect_results([[0, 3], [1, 4], [2]], 5) == [0, 1, 2, 3, 4]


def test_multi_gpu_test_single_process_group(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0,
                            world_size=1)
    try:
        loader = DataLoader(TinyTestSet(3), batch_size=2, collate_fn=collate)
        results = multi_gpu_test(FakeDetector(), loader, tmpdir=str(tmp_path), gpu_collect=True)
    finally:
        dist.destroy_process_group()
    assert [r[0][0, 4] for r in results] == [0, 1, 2]


def _worker(rank, store, out):
    from torch.utils.data import DistributedSampler

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        ds = TinyTestSet(5)
        loader = DataLoader(ds, batch_size=2, collate_fn=collate,
                            sampler=DistributedSampler(ds, shuffle=False))
        results = multi_gpu_test(FakeDetector(), loader)
        torch.save(results, f"{out}_{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_multi_gpu_test_two_ranks_gives_dataset_order(tmp_path):
    import torch.multiprocessing as mp

    # fork: the children share this process's imports (spawn would re-import torch: ~10 s)
    mp.start_processes(_worker, args=(str(tmp_path / "store"), str(tmp_path / "out")),
                       nprocs=2, start_method="fork")
    rank0 = torch.load(tmp_path / "out_0.pt", weights_only=False)
    rank1 = torch.load(tmp_path / "out_1.pt", weights_only=False)
    assert [r[0][0, 4] for r in rank0] == [0, 1, 2, 3, 4]
    assert rank1 is None
