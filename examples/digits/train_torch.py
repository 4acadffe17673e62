"""A PyTorch MLP on the digits sample, run by ML Loop as the `torch-mlp` experiment.

ML Loop passes the parameters, the split CSV files and the feature/class order (see mlloop.py, which
ML Loop puts on PYTHONPATH); the script logs one metric line per epoch and exports model.onnx taking
`features` float32 [N, 64] and returning `scores` [N, 10] in the class order of MLLOOP_CLASSES.
"""

import csv

import mlloop
import torch
from torch import nn


def load(path, columns, target, class_index):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    x = torch.tensor([[float(r[c]) for c in columns] for r in rows], dtype=torch.float32)
    y = torch.tensor([class_index[r[target]] for r in rows], dtype=torch.long)
    return x, y


def main():
    p = mlloop.params({"lr": 0.01, "epochs": 30, "hidden": 64, "seed": 0})
    torch.manual_seed(int(p["seed"]))
    torch.set_num_threads(1)
    spec = mlloop.features()
    classes = mlloop.classes()
    class_index = {c: i for i, c in enumerate(classes)}
    columns = spec["numeric"]
    x_train, y_train = load(mlloop.paths.train, columns, spec["target"], class_index)
    x_dev, y_dev = load(mlloop.paths.dev, columns, spec["target"], class_index)

    # Pixel values are 0..16: scaling is part of the model, so the exported graph takes raw features.
    model = nn.Sequential(
        nn.Linear(len(columns), int(p["hidden"])),
        nn.ReLU(),
        nn.Linear(int(p["hidden"]), len(classes)),
    )
    scale = 1.0 / 16.0
    optimizer = torch.optim.Adam(model.parameters(), lr=float(p["lr"]))
    loss_fn = nn.CrossEntropyLoss()
    epochs = int(p["epochs"])
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx] * scale), y_train[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            dev_scores = model(x_dev * scale)
            dev_loss = loss_fn(dev_scores, y_dev).item()
            dev_accuracy = (dev_scores.argmax(1) == y_dev).float().mean().item()
        mlloop.log(epoch, total_steps=epochs, train_loss=total / len(x_train), dev_loss=dev_loss, dev_accuracy=dev_accuracy)
    print(f"final dev accuracy {dev_accuracy:.4f}")

    class Exported(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, features):
            return self.net(features * scale)

    torch.onnx.export(
        Exported(model),
        (x_dev[:1],),
        mlloop.model_path(),
        input_names=["features"],
        output_names=["scores"],
        dynamic_axes={"features": {0: "N"}, "scores": {0: "N"}},
    )


if __name__ == "__main__":
    main()
