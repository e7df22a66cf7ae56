#!/usr/bin/env python3
"""Models trained by Python's xgboost, for tests/models/model_import_test.cc (run by the test, at test time).

For each objective (binary:logistic, multi:softprob with 3 classes, reg:squarederror), trained on data with
NaNs, writes into OUT_DIR:
  <case>.json, <case>.ubj, <case>.xgb   the same booster in xgboost's three formats
  <case>_noext                           the legacy binary without an extension
  <case>.rows.f32                        test rows (float32, row-major, NaN = missing)
  <case>.pred.f32                        xgboost's own predictions on them (float32, row-major)
  <case>.shape                           "rows cols outputs num_feature"
The binary model carries feature names; the other two do not (the import must then find them elsewhere).
"""
import sys
import warnings

import numpy as np
import xgboost as xgb

warnings.simplefilter("ignore")  # xgboost warns that the legacy binary format is deprecated


def data(rng, rows, cols, kind):
    x = rng.normal(size=(rows, cols)).astype(np.float32)
    x[:, ::3] = np.round(x[:, ::3] * 4) / 4  # ties with split thresholds
    score = x @ np.linspace(-1.5, 1.5, cols).astype(np.float32)
    x[rng.random(size=x.shape) < 0.2] = np.nan
    if kind == "binary":
        y = (score + rng.normal(size=rows) > 0).astype(np.float32)
    elif kind == "multi":
        y = (np.abs((score * 2).astype(np.int64)) % 3).astype(np.float32)
    else:
        y = (score + rng.normal(size=rows)).astype(np.float32)
    return x, y


def main(out):
    rng = np.random.default_rng(7)
    cases = {
        "binary": ({"objective": "binary:logistic", "max_depth": 5, "eta": 0.3}, 8),
        "multi": ({"objective": "multi:softprob", "num_class": 3, "max_depth": 4}, 6),
        "regression": ({"objective": "reg:squarederror", "max_depth": 10, "base_score": 0.3}, 9),
    }
    for name, (params, cols) in cases.items():
        x, y = data(rng, 2000, cols, name)
        names = [f"amount_{i}" for i in range(cols)] if name == "binary" else None
        train = xgb.DMatrix(x, label=y, missing=np.nan, feature_names=names)
        booster = xgb.train(dict(params, seed=1, nthread=1), train, num_boost_round=25)
        for ext in (".json", ".ubj", ".xgb"):
            booster.save_model(f"{out}/{name}{ext}")
        with open(f"{out}/{name}.xgb", "rb") as src, open(f"{out}/{name}_noext", "wb") as dst:
            dst.write(src.read())
        test, _ = data(rng, 3000, cols, name)
        pred = booster.predict(xgb.DMatrix(test, missing=np.nan, feature_names=names)).astype(np.float32)
        test.astype("<f4").tofile(f"{out}/{name}.rows.f32")
        pred.astype("<f4").tofile(f"{out}/{name}.pred.f32")
        outputs = 1 if pred.ndim == 1 else pred.shape[1]
        with open(f"{out}/{name}.shape", "w") as f:
            f.write(f"{test.shape[0]} {cols} {outputs} {booster.num_features()}\n")


if __name__ == "__main__":
    main(sys.argv[1])
