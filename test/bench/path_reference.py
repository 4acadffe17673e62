"""The pandas + XGBoost side of test/bench/path.ts: what a Python user runs on the same CSV.

usage: /usr/bin/python3 path_reference.py DATA_CSV TARGET ITERATIONS
  read_csv (pandas' C parser), a 60/20/20 random split, XGBoost `hist` fit (the settings of ML Loop's
  GBDT: leaf-wise to 31 leaves, 255 bins, no L2, learning rate 0.1, 2 threads), prediction of dev,
  then of train and test (ML Loop evaluates every split; both totals are reported).
  prints one JSON line: per-stage seconds, "total_dev" (read + split + fit + dev prediction, the issue's
  reference), "total_all" (every split predicted), accuracies and "peak_mb" (the process's peak RSS).
This process must not import torch (Debian's PyTorch pins OpenMP to one thread for the whole process).
"""
import json
import resource
import sys
import time

start = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from xgboost import XGBClassifier  # noqa: E402


def main():
    path, target, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
    stages = {"import": time.perf_counter() - start}
    t = time.perf_counter()
    df = pd.read_csv(path)
    stages["read_csv"] = time.perf_counter() - t

    t = time.perf_counter()
    labels = pd.Categorical(df[target])
    y = labels.codes.astype(np.int32)
    X = df.drop(columns=[target]).to_numpy(dtype=np.float32)
    del df
    order = np.random.default_rng(1).permutation(len(y))
    n_dev = n_test = len(y) // 5
    dev, test, train = order[:n_dev], order[n_dev : n_dev + n_test], order[n_dev + n_test :]
    X_train, y_train = X[train], y[train]
    stages["split"] = time.perf_counter() - t

    t = time.perf_counter()
    model = XGBClassifier(
        n_estimators=iterations,
        tree_method="hist",
        grow_policy="lossguide",
        max_leaves=31,
        max_depth=0,
        learning_rate=0.1,
        max_bin=255,
        reg_lambda=0.0,
        n_jobs=2,
        random_state=0,
    )
    model.fit(X_train, y_train)
    stages["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    dev_accuracy = float((model.predict(X[dev]) == y[dev]).mean())
    stages["predict_dev"] = time.perf_counter() - t
    total_dev = stages["read_csv"] + stages["split"] + stages["fit"] + stages["predict_dev"]
    t = time.perf_counter()
    train_accuracy = float((model.predict(X_train) == y_train).mean())
    test_accuracy = float((model.predict(X[test]) == y[test]).mean())
    stages["predict_train_test"] = time.perf_counter() - t
    print(
        json.dumps(
            {
                "stages": stages,
                "total_dev": total_dev,
                "total_all": total_dev + stages["predict_train_test"],
                "wall": time.perf_counter() - start,
                "train_accuracy": train_accuracy,
                "dev_accuracy": dev_accuracy,
                "test_accuracy": test_accuracy,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
