"""Writes cnn-torch-fixture.json: a small CNN's logits, loss and gradients computed by PyTorch, against
which test/unit/train/cnn.test.ts checks ML Loop's CNN engine (the test itself needs no torch).

    /usr/bin/python3 test/unit/train/cnn-torch-fixture.py

Inputs and weights are a formula both sides compute (value(k, seed) below), so only PyTorch's
results are stored. Architecture: 3 × 6 × 5 images, blocks [4, 6], dense [5], 3 classes, 4 images.
"""

import json
import math
import os

import torch
from torch import nn


def value(k, seed, scale):
    return scale * math.sin(0.7 * k + seed)


def tensor(shape, seed, scale):
    n = math.prod(shape)
    return torch.tensor([value(k, seed, scale) for k in range(n)], dtype=torch.float32).reshape(shape)


def main():
    torch.manual_seed(0)
    N, C, H, W = 4, 3, 6, 5
    labels = [0, 2, 1, 2]
    x = torch.tensor([((k * 37) % 101) / 100 for k in range(N * C * H * W)], dtype=torch.float32).reshape(N, C, H, W)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(6 * 1 * 1, 5), nn.ReLU(), nn.Linear(5, 3),
    )
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for i, m in enumerate(layers):
            # Dense weights as ONNX Gemm takes them, [in, out]: PyTorch's weight transposed.
            if isinstance(m, nn.Linear):
                m.weight.copy_(tensor((m.in_features, m.out_features), 10 * i + 1, 0.5).t())
            else:
                m.weight.copy_(tensor(tuple(m.weight.shape), 10 * i + 1, 0.5))
            m.bias.copy_(tensor(tuple(m.bias.shape), 10 * i + 2, 0.1))
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    out = {
        "shape": [N, C, H, W],
        "channels": [4, 6],
        "dense": [5],
        "classes": 3,
        "labels": labels,
        "logits": logits.detach().flatten().tolist(),
        "loss": loss.item(),
        "grads": [
            {
                "weight": (m.weight.grad.t() if isinstance(m, nn.Linear) else m.weight.grad).flatten().tolist(),
                "bias": m.bias.grad.flatten().tolist(),
            }
            for m in layers
        ],
        "torch": torch.__version__,
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cnn-torch-fixture.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
