"""A run logged to a real `mlflow server` (SQLite backend, local artifacts) arrives whole."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from simulated import EVAL_CUTOFF
from winback.tracking import log_training_run
from winback.tracking._log import config_params, evaluation_metrics

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tracking")]  # one training

STARTUP_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server not up after {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's process group (uvicorn and its workers), started by this test."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Run `mlflow server` on a free 127.0.0.1 port; yield (url, artifacts folder)."""
    port, artifacts, log = _free_port(), tmp_path / "artifacts", tmp_path / "server.log"
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination", str(artifacts), "--workers", "1",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    # without MLflow's job runner (GenAI jobs, trace archival; a huey consumer process beside
    # uvicorn): logging a run does not use it, and it slows the server's start and stop
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, log)
        yield url, artifacts
    finally:
        _stop(process)


def test_run_arrives_at_a_real_tracking_server(trained, mlflow_server, monkeypatch):
    url, artifacts = mlflow_server
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(trained.workdir)  # result.bundle_path is relative to the training cwd
    tracking = trained.config.tracking.model_copy(update={"uri": url})
    config = trained.config.model_copy(update={"tracking": tracking})

    run_id = log_training_run(trained.result, config)

    client = MlflowClient(tracking_uri=url)
    run = client.get_run(run_id)
    assert run.data.params == config_params(config)
    assert run.data.metrics == evaluation_metrics(trained.result.evaluation)
    plots = {a.path for a in client.list_artifacts(run_id, "plots")}
    assert plots == set(trained.result.plots)
    assert "evaluation.json" in {a.path for a in client.list_artifacts(run_id)}
    version = client.get_model_version(config.tracking.registered_model, "1")
    assert version.run_id == run_id
    assert version.tags["evaluation_cutoff"] == EVAL_CUTOFF
    stored = {p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*") if p.is_file()}
    assert any(p.endswith("/evaluation.json") for p in stored)
    bundle_manifest = f"/artifacts/{trained.config.name}/manifest.json"
    assert any(p.endswith(bundle_manifest) for p in stored)  # the bundle
