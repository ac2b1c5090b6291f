"""``BucketingBBoxCoder`` (SABL): MMDetection 2.28.2's outputs, round trip and contracts.

``coder.npz`` in ``tests/data/mmdet_reference_sabl/`` holds MMDetection's encode / decode
outputs on seeded random boxes for four settings (``make_reference.py``'s ``CODER_CASES``).
"""

import numpy as np
import pytest
import torch

from detbox.models.task_modules.coders import BucketingBBoxCoder, bbox2bucket, bucket2bbox
from detbox.registry import TASK_UTILS
from tests.conftest import DATA

REF = np.load(DATA / "mmdet_reference_sabl" / "coder.npz")
# (num_buckets, scale_factor, offset_topk, offset_upperbound, cls_ignore_neighbor, clip_border)
CASES = (
    (14, 3.0, 2, 1.0, True, True),
    (14, 1.7, 2, 1.0, True, True),
    (7, 1.3, 3, 0.5, False, True),
    (8, 1.0, 1, 1.0, True, False),
)


def make_coder(case):
    buckets, scale, topk, upper, ignore, clip = CASES[case]
    return TASK_UTILS.build(dict(type="BucketingBBoxCoder", num_buckets=buckets,
                                 scale_factor=scale, offset_topk=topk, offset_upperbound=upper,
                                 cls_ignore_neighbor=ignore, clip_border=clip))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_encode_equals_mmdetection(case):
    coder = make_coder(case)
    encoded = coder.encode(torch.from_numpy(REF["proposals"]), torch.from_numpy(REF["gts"]))
    names = ("offsets", "offset_weights", "bucket_labels", "cls_weights")
    side = int(np.ceil(CASES[case][0] / 2))
    for name, ours in zip(names, encoded):
        expected = REF[f"case{case}/{name}"]
        assert ours.shape == (len(REF["gts"]), 4 * side) == expected.shape
        np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_decode_equals_mmdetection(case):
    coder = make_coder(case)
    preds = (torch.from_numpy(REF[f"case{case}/cls_preds"]),
             torch.from_numpy(REF[f"case{case}/offset_preds"]))
    bboxes, confidence = coder.decode(torch.from_numpy(REF["proposals"]), preds,
                                      max_shape=tuple(REF["max_shape"]))
    np.testing.assert_allclose(bboxes.numpy(), REF[f"case{case}/bboxes"], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(confidence.numpy(), REF[f"case{case}/confidence"], rtol=1e-6)


def test_decoding_the_targets_gives_the_ground_truths_back():
    # the bucket labels as confident logits and the offset targets decode to the targets
    # (within the rescaled proposal, where a nearest bucket exists)
    proposals = torch.tensor([[10.0, 20.0, 50.0, 60.0], [0.0, 0.0, 30.0, 90.0]])
    gts = torch.tensor([[14.0, 18.0, 47.0, 66.0], [3.0, 10.0, 25.0, 80.0]])
    coder = BucketingBBoxCoder(num_buckets=14, scale_factor=1.7, clip_border=False)
    offsets, offset_weights, labels, cls_weights = coder.encode(proposals, gts)
    assert labels.view(2, 4, 7).sum(-1).eq(1).all()  # one bucket per side
    assert (offset_weights * labels == labels).all()  # the nearest bucket's offset is trained
    assert (cls_weights[labels.bool()] == 1).all()
    bboxes, confidence = coder.decode(proposals, (labels * 20 - 10, offsets))
    torch.testing.assert_close(bboxes, gts, rtol=0, atol=1e-4)
    torch.testing.assert_close(confidence, torch.ones(2), rtol=0, atol=1e-6)


def test_decode_clips_to_the_image_minus_one():
    proposals = torch.tensor([[0.0, 0.0, 100.0, 100.0]])
    cls_preds = torch.zeros(1, 28)
    cls_preds[:, 0::7] = 10.0  # the outermost bucket of every side
    offsets = torch.zeros(1, 28)
    offsets[:, 7] = -5.0  # right side pushed outwards by 5 bucket widths
    bboxes, _ = bucket2bbox(proposals, cls_preds, offsets, 14, 1.0, max_shape=(50, 60))
    assert bboxes[0, 2] == 59 and bboxes[0, 3] == 49 and bboxes[0, 0] > 0


def test_neighbouring_second_bucket_adds_to_the_confidence():
    proposals = torch.tensor([[0.0, 0.0, 14.0, 14.0]])
    offsets = torch.zeros(1, 28)
    cls_preds = torch.full((1, 28), -10.0)
    cls_preds[:, 0::7] = 1.0  # best bucket 0 on every side
    near = cls_preds.clone()
    near[:, 1::7] = 0.5  # second best: the neighbour
    far = cls_preds.clone()
    far[:, 3::7] = 0.5  # second best: not a neighbour
    _, conf_near = bucket2bbox(proposals, near, offsets, 14)
    _, conf_far = bucket2bbox(proposals, far, offsets, 14)
    best = torch.softmax(far.view(4, 7), 1)[:, 0]
    torch.testing.assert_close(conf_far, best.mean().view(1))
    assert conf_near > conf_far


def test_bad_input_is_named():
    with pytest.raises(AssertionError, match="bbox2bucket"):
        bbox2bucket(torch.zeros(2, 4), torch.zeros(3, 4), 14, 1.0)
    coder = BucketingBBoxCoder(14, 1.0)
    with pytest.raises(AssertionError, match="pred_bboxes"):
        coder.decode(torch.zeros(2, 4), (torch.zeros(2, 28),))
