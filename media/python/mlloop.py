"""ML Loop helper for script experiments. Standard library only.

    import mlloop
    p = mlloop.params()                  # {"lr": 0.001, ...} from $MLLOOP_PARAMS
    mlloop.log(epoch, train_loss=0.41, dev_accuracy=0.93)
    mlloop.paths.train / .dev / .test    # the split CSV files ML Loop evaluates on
    mlloop.features()                    # {"numeric": [...], "categorical": [...], "target": ..., "task": ...}
                                         # image projects: {"image": {"height", "width", "channels"}, "target", "task"}
    x, y = mlloop.images("train")        # image projects: uint8 [N, C, H, W] (ML Loop's preprocessing) and
                                         # int64 [N] class indices; the model takes x / 255 as `image` float32
    mlloop.classes()                     # class names in the order of the model's score columns
    mlloop.model_path()                  # where to write model.onnx

Run outside ML Loop (no MLLOOP_* variables), params() reads --name value arguments and log()
still prints the metric lines.
"""

import json
import os
import sys

__all__ = ["params", "log", "paths", "features", "classes", "images", "model_path", "run_dir"]


def _env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run this script from ML Loop (an experiment with a \"command\")")
    return value


def _read_json(name):
    with open(_env(name), encoding="utf-8") as f:
        return json.load(f)


def _coerce(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def params(defaults=None):
    """The run's parameters: $MLLOOP_PARAMS when set, else --name value arguments; over `defaults`."""
    out = dict(defaults or {})
    if os.environ.get("MLLOOP_PARAMS"):
        out.update(_read_json("MLLOOP_PARAMS"))
        return out
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i].startswith("--") and i + 1 < len(args):
            out[args[i][2:]] = _coerce(args[i + 1])
            i += 2
        else:
            i += 1
    return out


def log(step, **metrics):
    """One metric line on stdout: log(3, train_loss=0.41, dev_accuracy=0.93)."""
    entry = {"mlloop": "metric", "step": step}
    entry.update({k: float(v) if hasattr(v, "__float__") and not isinstance(v, (int, float)) else v for k, v in metrics.items()})
    print(json.dumps(entry), flush=True)


class _Paths:
    @property
    def train(self):
        return _env("MLLOOP_TRAIN")

    @property
    def dev(self):
        return _env("MLLOOP_DEV")

    @property
    def test(self):
        return _env("MLLOOP_TEST")


paths = _Paths()


def features():
    return _read_json("MLLOOP_FEATURES")


def classes():
    return _read_json("MLLOOP_CLASSES") if os.environ.get("MLLOOP_CLASSES") else None


def images(split):
    """Image projects: (x, y) of a split ("train", "dev" or "test"): x uint8 [N, C, H, W] as ML Loop
    preprocesses the images (resized, grey or RGB), y int64 [N] class indices in classes() order, in the
    order of the split's manifest (paths.<split>). Needs NumPy."""
    import numpy as np  # only image scripts need it

    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be train, dev or test, not {split!r}")
    name = split.upper()
    return np.load(_env(f"MLLOOP_{name}_IMAGES")), np.load(_env(f"MLLOOP_{name}_LABELS"))


def run_dir():
    return _env("MLLOOP_RUN_DIR")


def model_path():
    return os.path.join(run_dir(), "model.onnx")
