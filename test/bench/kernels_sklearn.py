"""Times scikit-learn's MLPClassifier for test/bench/kernels.ts, on data it wrote as raw binary files.

usage: /usr/bin/python3 kernels_sklearn.py DATA_PREFIX EPOCHS
  DATA_PREFIX.json {"n", "d"}; DATA_PREFIX.X.f32 (n*d float32, row-major); DATA_PREFIX.y.f64 (class index)
Same settings as the ML Loop side: 64 hidden, relu, adam, batch 200, lr 0.001, alpha 1e-4, exactly
EPOCHS epochs (no stop on the training loss). Prints one JSON line:
  {"wall_ms_per_epoch", "cpu_ms_per_epoch", "epochs"}
cpu is this process's CPU time (all threads), which a shared, busy machine disturbs less than wall time.
This process must not import torch (Debian's PyTorch pins OpenMP to one thread for the whole process).
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier


def main():
    prefix, epochs = sys.argv[1], int(sys.argv[2])
    with open(prefix + ".json") as f:
        meta = json.load(f)
    X = np.fromfile(prefix + ".X.f32", dtype=np.float32).reshape(meta["n"], meta["d"])
    y = np.fromfile(prefix + ".y.f64", dtype=np.float64).astype(np.int64)
    # ML Loop standardizes inside the model; sklearn gets the same standardized input (untimed).
    mean, std = X.mean(axis=0), X.std(axis=0)
    X = ((X - mean) / np.where(std > 0, std, 1)).astype(np.float32)
    est = MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam", batch_size=200,
                        learning_rate_init=0.001, alpha=1e-4, max_iter=epochs, tol=0.0,
                        n_iter_no_change=epochs + 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        est.fit(X, y)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall_ms_per_epoch": wall * 1000 / est.n_iter_, "cpu_ms_per_epoch": cpu * 1000 / est.n_iter_, "epochs": est.n_iter_}))


if __name__ == "__main__":
    main()
