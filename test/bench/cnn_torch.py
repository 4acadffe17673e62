"""PyTorch's side of bench:cnn (test/bench/cnn.ts): the same CNN, optimiser, batch size and data, on
Debian's python3-torch with torch.set_num_threads(THREADS).

    /usr/bin/python3 test/bench/cnn_torch.py EPOCHS ROWS THREADS [IN_FIFO OUT_FIFO]

With two FIFOs (bench:cnn's interleaved run), it writes "ready" to OUT_FIFO once the data is loaded,
then waits for a line on IN_FIFO before each epoch and before the test, and writes its JSON lines to
OUT_FIFO: the two trainers take turns epoch by epoch, so a slow spell of the shared machine falls on
both. Without them it runs straight through, printing to stdout.

Reads Fashion-MNIST's IDX files from /usr/share/datasets/fashion-mnist, trains
Conv(32, 3×3, padding 1)-ReLU-MaxPool(2)-Conv(64)-ReLU-MaxPool(2)-Linear(128)-ReLU-Linear(10) with
Adam (lr 1e-3), batch 64, on the first ROWS training images for EPOCHS epochs, and prints one JSON
line per epoch (wall and CPU seconds) and a last one with the test accuracy and the peak RSS.
"""

import gzip
import json
import resource
import sys
import time

import numpy as np
import torch
from torch import nn

DIR = "/usr/share/datasets/fashion-mnist"


def idx(part):
    with gzip.open(f"{DIR}/{part}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DIR}/{part}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    epochs, rows, threads = (int(a) for a in sys.argv[1:4])
    fifos = sys.argv[4:6]
    out = open(fifos[1], "w") if fifos else sys.stdout
    turns = None

    def emit(record):
        out.write(json.dumps(record) + "\n")
        out.flush()

    def wait_turn():
        nonlocal turns
        if not fifos:
            return
        if turns is None:
            turns = open(fifos[0])
        if not turns.readline():
            sys.exit(0)  # the benchmark is gone

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = idx("train")
    x, y = x[:rows], y[:rows]
    x_test, y_test = idx("t10k")
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    if fifos:
        emit("ready")
    for epoch in range(1, epochs + 1):
        wait_turn()
        t, c = time.perf_counter(), cpu()
        model.train()
        order = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(order), 64):
            idx_ = order[start : start + 64]
            optimizer.zero_grad()
            loss = loss_fn(model(x[idx_]), y[idx_])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx_)
        emit({"epoch": epoch, "seconds": time.perf_counter() - t, "cpu": cpu() - c, "trainLoss": total / len(x)})
    wait_turn()
    model.eval()
    with torch.no_grad():
        hits = sum((model(x_test[s : s + 1000]).argmax(1) == y_test[s : s + 1000]).sum().item() for s in range(0, len(x_test), 1000))
    emit({"testAccuracy": hits / len(x_test), "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__})


if __name__ == "__main__":
    main()
