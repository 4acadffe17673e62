"""scikit-learn side of test/bench/quality.ts.

usage:
  /usr/bin/python3 sklearn_quality.py export DIR
      writes DIR/<name>.csv for the public datasets scikit-learn ships (no download):
      breast_cancer, wine (classification, target = class index) and diabetes (regression)
  /usr/bin/python3 sklearn_quality.py fit TRAIN_CSV DEV_CSV TASK MODEL PARAMS_JSON
      fits scikit-learn's equivalent of an ML Loop model with the same settings on TRAIN_CSV and
      prints {"metric": dev accuracy or dev RMSE}. Columns: numeric features, `cat:<name>`
      categorical features (strings), and `target`.
"""
import csv
import json
import sys
import warnings

import numpy as np


def export(out_dir):
    from sklearn import datasets

    for name, loader in (("breast_cancer", datasets.load_breast_cancer), ("wine", datasets.load_wine), ("diabetes", datasets.load_diabetes)):
        d = loader()
        names = [f"f{j}_{str(n).replace(' ', '_')}" for j, n in enumerate(d.feature_names)]
        with open(f"{out_dir}/{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(names + ["target"])
            for row, y in zip(d.data, d.target):
                w.writerow([repr(float(v)) for v in row] + [repr(float(y)) if name == "diabetes" else int(y)])


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    num = [j for j, h in enumerate(header) if h != "target" and not h.startswith("cat:")]
    cat = [j for j, h in enumerate(header) if h.startswith("cat:")]
    t = header.index("target")
    X = np.array([[float(r[j]) if r[j] != "" else np.nan for j in num] for r in body], dtype=np.float64)
    C = np.array([[r[j] for j in cat] for r in body], dtype=object).reshape(len(body), len(cat))
    y = np.array([float(r[t]) for r in body])
    return X, C, y


def make(task, model, p, n):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    if model == "linear":
        return Ridge(alpha=p["l2"]), True
    if model == "logistic":
        # ML Loop minimizes mean log loss + l2/2·|w|²; sklearn sums the loss: C = 1 / (l2 · n).
        return LogisticRegression(C=1.0 / (p["l2"] * n), max_iter=p["maxIter"], tol=p["tol"]), True
    if model == "mlp":
        kw = dict(hidden_layer_sizes=tuple(p["hidden"]), activation=p["activation"], solver=p["optimizer"],
                  learning_rate_init=p["learningRate"], momentum=p["momentum"], batch_size=min(p["batchSize"], n),
                  max_iter=p["epochs"], alpha=p["l2"], random_state=p.get("seed", 0))
        if task == "classification":
            return MLPClassifier(**kw), True
        # Targets standardized for training, as ML Loop's MLP does.
        return TransformedTargetRegressor(regressor=MLPRegressor(**kw), transformer=StandardScaler()), True
    if model == "gbdt":
        kw = dict(max_iter=p["iterations"], learning_rate=p["learningRate"], max_depth=p["maxDepth"] or None,
                  max_leaf_nodes=p["maxLeaves"], min_samples_leaf=p["minSamplesLeaf"], l2_regularization=p["l2"],
                  max_bins=p["maxBins"], early_stopping=False, random_state=0)
        est = HistGradientBoostingClassifier(**kw) if task == "classification" else HistGradientBoostingRegressor(**kw)
        return est, False
    raise SystemExit(f"unknown model {model}")


def fit(train_csv, dev_csv, task, model, params):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    Xtr, Ctr, ytr = read(train_csv)
    Xdv, Cdv, ydv = read(dev_csv)
    est, scale = make(task, model, params, len(ytr))
    nnum, ncat = Xtr.shape[1], Ctr.shape[1]
    A = np.concatenate([Xtr.astype(object), Ctr], axis=1)
    B = np.concatenate([Xdv.astype(object), Cdv], axis=1)
    numeric = make_pipeline(SimpleImputer(), StandardScaler()) if scale else "passthrough"
    steps = [("num", numeric, list(range(nnum)))]
    if ncat:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(range(nnum, nnum + ncat))))
    pipe = make_pipeline(ColumnTransformer(steps), est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "classification":
            pipe.fit(A, ytr.astype(int))
            metric = float((pipe.predict(B) == ydv.astype(int)).mean())
        else:
            pipe.fit(A, ytr)
            metric = float(np.sqrt(np.mean((pipe.predict(B) - ydv) ** 2)))
    print(json.dumps({"metric": metric}))


if __name__ == "__main__":
    if sys.argv[1] == "export":
        export(sys.argv[2])
    else:
        fit(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], json.loads(sys.argv[6]))
