"""Stand-in for mmcv-full's compiled extension while its C++ build is unfinished.

Only what the DETR-family reference needs runs for real: RoIAlign (forward and backward, via
torchvision's RoIAlign with mmcv's arguments) and NMS; every other op raises. DETR and
Deformable DETR use no compiled op on CPU (mmcv's MultiScaleDeformableAttention runs
multi_scale_deformable_attn_pytorch there).
"""
import torch
import torchvision


def roi_align_forward(input, rois, output, argmax_y, argmax_x, aligned_height, aligned_width,
                      spatial_scale, sampling_ratio, pool_mode, aligned):
    assert pool_mode == 1, "shim: only avg RoIAlign"
    output.copy_(torchvision.ops.roi_align(input, rois, (aligned_height, aligned_width),
                                           spatial_scale, sampling_ratio, aligned))


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input, aligned_height,
                       aligned_width, spatial_scale, sampling_ratio, pool_mode, aligned):
    assert pool_mode == 1, "shim: only avg RoIAlign"
    n, c, h, w = grad_input.shape
    grad_input.copy_(torch.ops.torchvision._roi_align_backward(
        grad_output, rois, spatial_scale, aligned_height, aligned_width, n, c, h, w,
        sampling_ratio, aligned))


def nms(boxes, scores, iou_threshold, offset):
    assert offset == 0, "shim: nms offset 0 only"
    return torchvision.ops.nms(boxes, scores, float(iou_threshold))


def get_compiler_version():
    return "shim (torchvision ops)"


def get_compiling_cuda_version():
    return "not available"


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)

    def missing(*args, **kwargs):
        raise NotImplementedError(f"mmcv._ext shim: {name} is not available")

    return missing
