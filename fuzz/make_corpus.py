#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from examples/ato and the tests' own inputs.

Run from anywhere: python3 fuzz/make_corpus.py. Seeds are small, real inputs; files a fuzzer found (crashes
kept as regression inputs) live beside them as crash-*/regress-* and are not touched by this script.
"""
import hashlib
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    name = name or "seed-" + hashlib.sha1(data).hexdigest()[:12]
    (d / name).write_bytes(data)


def main():
    ato = ROOT / "examples" / "ato"
    # --- YAML ---------------------------------------------------------------------------------------
    put("features_yaml_fuzz", (ato / "features.yaml").read_bytes(), "seed-ato-features.yaml")
    put("features_yaml_fuzz", """entities:
  user: {keys: [user]}
  user_device: {keys: [user, device]}
sources:
  logins:
    timestamp: time
    allowed_lateness: 5m
    columns: {time: timestamp, user: string, device: string, ok: bool, amount: float64, n: int64, country: string}
groups:
  user_logins:
    entity: user
    source: logins
    features:
      fails: {agg: count, filter: "not ok", windows: [1h, 24h]}
      spend: {agg: sum, of: amount, windows: [7d]}
      countries: {agg: distinct_count, of: country, windows: [30d]}
derived:
  fail_ratio: {source: logins, expr: "fails_1h / max(fails_24h, 1)"}
feature_sets:
  s: {features: [fails_1h, spend_7d, fail_ratio]}
""", "seed-declared.yaml")
    put("gyre_yaml_fuzz", (ato / "gyre.yaml").read_bytes(), "seed-ato-gyre.yaml")
    put("gyre_yaml_fuzz", """name: gyre
store:
  metadata: sqlite
  online: rocksdb
server:
  host: 127.0.0.1
  port: 8080
  threads: 0
  max_body_bytes: 16777216
  max_header_bytes: 65536
  read_timeout_ms: 30000
  idle_timeout_ms: 60000
  drain_timeout_ms: 10000
""", "seed-defaults.yaml")
    put("deployments_yaml_fuzz", (ato / "deployments.yaml").read_bytes(), "seed-ato-deployments.yaml")
    put("deployments_yaml_fuzz", """poll_interval: 2s
deployments:
  ato:
    model: models:/ato@champion
    feature_set: ato_login
    push: true
    decision: {challenge_threshold: 0.2, block_threshold: 0.8}
    challenger: {model: models:/ato@challenger, mode: canary, percent: 10, sticky_key: user_id}
    log: {queue: 1024}
  bare:
    model: models:/other/3
""", "seed-challenger.yaml")

    # --- expressions: byte 0 = row bytes that follow (0: none) ---------------------------------------
    for i, e in enumerate([
            "not success", "success", "hour_of_day(time)",
            "event_type in ['password_change', 'email_change', 'phone_change', 'mfa_enabled']",
            "event_type == 'payee_added'", "haversine_km(lat, lon, 1.5, 2.5) / max(failed_1h / 3600, 1 / 60)",
            "abs(hour_of_day(time) - x) / max(coalesce(amount, 1), 1)", "country != 'DE' and not mfa or amount > 10.5",
            "coalesce(s, country, 'none')", "(time - last_time) / 1000000 < 60"]):
        put("expr_fuzz", b"\x00" + e.encode(), f"seed-{i:02d}")

    # --- MLflow search grammar --------------------------------------------------------------------------
    for f in ["metrics.auc > 0.9 and params.model = 'xgb' AND tags.\"user-name\" LIKE '%ann%' AND attributes.status IN "
              "('FINISHED', \"FAILED\") AND run_name != 'x' AND metrics.`log loss` <= -1e-3 AND datasets.name NOT IN ('a')",
              "params.note = 'it''s'", "metrics.auc DESC", "tags.`a b` asc", "start_time",
              "name ILIKE 'ato%' AND tags.stage = 'prod'", "run_id IN ('a', 'b')", "attribute.end_time >= 1700000000000"]:
        put("search_filter_fuzz", f)

    # --- CSV: byte 0 = options (bit0 ';', bit1 small sample, bit2 declared, bit3 infer undeclared, bit4 select)
    logins = ("event_id,time,user_id,device_id,ip,asn,country,lat,lon,user_agent,success,mfa\n"
              "1,2024-01-01T00:00:00Z,u1,d1,10.0.0.1,64500,DE,52.52,13.40,\"Mozilla/5.0, x\",true,false\n"
              "2,2024-01-01T00:01:30.5Z,u2,d2,10.0.0.2,,US,,,\"say \"\"hi\"\"\",false,\n")
    put("csv_reader_fuzz", b"\x00" + logins.encode(), "seed-logins")
    put("csv_reader_fuzz", b"\x02" + logins.encode(), "seed-logins-sample")
    put("csv_reader_fuzz", b"\x0c" + b"time,user_id,amount,count,success,extra\n2024-01-01 00:00:00,u,1.5,3,1,x\n"
        b"1704067200,v,-2e3,-7,FALSE,y\r\n", "seed-declared")
    put("csv_reader_fuzz", b"\x11" + b"user_id;amount;x\nu;1,5;\nv;2;3\n", "seed-semicolon-select")

    # --- HTTP: byte 0 = read size (1 + b % 64) -------------------------------------------------------------
    reqs = [
        "GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST /api/2.0/mlflow/runs/create HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 22\r\n\r\n{\"experiment_id\":\"0\"}\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        "GET /v2/models/m%201/ready?x=1&y=a+b HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8bgarbage\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: t\r\n\r\nTHIS IS NOT HTTP\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /" + "a" * 3000 + " HTTP/1.1\r\n\r\n",
        "GET http://h:1/p?q=%41 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ]
    for i, r in enumerate(reqs):
        put("http_request_fuzz", bytes([63]) + r.encode("latin-1"), f"seed-{i:02d}")
        put("http_request_fuzz", bytes([4]) + r.encode("latin-1"), f"seed-{i:02d}-split")

    # --- JSON bodies -----------------------------------------------------------------------------------------
    mlflow = [
        {"experiment_id": "0", "run_name": "r", "start_time": 1700000000000, "tags": [{"key": "a", "value": "b"}]},
        {"run_id": "abc", "metrics": [{"key": "auc", "value": 0.9, "timestamp": 1700000000000, "step": 1},
                                      {"key": "loss", "value": "NaN", "timestamp": 1, "step": 0}],
         "params": [{"key": "depth", "value": "6"}], "tags": [{"key": "t", "value": "v"}]},
        {"run_id": "abc", "key": "auc", "value": "-Infinity", "timestamp": "1700000000000", "step": "3"},
        {"experiment_ids": ["0", "1"], "filter": "metrics.auc > 0.9", "max_results": 100,
         "order_by": ["metrics.auc DESC"], "page_token": "eyJvZmZzZXQiOiAxMDB9", "run_view_type": "ACTIVE_ONLY"},
        {"name": "ato", "source": "runs:/abc/model", "run_id": "abc", "tags": [{"key": "k", "value": "v"}],
         "description": "d"},
        {"name": "ato", "version": "3", "stage": "Production", "archive_existing_versions": True},
        {"name": "ato", "alias": "champion", "version": "3"},
    ]
    for i, b in enumerate(mlflow):
        put("mlflow_body_fuzz", b"P" + json.dumps(b).encode(), f"seed-post-{i:02d}")
    for i, q in enumerate(["name=ato&alias=champion", "experiment_id=0", "run_id=abc&metric_key=auc&max_results=10",
                           "filter=name%3D%27ato%27&max_results=5&order_by=name+ASC&order_by=version+DESC"]):
        put("mlflow_body_fuzz", b"G" + q.encode(), f"seed-get-{i:02d}")

    score = [
        '{"event": {"event_id": 7, "time": "2024-01-01T00:00:00Z", "user_id": "u1", "asn": 64500, "lat": 52.52, '
        '"success": true}, "request_id": "r-1", "return_features": true}',
        '{"event":{"time":1704067200000000,"user_id":"u","asn":null,"lat":-1e-3,"success":false}}',
        '{"events": [{"time": "2024-01-01 00:00:00", "user_id": "a"}, {"time": "2024-01-01T00:00:01.5Z", "asn": "7"}]}',
        '{"event": {"time": "2024-01-01T00:00:00Z", "user_id": "caf\\u00e9", "lat": 1E2}}',
    ]
    for i, b in enumerate(score):
        put("score_body_fuzz", b, f"seed-{i:02d}")
    push = [
        {"push_source_name": "logins", "to": "online",
         "df": {"event_id": [1, 2], "time": ["2024-01-01T00:00:00Z", 1704067200000000], "user_id": ["u1", "u2"],
                "ip": ["10.0.0.1", None], "asn": [64500, 64501], "lat": [52.5, None], "success": [True, False]}},
        {"features": ["user_failed_logins_1h", "ip_failure_ratio_24h"], "full_feature_names": True,
         "entities": {"user_id": ["u1", "u2"], "ip": ["10.0.0.1", "10.0.0.2"]},
         "event_timestamps": ["2024-01-01T00:00:00Z", 1704067200000000]},
        {"feature_service": "ato_login", "entities": {"user_id": ["u1"]}},
    ]
    for i, b in enumerate(push):
        put("push_body_fuzz", json.dumps(b), f"seed-{i:02d}")

    # --- OIP infer (byte 0 even) and /invocations (odd; bits 1-2 pick the Content-Type) -------------------
    oip = [{"id": "r1", "inputs": [{"name": "features", "datatype": "FP32", "shape": [2, 3],
                                    "data": [[1, 2, 0], [0.5, None, 1]]}], "outputs": [{"name": "score"}]},
           {"inputs": [{"name": "failed_1h", "datatype": "INT64", "shape": [2], "data": [1, 2]},
                       {"name": "geo_velocity", "datatype": "FP64", "shape": [2, 1], "data": [[3.5], [0]]},
                       {"name": "new_device", "datatype": "BOOL", "shape": [2], "data": [True, False]}]},
           {"inputs": [{"name": "x", "datatype": "UINT8", "shape": [3], "data": [1, 2, 3]}]}]
    for i, b in enumerate(oip):
        put("inference_body_fuzz", b"\x00" + json.dumps(b).encode(), f"seed-infer-{i:02d}")
    inv = [{"dataframe_split": {"columns": ["new_device", "failed_1h", "geo_velocity"], "data": [[1, 2, 3.5], [0, None, "4"]]}},
           {"dataframe_records": [{"failed_1h": 1, "geo_velocity": 2, "new_device": True}]},
           {"instances": [[1, 2, 3], [4, 5, 6]], "params": {"x": 1}},
           {"inputs": [{"failed_1h": 1, "geo_velocity": None, "new_device": "1e3"}]}]
    for i, b in enumerate(inv):
        put("inference_body_fuzz", b"\x01" + json.dumps(b).encode(), f"seed-invocations-{i:02d}")
    put("inference_body_fuzz", b"\x03failed_1h,geo_velocity,new_device\n1,2.5,1\n0,,0\n", "seed-invocations-csv")
    put("inference_body_fuzz", b"\x05geo_velocity,failed_1h,new_device,extra\n1,2,3,x\n", "seed-invocations-csv-charset")

    # --- models ----------------------------------------------------------------------------------------------
    put("model_package_fuzz", json.dumps({
        "format": "gyre.model_package", "version": 1, "flavor": "xgboost", "model_file": "model.json",
        "objective": "binary:logistic", "feature_set": "ato_login",
        "signature": {"inputs": [{"name": "user_failed_logins_1h", "type": "double"},
                                 {"name": "geo_velocity_kmh", "type": "double"}]},
        "decision": {"challenge_threshold": 0.2, "block_threshold": 0.8},
        "training": {"experiment": "ato", "run_id": "abc", "rows": 1000, "positives": 10, "time_start": 0,
                     "time_end": 1, "params": {"max_depth": 4, "eta": "0.1"}},
        "reference": {"features": [{"name": "user_failed_logins_1h", "count": 100, "missing": 1, "mean": 0.5,
                                    "quantile_levels": [0.5], "quantiles": [0.0], "edges": [0, 1, 2],
                                    "counts": [50, 30, 20]}],
                      "score": {"name": "score", "count": 100, "missing": 0, "quantile_levels": [], "quantiles": [],
                                "edges": [0, 0.5, 1], "counts": [90, 10]}},
        "created_at_ms": 1700000000000}, indent=2), "seed-package.json")
    try:
        script = r"""
import json, sys, numpy as np, xgboost as xgb
rng = np.random.default_rng(7)
X = rng.normal(size=(200, 4)); X[rng.random(X.shape) < 0.1] = np.nan
y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) > 0).astype(int)
out = {}
m = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, xgb.DMatrix(X, label=y), 3)
m.save_model(sys.argv[1] + "/binary.json")
y3 = (np.nan_to_num(X[:, 0]) > 0).astype(int) + (np.nan_to_num(X[:, 2]) > 0.5).astype(int)
m = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, xgb.DMatrix(X, label=y3), 2)
m.save_model(sys.argv[1] + "/softprob.json")
m = xgb.train({"objective": "reg:squarederror", "max_depth": 10}, xgb.DMatrix(X, label=np.nan_to_num(X[:, 3])), 2)
m.save_model(sys.argv[1] + "/deep.json")
"""
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            python = "/usr/bin/python3" if pathlib.Path("/usr/bin/python3").exists() else sys.executable  # Debian's, with python3-xgboost
            subprocess.run([python, "-c", script, tmp], check=True)
            for f in sorted(pathlib.Path(tmp).iterdir()):
                put("xgboost_json_fuzz", f.read_bytes(), "seed-" + f.name)
    except Exception as e:  # python3-xgboost missing: keep the corpus that is committed
        print("make_corpus: xgboost models not regenerated:", e, file=sys.stderr)


if __name__ == "__main__":
    main()
