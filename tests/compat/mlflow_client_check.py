# The MLflow 2.12 client against gyre, by hand (CI cannot fetch MLflow). Run by run_mlflow_client_check.sh, which
# starts `gyre server` on a fresh workspace (MLFLOW_TRACKING_URI) and passes GYRE_BIN and GYRE_CHECK_DIR.
# Scenarios (gyre issue 16), each printed as PASS/FAIL with its reason:
#   (d) tracking, artifacts, search, registry: the original checks of this file, now asserted.
#   (a) a version the unmodified client registers (mlflow.xgboost.log_model(..., registered_model_name=...)) is
#       served by `gyre models serve models:/NAME/1` and through a deployment of deployments.yaml: OIP v2 infer
#       and /invocations answer booster.predict, equal as float32.
#   (b) both ways: a package gyre writes (`gyre models import`, and `gyre demo`'s trained champion) loads with
#       mlflow.pyfunc.load_model and mlflow.xgboost.load_model and predicts what xgboost (and gyre) predict.
#   (c) log_model does not warn "Logging model metadata to the tracking server has failed" (runs/log-model).
# GYRE_CHECK_SKIP_DEMO=1 skips the part that runs `gyre demo` (about 20 s).
import json, logging, os, re, subprocess, sys, tempfile, time, traceback, urllib.error, urllib.request
import numpy as np
import pandas as pd
import xgboost as xgb
import mlflow
from mlflow import MlflowClient

GYRE = os.environ.get("GYRE_BIN", "gyre")
ROOT = os.environ.get("GYRE_CHECK_DIR") or tempfile.mkdtemp(prefix="gyre-mlflow-check.")
WS = os.path.join(ROOT, "ws")  # the workspace the shell's server serves
MAIN_URI = os.environ["MLFLOW_TRACKING_URI"]
RESULTS = []  # (scenario, ok, detail)


def record(scenario, ok, detail=""):
    RESULTS.append((scenario, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'} {scenario}{': ' + detail if detail else ''}", flush=True)


def scenario(name):
    def wrap(fn):
        def run(*args, **kwargs):
            try:
                out = fn(*args, **kwargs)
                record(name, True, out or "")
                return True
            except Exception as e:  # noqa: BLE001 - every failure is reported, the next scenario still runs
                tb = traceback.format_exc().strip().splitlines()
                record(name, False, f"{type(e).__name__}: {str(e)[:600]}")
                print("    " + "\n    ".join(tb[-8:]), flush=True)
                return False
        return run
    return wrap


# ---------------------------------------------------------------------------------------------------- helpers
class Gyre:
    """A gyre process that prints 'listening on http://...' (gyre server, gyre models serve)."""

    def __init__(self, *args, tag="gyre"):
        self.log = os.path.join(ROOT, f"{tag}-{int(time.time() * 1000)}.log")
        self.proc = subprocess.Popen([GYRE, *args], stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        self.url = None
        for _ in range(200):
            text = open(self.log).read()
            m = re.search(r"listening on (http://[0-9.:]+)", text)
            if m:
                self.url = m.group(1)
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"`gyre {' '.join(args)}` exited {self.proc.returncode}: {text.strip()[:800]}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"`gyre {' '.join(args)}` did not start: {open(self.log).read()[:800]}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def http(method, url, body=None, content_type="application/json"):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rows_json(X):
    """Rows as JSON lists, NaN as null (what JSON clients send for a missing value)."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in X]


def oip_tensor(X):
    return {"inputs": [{"name": "features", "datatype": "FP32", "shape": list(X.shape),
                        "data": [v for row in rows_json(X) for v in row]}]}


def oip_per_column(X, names):
    return {"inputs": [{"name": n, "datatype": "FP32", "shape": [X.shape[0]],
                        "data": [None if np.isnan(v) else float(v) for v in X[:, i]]} for i, n in enumerate(names)]}


def same_f32(name, got, want):
    got = np.asarray(got, dtype=np.float64).astype(np.float32).reshape(-1)
    want = np.asarray(want, dtype=np.float32).reshape(-1)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: {got.shape[0]} predictions, expected {want.shape[0]}")
    diff = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not np.array_equal(got, want):
        raise AssertionError(f"{name}: max |diff| {diff:.3g} over {got.size} rows (float32 not equal)")
    return f"{name}: {got.size} rows equal (float32)"


def gyre_cli(*args):
    p = subprocess.run([GYRE, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"`gyre {' '.join(args)}` exited {p.returncode}: {(p.stdout + p.stderr).strip()[:800]}")
    return p.stdout


def check_rows_endpoints(url, model, X, names, want, label):
    """OIP infer ([n, d] tensor and one input per column) and /invocations (dataframe_split, instances)."""
    done = []
    for kind, body in (("OIP [n,d] tensor", oip_tensor(X)), ("OIP one input per column", oip_per_column(X, names))):
        status, text = http("POST", f"{url}/v2/models/{model}/infer", body)
        assert status == 200, f"{label} {kind}: HTTP {status} {text[:300]}"
        out = {o["name"]: o for o in json.loads(text)["outputs"]}
        assert "score" in out, f"{label} {kind}: no 'score' output in {list(out)}"
        done.append(same_f32(f"{kind}", out["score"]["data"], want))
    inv = url + "/invocations" + ("" if label.startswith("models serve") else f"?deployment={model}")
    for kind, body in (("/invocations dataframe_split", {"dataframe_split": {"columns": names, "data": rows_json(X)}}),
                       ("/invocations dataframe_records",
                        {"dataframe_records": [dict(zip(names, r)) for r in rows_json(X)]})):
        status, text = http("POST", inv, body)
        assert status == 200, f"{label} {kind}: HTTP {status} {text[:300]}"
        done.append(same_f32(kind, json.loads(text)["predictions"], want))
    return "; ".join(done)


class LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, rec):
        self.messages.append(rec.getMessage())


# ---------------------------------------------------------------------------------------------------- (d)
@scenario("(d) tracking, artifacts, search, registry with MlflowClient (the original checks)")
def check_tracking():
    mlflow.set_tracking_uri(MAIN_URI)
    mlflow.set_experiment("ato")
    with mlflow.start_run(run_name="xgb-1") as run:
        mlflow.log_params({"model": "xgb", "depth": 6, "eta": 0.1})
        mlflow.log_metrics({"auc": 0.91, "ks": 0.55})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tags({"team": "risk", "stage": "dev"})
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "report.txt"), "w") as f:
            f.write("hello gyre")
        mlflow.log_artifact(os.path.join(d, "report.txt"))
        mlflow.log_artifact(os.path.join(d, "report.txt"), artifact_path="nested/dir")
        mlflow.log_dict({"a": 1}, "config.json")
        run_id = run.info.run_id
    client = MlflowClient()
    r = client.get_run(run_id)
    print("    status", r.info.status, "params", r.data.params, "metrics", r.data.metrics)
    assert r.info.status == "FINISHED"
    assert r.data.params == {"model": "xgb", "depth": "6", "eta": "0.1"}, r.data.params
    assert r.data.metrics == {"auc": 0.91, "ks": 0.55, "loss": 0.2}, r.data.metrics
    assert r.data.tags.get("team") == "risk"
    history = [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")]
    assert history == [(s, 1.0 / (s + 1)) for s in range(5)], history
    top = [a.path for a in client.list_artifacts(run_id)]
    nested = [a.path for a in client.list_artifacts(run_id, "nested")]
    assert top == ["config.json", "nested", "report.txt"] and nested == ["nested/dir"], (top, nested)
    local = client.download_artifacts(run_id, "report.txt", tempfile.mkdtemp())
    assert open(local).read() == "hello gyre"
    runs = mlflow.search_runs(experiment_names=["ato"], filter_string="metrics.auc > 0.9 and params.model = 'xgb'",
                              order_by=["metrics.auc DESC"], output_format="list")
    assert [x.info.run_name for x in runs] == ["xgb-1"]
    try:
        client.log_param(run_id, "model", "lr")
        raise AssertionError("changing a param was accepted")
    except mlflow.exceptions.MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE", e.error_code
    client.create_registered_model("ato")
    mv = client.create_model_version("ato", f"runs:/{run_id}/model", run_id=run_id)
    assert (mv.version, mv.status) == ("1", "READY"), (mv.version, mv.status)
    client.set_registered_model_alias("ato", "champion", mv.version)
    assert client.get_model_version_by_alias("ato", "champion").version == "1"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated upstream; the client still calls them
        assert client.transition_model_version_stage("ato", mv.version, "Production").current_stage == "Production"
        assert [v.version for v in client.get_latest_versions("ato", stages=["Production"])] == ["1"]
    assert [v.version for v in client.search_model_versions("name='ato'")] == ["1"]
    assert "ato" in [m.name for m in client.search_registered_models()]
    client.delete_registered_model_alias("ato", "champion")
    try:
        client.get_experiment("123456")
        raise AssertionError("a missing experiment was found")
    except mlflow.exceptions.MlflowException as e:
        assert e.error_code == "RESOURCE_DOES_NOT_EXIST", e.error_code
    assert {"ato", "Default"} <= {e.name for e in client.search_experiments()}
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


# ---------------------------------------------------------------------------------------------------- data
NAMES = ["amount", "logins_1h", "ip_risk", "age_days"]
_rng = np.random.default_rng(16)
X = _rng.normal(size=(300, 4)).astype(np.float32)
X[::7, 1] = np.nan  # missing values travel as null / NaN
Y = ((X[:, 0] + np.nan_to_num(X[:, 1]) + 0.3 * _rng.normal(size=300)) > 0).astype(int)
DF32 = pd.DataFrame(X, columns=NAMES)


def logged_booster():
    return xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, xgb.DMatrix(DF32, label=Y), 12)


def log_registered(uri, name):
    """mlflow.xgboost.log_model(booster, 'model', registered_model_name=name) against `uri`, as a user would.
    Returns (booster, run_id, warnings the client logged)."""
    from mlflow.models import infer_signature
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("ato-py")
    booster = logged_booster()
    capture = LogCapture()
    logging.getLogger("mlflow").addHandler(capture)
    try:
        with mlflow.start_run(run_name=f"log {name}") as run:
            signature = infer_signature(DF32, booster.predict(xgb.DMatrix(DF32)))
            mlflow.xgboost.log_model(booster, "model", registered_model_name=name, signature=signature)
    finally:
        logging.getLogger("mlflow").removeHandler(capture)
    return booster, run.info.run_id, capture.messages


# ---------------------------------------------------------------------------------------------------- (c), (a)
STATE = {}


@scenario("(c) log_model records the model on the run (POST runs/log-model), no metadata warning")
def check_log_model():
    booster, run_id, messages = log_registered(MAIN_URI, "ato-py")
    STATE["booster"], STATE["run_id"] = booster, run_id
    # The client's pip-requirements inference fails on a copy without mlflow/pypi_package_index.json (left out,
    # see docs): that warning is about the client's copy, not the server.
    failed = [m for m in messages if "Logging model metadata to the tracking server has failed" in m]
    assert not failed, f"the client warned: {failed[0][:200]}"
    history = MlflowClient().get_run(run_id).data.tags.get("mlflow.log-model.history")
    assert history, "the run has no mlflow.log-model.history tag"
    models = json.loads(history)
    assert models and models[-1].get("artifact_path") == "model" and "xgboost" in models[-1].get("flavors", {}), \
        f"mlflow.log-model.history: {history[:300]}"
    return f"no warning; run {run_id[:12]} mlflow.log-model.history holds {len(models)} model(s) with flavors " \
           f"{sorted(models[-1]['flavors'])}"


@scenario("(a1) gyre models serve models:/ato-py/1 (registered by the MLflow client): OIP infer and /invocations "
          "== booster.predict")
def check_serve_registered():
    want = STATE["booster"].predict(xgb.DMatrix(DF32))
    with Gyre("models", "serve", "models:/ato-py/1", "-w", WS, "--port", "0", tag="serve-ato-py") as g:
        return check_rows_endpoints(g.url, "ato-py", X, NAMES, want, "models serve")


@scenario("(a2) gyre models serve answers a /v1/score request with an error, not a crash")
def check_serve_v1_score():
    with Gyre("models", "serve", "models:/ato-py/1", "-w", WS, "--port", "0", tag="serve-v1") as g:
        try:
            status, text = http("POST", f"{g.url}/v1/score/ato-py", {"event": {"time": "2026-01-01T00:00:00Z"}})
        except Exception as e:  # noqa: BLE001
            status, text = None, f"{type(e).__name__}: {e}"
        time.sleep(0.2)
        assert g.alive(), f"the server died (exit {g.proc.returncode}; -11 is SIGSEGV) on POST /v1/score/ato-py " \
                          f"({text})"
        assert status is not None and 400 <= status < 500, f"HTTP {status} {text[:200]}"
        return f"HTTP {status} {text[:120]}"


DEPLOYMENT_YAML = "poll_interval: 1s\ndeployments:\n  atopy:\n    model: models:/ato-py/1\n"


@scenario("(a3) a deployment of the MLflow-registered version in a workspace without features.yaml "
          "(gyre server + deployments.yaml): OIP infer and /invocations == booster.predict")
def check_deployment_plain():
    want = STATE["booster"].predict(xgb.DMatrix(DF32))
    path = os.path.join(WS, "deployments.yaml")
    with open(path, "w") as f:
        f.write(DEPLOYMENT_YAML)
    try:
        with Gyre("server", "--workspace", WS, "--port", "0", tag="server-deploy") as g:
            status, text = http("GET", f"{g.url}/v2/health/ready")
            print(f"    /v2/health/ready: HTTP {status} {text[:200]}")
            return check_rows_endpoints(g.url, "atopy", X, NAMES, want, "deployment")
    finally:
        os.remove(path)


def check_demo_parts():
    demo = os.path.join(ROOT, "demo")

    @scenario("(b0) gyre demo --users 1000 (trains and registers ato@champion)")
    def run_demo():
        gyre_cli("demo", "-w", demo, "--users", "1000")
        out = os.path.join(ROOT, "demo_scores.csv")
        gyre_cli("score", "-w", demo, "--input", os.path.join(demo, "data", "training_ato_login.csv"),
                 "--keep", "event_id", "-o", out)
        STATE["demo_scores"] = out
        return "workspace " + demo

    if not run_demo():
        return

    @scenario("(b2) a package gyre train wrote (demo's models:/ato@champion) loads in MLflow and predicts "
              "what gyre score and xgboost predict")
    def check_trained():
        with Gyre("server", "--workspace", demo, "--port", "0", tag="server-demo") as g:
            mlflow.set_tracking_uri(g.url)
            rows = pd.read_csv(os.path.join(demo, "data", "training_ato_login.csv"))
            gyre_scores = pd.read_csv(STATE["demo_scores"])["score"].to_numpy(np.float32)
            return check_both_loaders("models:/ato@champion", rows, gyre_scores, "gyre score")

    check_trained()

    @scenario("(a4) a deployment of the MLflow-registered version next to features.yaml (gyre demo's workspace): "
              "OIP infer and /invocations == booster.predict")
    def check_deployment_demo():
        with Gyre("server", "--workspace", demo, "--port", "0", tag="server-demo-register") as g:
            booster, _, _ = log_registered(g.url, "ato-py")
        want = booster.predict(xgb.DMatrix(DF32))
        path = os.path.join(demo, "deployments.yaml")
        original = open(path).read()
        with open(path, "a") as f:
            f.write("  atopy:\n    model: models:/ato-py/1\n")
        try:
            with Gyre("server", "--workspace", demo, "--port", "0", tag="server-demo-deploy") as g:
                return check_rows_endpoints(g.url, "atopy", X, NAMES, want, "deployment")
        finally:
            with open(path, "w") as f:
                f.write(original)

    check_deployment_demo()


# ---------------------------------------------------------------------------------------------------- (b)
def check_both_loaders(uri, rows, want, against):
    """mlflow.pyfunc.load_model(uri).predict on the signature's columns as float32 and as float64 (pandas'
    default for a float column), and mlflow.xgboost.load_model(uri).predict, each equal to `want`."""
    done, failures = [], []
    model = mlflow.pyfunc.load_model(uri)
    flavors = sorted(model.metadata.flavors)
    names = [c.name for c in model.metadata.get_input_schema().inputs]
    if model.metadata.mlflow_version != mlflow.__version__:
        print(f"    NOTE: {uri}'s MLmodel says mlflow_version {model.metadata.mlflow_version} (requirements.txt too); "
              f"this client is {mlflow.__version__}, so every load warns about a mismatch", flush=True)
    for dtype in ("float32", "float64"):
        try:
            got = np.asarray(model.predict(rows[names].astype(dtype)))
            done.append(same_f32(f"pyfunc.predict({dtype} frame) vs {against}", got, want))
        except Exception as e:  # noqa: BLE001
            why = re.search(r"Error: (.*)$", str(e), re.S)
            failures.append(f"pyfunc.predict({dtype} frame): {type(e).__name__}: "
                            f"{why.group(1).strip() if why else str(e)[-260:]}")
    booster = mlflow.xgboost.load_model(uri)
    done.append(same_f32(f"xgboost.load_model().predict vs {against}", booster.predict(xgb.DMatrix(rows[names])),
                         want))
    if failures:
        raise AssertionError(" | ".join(failures) + " || passed: " + "; ".join(done))
    return f"flavors {flavors}; " + "; ".join(done)


@scenario("(b1) a package gyre models import wrote (models:/ato-imp@champion) loads in MLflow and predicts what "
          "xgboost predicts")
def check_imported():
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 4}, xgb.DMatrix(DF32, label=1 - Y), 9)
    path = os.path.join(ROOT, "ato-imp.json")
    booster.save_model(path)
    gyre_cli("models", "import", path, "--name", "ato-imp", "--alias", "champion", "-w", WS)
    mlflow.set_tracking_uri(MAIN_URI)
    return check_both_loaders("models:/ato-imp@champion", DF32, booster.predict(xgb.DMatrix(DF32)), "xgboost")


# ---------------------------------------------------------------------------------------------------- main
check_tracking()
if check_log_model() or "booster" in STATE:
    check_serve_registered()
    check_serve_v1_score()
    check_deployment_plain()
else:
    record("(a) serving the MLflow-registered version", False, "skipped: log_model failed")
check_imported()
if os.environ.get("GYRE_CHECK_SKIP_DEMO") != "1":
    check_demo_parts()
print()
print(f"{sum(ok for _, ok, _ in RESULTS)} passed, {sum(not ok for _, ok, _ in RESULTS)} failed")
for name, ok, _ in RESULTS:
    print(f"  {'PASS' if ok else 'FAIL'} {name}")
sys.exit(0 if all(ok for _, ok, _ in RESULTS) else 1)
