"""collate: the batch layout of DEVELOPERS.md's data contract."""

import pytest
import torch

from detbox.datasets import collate
from detbox.datasets.collate import pad_stack


def train_sample(h, w, n, value):
    return dict(img=torch.full((3, h, w), float(value)),
                img_metas=dict(ori_shape=(h, w, 3), img_shape=(h, w, 3)),
                gt_bboxes=torch.zeros(n, 4), gt_labels=torch.arange(n))


def test_training_batch_pads_bottom_right_and_keeps_lists():
    batch = collate([train_sample(4, 6, 2, 1), train_sample(5, 3, 0, 2)], samples_per_gpu=2)
    img = batch["img"]
    assert img.shape == (2, 3, 5, 6) and img.dtype == torch.float32
    assert torch.all(img[0, :, :4, :6] == 1) and torch.all(img[0, :, 4:, :] == 0)
    assert torch.all(img[1, :, :5, :3] == 2) and torch.all(img[1, :, :, 3:] == 0)
    assert batch["img_metas"] == [dict(ori_shape=(4, 6, 3), img_shape=(4, 6, 3)),
                                  dict(ori_shape=(5, 3, 3), img_shape=(5, 3, 3))]
    assert [t.shape for t in batch["gt_bboxes"]] == [(2, 4), (0, 4)]
    assert [t.tolist() for t in batch["gt_labels"]] == [[0, 1], []]


def test_same_size_images_stack_unchanged():
    a, b = train_sample(4, 4, 1, 1), train_sample(4, 4, 1, 2)
    out = collate([a, b])
    assert torch.equal(out["img"], torch.stack([a["img"], b["img"]]))


def test_test_batch_is_per_augmentation():
    def sample(h, w):
        return dict(img=[torch.ones(3, h, w), torch.ones(3, h + 1, w)],
                    img_metas=[dict(flip=False, h=h), dict(flip=True, h=h)])

    batch = collate([sample(4, 4), sample(2, 6)])
    assert [t.shape for t in batch["img"]] == [(2, 3, 4, 6), (2, 3, 5, 6)]
    assert batch["img_metas"] == [[dict(flip=False, h=4), dict(flip=False, h=2)],
                                  [dict(flip=True, h=4), dict(flip=True, h=2)]]
    with pytest.raises(ValueError, match="numbers of augmentations"):
        collate([sample(4, 4), dict(img=[torch.ones(3, 4, 4)], img_metas=[{}])])


def test_semantic_seg_pads_with_255():
    out = collate([dict(gt_semantic_seg=torch.zeros(1, 2, 2, dtype=torch.uint8)),
                   dict(gt_semantic_seg=torch.zeros(1, 3, 2, dtype=torch.uint8))])
    assert out["gt_semantic_seg"][0, 0, 2].tolist() == [255, 255]


def test_mismatched_samples_and_fallback():
    with pytest.raises(ValueError, match="sample 1 of the batch has keys"):
        collate([dict(img=torch.ones(3, 2, 2)), dict(other=1)])
    with pytest.raises(ValueError, match="only the last two dimensions"):
        pad_stack([torch.ones(3, 2, 2), torch.ones(1, 2, 2)])
    assert torch.equal(collate([torch.tensor([1, 2]), torch.tensor([3, 4])]),
                       torch.tensor([[1, 2], [3, 4]]))
