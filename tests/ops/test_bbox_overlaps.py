"""bbox_overlaps: hand-computed IoU / IoF / GIoU, aligned and batched, empty inputs, eps."""

import pytest
import torch

from detbox.ops import bbox_overlaps

A = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0], [32.0, 32.0, 38.0, 42.0]])
B = torch.tensor([[0.0, 0.0, 10.0, 20.0], [0.0, 10.0, 10.0, 19.0], [10.0, 10.0, 20.0, 20.0]])


def test_iou_pairwise_known_values():
    # A0 vs B0: inter 100, union 100 + 200 - 100 = 200 -> 0.5; A0 vs B1: touch only -> 0
    # A1 vs B2: identical -> 1; A2 is far from everything -> 0
    expected = torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(bbox_overlaps(A, B), expected)


def test_iof_divides_by_first_area():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 0.0, 20.0, 10.0], [0.0, 0.0, 2.0, 2.0]])
    # inter 50 / area(a) 100; inter 4 / 100
    torch.testing.assert_close(bbox_overlaps(a, b, mode="iof"), torch.tensor([[0.5, 0.04]]))
    # the other way round, IoF is over b's areas: 50 / 150 and 4 / 4
    torch.testing.assert_close(bbox_overlaps(b, a, mode="iof"), torch.tensor([[1 / 3], [1.0]]))


def test_giou_known_values():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[20.0, 0.0, 30.0, 10.0], [5.0, 0.0, 15.0, 10.0]])
    # disjoint: iou 0, enclosing 30x10 = 300, union 200 -> 0 - 100 / 300
    # overlapping: iou 50 / 150, enclosing 15x10 = 150 = union -> 1/3
    torch.testing.assert_close(bbox_overlaps(a, b, mode="giou"),
                               torch.tensor([[-1 / 3, 1 / 3]]))


def test_aligned_matches_diagonal():
    for mode in ("iou", "iof", "giou"):
        aligned = bbox_overlaps(A, B, mode=mode, is_aligned=True)
        assert aligned.shape == (3,)
        torch.testing.assert_close(aligned, bbox_overlaps(A, B, mode=mode).diagonal())


def test_batch_dims():
    a = torch.stack([A, A + 1.0])  # [2, 3, 4]
    b = torch.stack([B, B + 1.0])
    out = bbox_overlaps(a, b)
    assert out.shape == (2, 3, 3)
    torch.testing.assert_close(out[0], bbox_overlaps(A, B))
    torch.testing.assert_close(out[1], bbox_overlaps(A, B))  # a shift changes nothing
    assert bbox_overlaps(a, b, is_aligned=True).shape == (2, 3)
    with pytest.raises(AssertionError, match="batch dims"):
        bbox_overlaps(a, B)


def test_empty_inputs_give_shaped_empties():
    empty, one = torch.empty(0, 4), torch.tensor([[0.0, 0.0, 10.0, 9.0]])
    assert bbox_overlaps(empty, one).shape == (0, 1)
    assert bbox_overlaps(one, empty).shape == (1, 0)
    assert bbox_overlaps(empty, empty).shape == (0, 0)
    assert bbox_overlaps(empty, empty, is_aligned=True).shape == (0,)
    assert bbox_overlaps(torch.empty(2, 0, 4), torch.empty(2, 3, 4)).shape == (2, 0, 3)


def test_eps_floors_union_and_enclosure():
    point = torch.tensor([[5.0, 5.0, 5.0, 5.0]])
    # zero-area boxes: union 0 -> eps, no NaN
    assert bbox_overlaps(point, point).item() == 0.0
    # giou of two identical points: enclosing area 0 -> eps, (eps - eps) / eps = 0
    assert bbox_overlaps(point, point, mode="giou").item() == 0.0
    tiny = torch.tensor([[0.0, 0.0, 1e-4, 1e-4]])
    # union 1e-8 is floored to eps=1e-6 (float32) -> iou 1e-8 / 1e-6
    torch.testing.assert_close(bbox_overlaps(tiny, tiny), torch.tensor([[1e-2]]))
    torch.testing.assert_close(bbox_overlaps(tiny, tiny, eps=1e-9), torch.tensor([[1.0]]))


def test_bad_mode_and_shape():
    with pytest.raises(AssertionError, match="Unsupported mode"):
        bbox_overlaps(A, B, mode="dice")
    with pytest.raises(AssertionError, match="is_aligned"):
        bbox_overlaps(A, B[:2], is_aligned=True)
    with pytest.raises(AssertionError, match="xyxy"):
        bbox_overlaps(torch.zeros(2, 3), B)
