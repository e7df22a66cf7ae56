# The MLflow 2.12 client against gyre: tracking, artifacts, search, registry. Run by run_mlflow_client_check.sh.
import os, tempfile, time
import mlflow
from mlflow import MlflowClient
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
print("status", r.info.status, "params", r.data.params, "metrics", r.data.metrics)
print("history", [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")])
print("artifacts", [a.path for a in client.list_artifacts(run_id)], [a.path for a in client.list_artifacts(run_id, "nested")])
local = client.download_artifacts(run_id, "report.txt", tempfile.mkdtemp())
print("downloaded", open(local).read())
runs = mlflow.search_runs(experiment_names=["ato"], filter_string="metrics.auc > 0.9 and params.model = 'xgb'", order_by=["metrics.auc DESC"], output_format="list")
print("search", [x.info.run_name for x in runs])
try:
    client.log_param(run_id, "model", "lr")
except Exception as e:
    print("immutable param error:", type(e).__name__, str(e)[:80])
client.create_registered_model("ato")
mv = client.create_model_version("ato", f"runs:/{run_id}/model", run_id=run_id)
print("version", mv.version, mv.status)
client.set_registered_model_alias("ato", "champion", mv.version)
print("alias ->", client.get_model_version_by_alias("ato", "champion").version)
mv2 = client.transition_model_version_stage("ato", mv.version, "Production")
print("stage", mv2.current_stage)
print("latest", [v.version for v in client.get_latest_versions("ato", stages=["Production"])])
print("search versions", [v.version for v in client.search_model_versions("name='ato'")])
print("registered", [m.name for m in client.search_registered_models()])
client.delete_registered_model_alias("ato", "champion")
try:
    client.get_experiment("123456")
except Exception as e:
    print("missing experiment:", str(e)[:90])
exps = client.search_experiments()
print("experiments", [e.name for e in exps])
client.delete_run(run_id)
client.restore_run(run_id)
print("OK")
