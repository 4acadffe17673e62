"""A small PyTorch CNN on the fashion sample, run by ML Loop as the `cnn` experiment.

ML Loop passes the parameters and the splits; mlloop.images(split) gives the images exactly as ML Loop
preprocesses them (uint8 [N, C, H, W]) with class indices (see mlloop.py, which ML Loop puts on
PYTHONPATH). The script logs one metric line per epoch and exports model.onnx taking `image` float32
[N, C, H, W] in [0, 1] and returning `scores` [N, classes] in the class order of MLLOOP_CLASSES; ML Loop
then evaluates that model on every split itself. The model also returns its penultimate layer as
`embedding` [N, hidden]: ML Loop's "find similar images" and embedding map use it.
"""

import mlloop
import torch
from torch import nn


def network(channels, hidden, shape, classes):
    c, h, w = shape
    layers = []
    for out in channels:
        layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c, h, w = out, h // 2, w // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(), nn.Linear(hidden, classes))


class WithEmbedding(nn.Module):
    """The network's scores and its penultimate layer (the `embedding` output of model.onnx)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        embedding = self.net[:-1](x)
        return self.net[-1](embedding), embedding


def main():
    p = mlloop.params({"lr": 0.002, "epochs": 10, "channels": [16, 32], "hidden": 64, "seed": 0})
    torch.manual_seed(int(p["seed"]))
    torch.set_num_threads(1)
    image = mlloop.features()["image"]
    classes = mlloop.classes()
    x_train, y_train = (torch.from_numpy(a) for a in mlloop.images("train"))
    x_dev, y_dev = (torch.from_numpy(a) for a in mlloop.images("dev"))
    # The model takes pixels in [0, 1], as ML Loop feeds model.onnx.
    x_train = x_train.float() / 255
    x_dev = x_dev.float() / 255

    model = network([int(c) for c in p["channels"]], int(p["hidden"]), (image["channels"], image["height"], image["width"]), len(classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(p["lr"]))
    loss_fn = nn.CrossEntropyLoss()
    epochs = int(p["epochs"])
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            dev_scores = model(x_dev)
            dev_loss = loss_fn(dev_scores, y_dev).item()
            dev_accuracy = (dev_scores.argmax(1) == y_dev).float().mean().item()
        mlloop.log(epoch, total_steps=epochs, train_loss=total / len(x_train), dev_loss=dev_loss, dev_accuracy=dev_accuracy)
    print(f"final dev accuracy {dev_accuracy:.4f}")

    torch.onnx.export(
        WithEmbedding(model),
        (x_dev[:1],),
        mlloop.model_path(),
        input_names=["image"],
        output_names=["scores", "embedding"],
        dynamic_axes={"image": {0: "N"}, "scores": {0: "N"}, "embedding": {0: "N"}},
    )


if __name__ == "__main__":
    main()
