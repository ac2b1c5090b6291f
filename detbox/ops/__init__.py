"""Box operations and NMS on top of torchvision.ops."""
