"""
Airflow DAGs for dws-task-exporter: the nightly export of GaussDB(DWS) task
history into PostgreSQL, in two variants:

* ``dws_task_exporter_k8s``: KubernetesPodOperator running the image
  (docker/Dockerfile), optionally sharded over several pods;
* ``dws_task_exporter_bash``: BashOperator on a worker where
  ``dws-task-exporter`` is installed (``npm install -g``) and this folder's
  ``export-and-report.sh`` sits next to this file.

Both run the exporter through ``export-and-report.sh``, which maps its exit
code (README "Exit codes"):

* 0 succeeded, 3 partial, 2 config/usage, 6 auth -> the export task succeeds
  and hands the run summary (``--summary-json``, schema in the README) to XCom;
  ``check_export`` then fails, **without retries**, for anything but
  "succeeded": a partial run already stored what it could and the next night
  catches up; config and credential problems need a person, and retrying auth
  failures risks locking the access key.
* 1, 4 failed, 5 database, 130/143 interrupted, a crash -> the export task
  fails and Airflow retries it (``retries``, exponential backoff). A rerun is
  always safe: rows are upserted, never duplicated.

Run group: ``--run-group {{ run_id }}`` ties retries and shards of one DAG run
together in ``dws.export_runs.run_group_id`` (see ``dws.v_run_groups``).

SLA: Airflow 2 takes ``sla`` on the export task (below; a miss is reported to
``sla_miss_callback``/email). Airflow 3 removed task SLAs: use a Deadline
Alert on the DAG, or alert on ``dws_exporter_last_success_timestamp_seconds``
(Pushgateway) / ``dws.v_export_health.staleness_seconds``.

Timeouts: ``execution_timeout`` (3 h) matches the CronJob's
activeDeadlineSeconds; the pod gets ``termination_grace_period`` 30 s, more
than the exporter's ``shutdownGraceMs`` (20 s), so a killed task still closes
its ledger as "interrupted".
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from airflow import DAG
from airflow import __version__ as AIRFLOW_VERSION
from airflow.exceptions import AirflowFailException

try:  # Airflow 3 (apache-airflow-providers-standard)
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

IMAGE = "registry.example.com/dws-task-exporter:0.1.0"
NAMESPACE = "dws-exporter"
CONFIG = "/etc/dws-exporter/config.json"
# Pods per run; the exporter splits the clusters by a stable hash (README "Sharding").
SHARDS = 1

# Exit codes after which retrying at once is pointless or harmful (the wrapper exits 0 for them).
NOT_RETRIED = {0: "succeeded", 2: "usage_or_config", 3: "partial", 6: "auth"}

# Airflow 2 only: task SLAs were removed in Airflow 3 (see the module docstring).
SLA = {"sla": timedelta(hours=4)} if AIRFLOW_VERSION.startswith("2.") else {}

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=1),
    "execution_timeout": timedelta(hours=3),
}


def _summaries(value):
    """XCom from BashOperator (a JSON line), KubernetesPodOperator (a dict) or mapped tasks (a list)."""
    values = value if isinstance(value, list) else [value]
    out = []
    for item in values:
        if item is None:
            raise AirflowFailException("the export task left no run summary in XCom")
        out.append(json.loads(item) if isinstance(item, str) else item)
    return out


def check_export(ti, **_):
    """Fails (no retries) unless every run succeeded; returns the totals for downstream tasks."""
    summaries = _summaries(ti.xcom_pull(task_ids="export"))
    problems = []
    for s in summaries:
        code = s.get("exitCode")
        shard = s.get("shard", {})
        where = f"shard {shard.get('index', 0)}/{shard.get('count', 1)}"
        if code == 0:
            continue
        if s.get("status") == "partial":
            failed = [c for c in s.get("clusters", []) if c.get("status") != "succeeded"]
            detail = "; ".join(
                f"{c['projectId']}/{c['clusterId']} {c['status']}: {(c.get('error') or {}).get('code', '')} "
                f"{(c.get('error') or {}).get('message', '')}".strip()
                for c in failed[:20]
            )
            problems.append(f"{where}: run {s.get('runId')} partial, {len(failed)} cluster(s) need attention: {detail}")
        else:
            error = s.get("error") or {}
            problems.append(
                f"{where}: exit {code} ({NOT_RETRIED.get(code, s.get('outcome'))}): "
                f"{error.get('code', '')} {error.get('message', '')}".strip()
            )
    if problems:
        raise AirflowFailException("dws-task-exporter: " + " | ".join(problems))
    return {
        "runIds": [s.get("runId") for s in summaries],
        "rowsInserted": sum((s.get("totals") or {}).get("rowsInserted", 0) for s in summaries),
        "rowsUpdated": sum((s.get("totals") or {}).get("rowsUpdated", 0) for s in summaries),
    }


# Both DAGs run on the same schedule with the same defaults; only the operator differs.
DAG_SETTINGS = dict(
    schedule="17 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["dws", "export"],
    doc_md=__doc__,
)

EXPORTER_ARGS = ["run", "--config", CONFIG, "--no-migrate", "--run-group", "{{ run_id }}"]

with DAG(
    dag_id="dws_task_exporter_k8s",
    description="GaussDB(DWS) logical-cluster task history -> PostgreSQL (KubernetesPodOperator)",
    **DAG_SETTINGS,
) as k8s_dag:
    pod = dict(
        task_id="export",
        namespace=NAMESPACE,
        image=IMAGE,
        # The wrapper maps exit codes and writes the summary to /airflow/xcom/return.json.
        cmds=["/usr/bin/tini", "--", "dws-task-exporter-airflow"],
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="dws-task-exporter"))],
        env_vars={"LOG_LEVEL": "info", "PUSHGATEWAY_URL": "http://pushgateway.monitoring.svc:9091"},
        volumes=[
            k8s.V1Volume(name="config", config_map=k8s.V1ConfigMapVolumeSource(name="dws-task-exporter-config")),
            k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="64Mi")),
        ],
        volume_mounts=[
            k8s.V1VolumeMount(name="config", mount_path="/etc/dws-exporter", read_only=True),
            k8s.V1VolumeMount(name="tmp", mount_path="/tmp"),
        ],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "250m", "memory": "384Mi"}, limits={"memory": "512Mi"}
        ),
        security_context=k8s.V1PodSecurityContext(run_as_non_root=True, run_as_user=10001, run_as_group=10001),
        termination_grace_period=30,
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        **SLA,
    )
    if SHARDS == 1:
        export = KubernetesPodOperator(arguments=EXPORTER_ARGS, **pod)
    else:
        export = KubernetesPodOperator.partial(**pod).expand(
            arguments=[
                EXPORTER_ARGS + ["--shard-count", str(SHARDS), "--shard-index", str(i)] for i in range(SHARDS)
            ]
        )
    check = PythonOperator(task_id="check_export", python_callable=check_export, retries=0)
    export >> check

with DAG(
    dag_id="dws_task_exporter_bash",
    description="GaussDB(DWS) logical-cluster task history -> PostgreSQL (BashOperator)",
    **DAG_SETTINGS,
) as bash_dag:
    export = BashOperator(
        task_id="export",
        # The wrapper prints the summary as the last stdout line: BashOperator pushes it to XCom.
        bash_command="sh {{ dag.folder }}/export-and-report.sh " + " ".join(EXPORTER_ARGS),
        # DATABASE_URL, HUAWEICLOUD_SDK_AK/SK: from the worker's environment or a secrets backend.
        append_env=True,
        env={"LOG_LEVEL": "info"},
        do_xcom_push=True,
        **SLA,
    )
    check = PythonOperator(task_id="check_export", python_callable=check_export, retries=0)
    export >> check
