"""Times one scikit-learn fit for test/bench/train.ts, on data it wrote as raw binary files.

usage: /usr/bin/python3 sklearn_train.py MODEL DATA_PREFIX [HELDOUT_PREFIX]   (test/bench/train.ts)
  MODEL: mlp | gbdt | logistic | xgboost (settings matching the ML Loop run, see train.ts; xgboost is
  XGBoost's `hist` trees on 2 threads, the GBDT's reference beside scikit-learn's)
  prints one JSON line: {"seconds", "cpu_seconds", "predict_seconds", "train_accuracy", "peak_mb"}
  and "heldout_accuracy" when HELDOUT_PREFIX is given (rows the fit never saw)
usage: /usr/bin/python3 sklearn_train.py DATA_PREFIX EPOCHS       (test/bench/kernels.ts)
  the MLP for exactly EPOCHS epochs; prints {"wall_ms_per_epoch", "cpu_ms_per_epoch"}
DATA_PREFIX.json {"n", "d"}; DATA_PREFIX.X.f32 (n*d float32, row-major); DATA_PREFIX.y.f64 (class index).
This process must not import torch (Debian's PyTorch pins OpenMP to one thread for the whole process).
"""
import json
import resource
import sys
import time
import warnings

import numpy as np


def load(prefix):
    with open(prefix + ".json") as f:
        meta = json.load(f)
    X = np.fromfile(prefix + ".X.f32", dtype=np.float32).reshape(meta["n"], meta["d"])
    y = np.fromfile(prefix + ".y.f64", dtype=np.float64).astype(np.int64)
    return X, y


def make(model, n, epochs=50):
    if model == "mlp":
        from sklearn.neural_network import MLPClassifier
        # Exactly `epochs` epochs: no early stop on the training loss either.
        return MLPClassifier(hidden_layer_sizes=(64,), activation="relu", solver="adam", batch_size=200,
                             learning_rate_init=0.001, alpha=1e-4, max_iter=epochs, n_iter_no_change=epochs,
                             tol=0.0, random_state=0)
    if model == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier
        return HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, learning_rate=0.1,
                                              min_samples_leaf=20, l2_regularization=0.0, max_bins=255,
                                              early_stopping=False, random_state=0)
    if model == "xgboost":
        from xgboost import XGBClassifier
        # Leaf-wise growth to 31 leaves like ML Loop's, 255 bins, no L2 (ML Loop's l2 0), two threads
        # (the machine's cores). XGBoost's default depth limit (6) is kept, as in the figures:
        # without it (max_depth=0) its fit measured 2.4x and its prediction 2.4x slower here, for
        # the same accuracy within 0.1 point.
        return XGBClassifier(n_estimators=100, tree_method="hist", grow_policy="lossguide", max_leaves=31,
                             learning_rate=0.1, max_bin=255, reg_lambda=0.0, n_jobs=2, random_state=0)
    if model == "logistic":
        from sklearn.linear_model import LogisticRegression
        # ML Loop's l2 (default 0.001) on the mean loss is C = 1 / (l2 * n) on sklearn's summed loss.
        return LogisticRegression(solver="lbfgs", C=1.0 / (0.001 * n), max_iter=100, tol=1e-4)
    raise SystemExit(f"unknown model {model}")


def mlp_per_epoch(prefix, epochs):
    X, y = load(prefix)
    est = make("mlp", len(y), epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, c = time.perf_counter(), time.process_time()
        est.fit(X, y)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"wall_ms_per_epoch": 1000 * wall / epochs, "cpu_ms_per_epoch": 1000 * cpu / epochs}))


def main():
    if sys.argv[1] not in ("mlp", "gbdt", "logistic", "xgboost"):
        return mlp_per_epoch(sys.argv[1], int(sys.argv[2]))
    model, prefix = sys.argv[1], sys.argv[2]
    X, y = load(prefix)
    est = make(model, len(y))
    if model in ("logistic", "mlp"):
        # ML Loop standardizes inside these models (its timed fit includes learning the scaling):
        # sklearn does the same work as a StandardScaler in front of the estimator (without it, its
        # MLP trains on the raw scale and reaches a lower accuracy in the same epochs).
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        est = make_pipeline(StandardScaler(), est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, c = time.perf_counter(), time.process_time()
        est.fit(X, y)
        seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    pred = est.predict(X)
    predict_seconds = time.perf_counter() - t
    acc = float((pred == y).mean())
    # Peak before the held-out rows are read: the same point as ML Loop's figure.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, "predict_seconds": predict_seconds, "train_accuracy": acc, "peak_mb": peak_mb}
    if len(sys.argv) > 3:
        Xh, yh = load(sys.argv[3])
        result["heldout_accuracy"] = float((est.predict(Xh) == yh).mean())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
