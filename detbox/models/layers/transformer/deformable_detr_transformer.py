"""Deformable DETR's transformer and decoder (MMDetection 2.x), and ``inverse_sigmoid``.

The encoder is a ``DetrTransformerEncoder`` of ``MultiScaleDeformableAttention`` layers over
all feature levels at once (flattened and concatenated); the decoder refines reference
points layer by layer when it is given regression branches (``with_box_refine``); with
``as_two_stage`` the queries come from the encoder's top-scoring positions.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from detbox.registry import LAYERS

from ...weight_init import xavier_init
from .multi_scale_deform_attn import MultiScaleDeformableAttention
from .transformer import Transformer
from .transformer_layer_sequence import TransformerLayerSequence

__all__ = ["DeformableDetrTransformerDecoder", "DeformableDetrTransformer", "inverse_sigmoid"]


def inverse_sigmoid(x: Tensor, eps: float = 1e-5) -> Tensor:
    """``log(x / (1 - x))`` with ``x`` clamped to ``[0, 1]`` and both terms to ``>= eps``.

    >>> inverse_sigmoid(torch.tensor([0.5, 1.0])).tolist()[0]
    0.0
    """
    x = x.clamp(min=0, max=1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


@LAYERS.register_module()
class DeformableDetrTransformerDecoder(TransformerLayerSequence):
    """Decoder whose layers sample around reference points.

    Args:
        return_intermediate: return every layer's output and reference points.
        **kwargs: :class:`TransformerLayerSequence` arguments.
    """

    def __init__(self, *args, return_intermediate: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.return_intermediate = return_intermediate

    def forward(self, query: Tensor, *args, reference_points: Tensor | None = None,
                valid_ratios: Tensor | None = None, reg_branches: nn.ModuleList | None = None,
                **kwargs) -> tuple[Tensor, Tensor]:
        """Decode ``query: Tensor[num_query, bs, c]``.

        Args:
            reference_points: ``Tensor[bs, num_query, 2]`` (points) or ``[..., 4]`` (boxes,
                two-stage), normalised to the valid image.
            valid_ratios: ``Tensor[bs, num_levels, 2]``, valid fraction of each level (w, h).
            reg_branches: one regression branch per layer to refine the reference points.

        Returns:
            ``(outputs, reference_points)``: ``Tensor[num_layers, num_query, bs, c]`` and
            ``Tensor[num_layers, bs, num_query, 2 or 4]`` with ``return_intermediate``, else
            the last layer's (without the leading dim).
        """
        output = query
        intermediate, intermediate_refs = [], []
        for lid, layer in enumerate(self.layers):
            if reference_points.shape[-1] == 4:
                ref_input = reference_points[:, :, None] * torch.cat(
                    [valid_ratios, valid_ratios], -1)[:, None]
            else:
                ref_input = reference_points[:, :, None] * valid_ratios[:, None]
            output = layer(output, *args, reference_points=ref_input, **kwargs)
            output = output.permute(1, 0, 2)  # [bs, num_query, c]
            if reg_branches is not None:
                tmp = reg_branches[lid](output)
                if reference_points.shape[-1] == 4:
                    new_refs = (tmp + inverse_sigmoid(reference_points)).sigmoid()
                else:
                    new_refs = tmp
                    new_refs[..., :2] = tmp[..., :2] + inverse_sigmoid(reference_points)
                    new_refs = new_refs.sigmoid()
                reference_points = new_refs.detach()
            output = output.permute(1, 0, 2)
            if self.return_intermediate:
                intermediate.append(output)
                intermediate_refs.append(reference_points)
        if self.return_intermediate:
            return torch.stack(intermediate), torch.stack(intermediate_refs)
        return output, reference_points


@LAYERS.register_module()
class DeformableDetrTransformer(Transformer):
    """Deformable DETR's transformer over several feature levels.

    Args:
        as_two_stage: take the decoder's queries from the encoder's best proposals.
        num_feature_levels: number of feature levels (``level_embeds`` rows).
        two_stage_num_proposals: proposals kept in two-stage mode.
        **kwargs: :class:`Transformer` arguments (``encoder``, ``decoder``, ``init_cfg``).
    """

    def __init__(self, as_two_stage: bool = False, num_feature_levels: int = 4,
                 two_stage_num_proposals: int = 300, **kwargs) -> None:
        super().__init__(**kwargs)
        self.as_two_stage = as_two_stage
        self.num_feature_levels = num_feature_levels
        self.two_stage_num_proposals = two_stage_num_proposals
        self.embed_dims = self.encoder.embed_dims
        self.init_layers()

    def init_layers(self) -> None:
        """``level_embeds``, and the two-stage projections or the ``reference_points`` fc."""
        self.level_embeds = nn.Parameter(torch.empty(self.num_feature_levels, self.embed_dims))
        if self.as_two_stage:
            self.enc_output = nn.Linear(self.embed_dims, self.embed_dims)
            self.enc_output_norm = nn.LayerNorm(self.embed_dims)
            self.pos_trans = nn.Linear(self.embed_dims * 2, self.embed_dims * 2)
            self.pos_trans_norm = nn.LayerNorm(self.embed_dims * 2)
        else:
            self.reference_points = nn.Linear(self.embed_dims, 2)

    def init_weights(self) -> None:
        """Xavier-uniform matrices, deformable attentions' own init, normal level embeds."""
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MultiScaleDeformableAttention):
                m.init_weights()
        if not self.as_two_stage:
            xavier_init(self.reference_points, distribution="uniform", bias=0.0)
        nn.init.normal_(self.level_embeds)
        self._is_init = True

    def gen_encoder_output_proposals(self, memory: Tensor, memory_padding_mask: Tensor,
                                     spatial_shapes: Tensor) -> tuple[Tensor, Tensor]:
        """One proposal per encoder position: its cell centre, side ``0.05 * 2**level``.

        Args:
            memory: ``Tensor[bs, num_keys, c]``.
            memory_padding_mask: ``Tensor[bs, num_keys]``.
            spatial_shapes: ``Tensor[num_levels, 2]``.

        Returns:
            ``output_memory: Tensor[bs, num_keys, c]`` (masked, projected, normed) and
            ``output_proposals: Tensor[bs, num_keys, 4]`` (inverse-sigmoid ``cx, cy, w, h``;
            ``inf`` at padded or border positions).
        """
        n = memory.shape[0]
        proposals = []
        cur = 0
        for lvl, (h, w) in enumerate(spatial_shapes):
            h, w = int(h), int(w)
            mask = memory_padding_mask[:, cur:cur + h * w].view(n, h, w, 1)
            valid_h = torch.sum(~mask[:, :, 0, 0], 1)
            valid_w = torch.sum(~mask[:, 0, :, 0], 1)
            grid_y, grid_x = torch.meshgrid(
                torch.linspace(0, h - 1, h, dtype=torch.float32, device=memory.device),
                torch.linspace(0, w - 1, w, dtype=torch.float32, device=memory.device),
                indexing="ij")
            grid = torch.cat([grid_x.unsqueeze(-1), grid_y.unsqueeze(-1)], -1)  # [h, w, 2]
            scale = torch.cat([valid_w.unsqueeze(-1), valid_h.unsqueeze(-1)], 1).view(n, 1, 1, 2)
            grid = (grid.unsqueeze(0).expand(n, -1, -1, -1) + 0.5) / scale
            wh = torch.ones_like(grid) * 0.05 * (2.0 ** lvl)
            proposals.append(torch.cat((grid, wh), -1).view(n, -1, 4))
            cur += h * w
        output_proposals = torch.cat(proposals, 1)
        valid = ((output_proposals > 0.01) & (output_proposals < 0.99)).all(-1, keepdim=True)
        output_proposals = torch.log(output_proposals / (1 - output_proposals))
        output_proposals = output_proposals.masked_fill(memory_padding_mask.unsqueeze(-1),
                                                        float("inf"))
        output_proposals = output_proposals.masked_fill(~valid, float("inf"))
        output_memory = memory.masked_fill(memory_padding_mask.unsqueeze(-1), 0.0)
        output_memory = output_memory.masked_fill(~valid, 0.0)
        output_memory = self.enc_output_norm(self.enc_output(output_memory))
        return output_memory, output_proposals

    @staticmethod
    def get_reference_points(spatial_shapes: Tensor, valid_ratios: Tensor,
                             device: torch.device) -> Tensor:
        """Encoder reference points: every cell centre of every level.

        Args:
            spatial_shapes: ``Tensor[num_levels, 2]``.
            valid_ratios: ``Tensor[bs, num_levels, 2]``.

        Returns:
            ``Tensor[bs, num_keys, num_levels, 2]``.
        """
        refs = []
        for lvl, (h, w) in enumerate(spatial_shapes):
            h, w = int(h), int(w)
            ref_y, ref_x = torch.meshgrid(
                torch.linspace(0.5, h - 0.5, h, dtype=torch.float32, device=device),
                torch.linspace(0.5, w - 0.5, w, dtype=torch.float32, device=device),
                indexing="ij")
            ref_y = ref_y.reshape(-1)[None] / (valid_ratios[:, None, lvl, 1] * h)
            ref_x = ref_x.reshape(-1)[None] / (valid_ratios[:, None, lvl, 0] * w)
            refs.append(torch.stack((ref_x, ref_y), -1))
        reference_points = torch.cat(refs, 1)
        return reference_points[:, :, None] * valid_ratios[:, None]

    def get_valid_ratio(self, mask: Tensor) -> Tensor:
        """``mask: Tensor[bs, h, w]`` -> ``Tensor[bs, 2]``, valid fraction ``(w, h)``."""
        _, h, w = mask.shape
        valid_h = torch.sum(~mask[:, :, 0], 1)
        valid_w = torch.sum(~mask[:, 0, :], 1)
        return torch.stack([valid_w.float() / w, valid_h.float() / h], -1)

    def get_proposal_pos_embed(self, proposals: Tensor, num_pos_feats: int = 128,
                               temperature: int = 10000) -> Tensor:
        """Sine embedding of ``proposals: Tensor[bs, n, 4]`` -> ``Tensor[bs, n, 4 * feats]``."""
        scale = 2 * math.pi
        dim_t = torch.arange(num_pos_feats, dtype=torch.float32, device=proposals.device)
        dim_t = temperature ** (2 * (dim_t // 2) / num_pos_feats)
        pos = proposals.sigmoid() * scale
        pos = pos[:, :, :, None] / dim_t  # [bs, n, 4, feats]
        return torch.stack((pos[:, :, :, 0::2].sin(), pos[:, :, :, 1::2].cos()),
                           dim=4).flatten(2)

    def forward(self, mlvl_feats: list[Tensor], mlvl_masks: list[Tensor],
                query_embed: Tensor | None, mlvl_pos_embeds: list[Tensor],
                reg_branches: nn.ModuleList | None = None,
                cls_branches: nn.ModuleList | None = None, **kwargs) -> tuple:
        """Encode all levels and decode the queries.

        Args:
            mlvl_feats: per level ``Tensor[bs, c, h, w]``.
            mlvl_masks: per level ``Tensor[bs, h, w]``, True where padded.
            query_embed: ``Tensor[num_query, 2c]`` (positional half, then content half);
                ``None`` in two-stage mode.
            mlvl_pos_embeds: per level ``Tensor[bs, c, h, w]``.
            reg_branches: regression branches (box refinement / two-stage proposals).
            cls_branches: classification branches (two-stage proposals).

        Returns:
            ``(inter_states [layers, num_query, bs, c], init_reference [bs, num_query, 2|4],
            inter_references [layers, bs, num_query, 2|4], enc_outputs_class,
            enc_outputs_coord_unact)``; the last two are ``None`` unless two-stage.
        """
        if not self.as_two_stage and query_embed is None:
            raise ValueError("query_embed is required unless as_two_stage")
        feat_flatten, mask_flatten, pos_flatten, shapes = [], [], [], []
        for lvl, (feat, mask, pos_embed) in enumerate(zip(mlvl_feats, mlvl_masks,
                                                          mlvl_pos_embeds)):
            bs, c, h, w = feat.shape
            shapes.append((h, w))
            feat_flatten.append(feat.flatten(2).transpose(1, 2))
            mask_flatten.append(mask.flatten(1))
            pos_flatten.append(pos_embed.flatten(2).transpose(1, 2)
                               + self.level_embeds[lvl].view(1, 1, -1))
        feat_flatten = torch.cat(feat_flatten, 1)
        mask_flatten = torch.cat(mask_flatten, 1)
        pos_flatten = torch.cat(pos_flatten, 1)
        spatial_shapes = torch.as_tensor(shapes, dtype=torch.long, device=feat_flatten.device)
        level_start_index = torch.cat((spatial_shapes.new_zeros((1,)),
                                       spatial_shapes.prod(1).cumsum(0)[:-1]))
        valid_ratios = torch.stack([self.get_valid_ratio(m) for m in mlvl_masks], 1)
        reference_points = self.get_reference_points(spatial_shapes, valid_ratios,
                                                     device=feat_flatten.device)
        memory = self.encoder(
            query=feat_flatten.permute(1, 0, 2), key=None, value=None,
            query_pos=pos_flatten.permute(1, 0, 2), query_key_padding_mask=mask_flatten,
            spatial_shapes=spatial_shapes, reference_points=reference_points,
            level_start_index=level_start_index, valid_ratios=valid_ratios, **kwargs)
        memory = memory.permute(1, 0, 2)  # [bs, num_keys, c]
        bs, _, c = memory.shape
        enc_outputs_class = enc_outputs_coord_unact = None
        if self.as_two_stage:
            output_memory, output_proposals = self.gen_encoder_output_proposals(
                memory, mask_flatten, spatial_shapes)
            enc_outputs_class = cls_branches[self.decoder.num_layers](output_memory)
            enc_outputs_coord_unact = (reg_branches[self.decoder.num_layers](output_memory)
                                       + output_proposals)
            # the first class channel scores "object" (its targets are all label 0)
            topk = torch.topk(enc_outputs_class[..., 0], self.two_stage_num_proposals, dim=1)[1]
            topk_coords_unact = torch.gather(enc_outputs_coord_unact, 1,
                                             topk.unsqueeze(-1).repeat(1, 1, 4)).detach()
            reference_points = topk_coords_unact.sigmoid()
            init_reference_out = reference_points
            # MMDetection always uses 128 features per coordinate, which only fits
            # embed_dims=256; embed_dims // 2 is the same there and fits any width
            pos_trans_out = self.pos_trans_norm(self.pos_trans(self.get_proposal_pos_embed(
                topk_coords_unact, num_pos_feats=self.embed_dims // 2)))
            query_pos, query = torch.split(pos_trans_out, c, dim=2)
        else:
            query_pos, query = torch.split(query_embed, c, dim=1)
            query_pos = query_pos.unsqueeze(0).expand(bs, -1, -1)
            query = query.unsqueeze(0).expand(bs, -1, -1)
            reference_points = self.reference_points(query_pos).sigmoid()
            init_reference_out = reference_points
        inter_states, inter_references = self.decoder(
            query=query.permute(1, 0, 2), key=None, value=memory.permute(1, 0, 2),
            query_pos=query_pos.permute(1, 0, 2), key_padding_mask=mask_flatten,
            reference_points=reference_points, spatial_shapes=spatial_shapes,
            level_start_index=level_start_index, valid_ratios=valid_ratios,
            reg_branches=reg_branches, **kwargs)
        return (inter_states, init_reference_out, inter_references, enc_outputs_class,
                enc_outputs_coord_unact)
