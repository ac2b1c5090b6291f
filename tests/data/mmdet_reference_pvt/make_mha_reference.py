"""Record mmcv 1.7.2's ``MultiheadAttention`` outputs -> ``mha_reference.npz``.

    /tmp/mmfull/bin/python tests/data/mmdet_reference_pvt/make_mha_reference.py

One module (``embed_dims=8, num_heads=2``) with seeded weights, in eval mode, called the ways
DETR-style transformers call it; ``CASES`` names each call's arguments. Stored: the inputs
(``in/*``), the weights (``w/*``) and each case's output (``out/<case>``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# case -> (batch_first, keyword arguments by input name)
CASES = {
    "self": (False, dict(query="q")),
    "self_pos": (False, dict(query="q", query_pos="qp")),
    "cross_pos_masks": (False, dict(query="q", key="k", value="v", query_pos="qp",
                                    key_pos="kp", attn_mask="mask", key_padding_mask="kpm")),
    "cross_identity": (False, dict(query="q", key="k", value="v", identity="ident")),
    "batch_first_cross": (True, dict(query="q_bf", key="k_bf", value="v_bf", key_pos="kp_bf")),
}


def inputs():
    """Seeded inputs (NumPy): sequence-first ``[n, bs, 8]`` and batch-first ``[bs, n, 8]``."""
    rng = np.random.RandomState(3)
    out = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in (
        ("q", (5, 2, 8)), ("qp", (5, 2, 8)), ("k", (7, 2, 8)), ("kp", (7, 2, 8)),
        ("v", (7, 2, 8)), ("ident", (5, 2, 8)))}
    for name in ("q", "k", "v", "kp"):
        out[f"{name}_bf"] = np.ascontiguousarray(out[name].transpose(1, 0, 2))
    kpm = np.zeros((2, 7), dtype=bool)
    kpm[1, 5:] = True
    mask = np.zeros((5, 7), dtype=bool)
    mask[0, 0] = mask[3, 6] = True
    out.update(kpm=kpm, mask=mask)
    return out


def main():
    import torch
    from mmcv.cnn.bricks.transformer import MultiheadAttention

    torch.manual_seed(0)
    arrays = inputs()
    npz = {f"in/{k}": v for k, v in arrays.items()}
    weights = None
    for case, (batch_first, kwargs) in CASES.items():
        attn = MultiheadAttention(8, 2, batch_first=batch_first).eval()
        if weights is None:
            with torch.no_grad():
                for p in attn.parameters():
                    p.normal_(0, 0.5)
            weights = {k: v.clone() for k, v in attn.state_dict().items()}
        attn.load_state_dict(weights)
        with torch.no_grad():
            out = attn(**{k: torch.from_numpy(arrays[v]) for k, v in kwargs.items()})
        npz[f"out/{case}"] = out.numpy()
    npz.update({f"w/{k}": v.numpy() for k, v in weights.items()})
    np.savez_compressed(HERE / "mha_reference.npz", **npz)
    print(sorted(npz))


if __name__ == "__main__":
    main()
