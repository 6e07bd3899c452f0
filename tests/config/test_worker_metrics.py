"""A worker on a machine of its own, without gunicorn (the 500-store shape,
docs/deployment.md): it serves its own /metrics on WORKER_METRICS_PORT, gathered from
its processes' files, so its tasks' durations are scraped (config/workers.py)."""

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import free_port
from tests.served import http

PORT = free_port()


@pytest.fixture
def worker_env(tmp_path):
    folder = tmp_path / "worker-metrics"
    folder.mkdir()
    return {"WORKER_METRICS_PORT": str(PORT), "PROMETHEUS_MULTIPROC_DIR": str(folder)}


def runs_of(task: str) -> float:
    status, _, body = http(f"http://127.0.0.1:{PORT}/metrics")
    assert status == 200
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if (
                sample.name == "onestock_celery_task_duration_seconds_count"
                and sample.labels.get("task") == task
            ):
                return sample.value
    return 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_alone_on_its_machine_serves_what_it_ran(celery_worker):
    from sync.tasks import CHECK_SOURCES, check_sources

    check_sources.apply_async(queue=celery_worker)
    deadline = time.monotonic() + 30
    while True:
        try:
            if runs_of(CHECK_SOURCES) == 1:
                break
        except OSError:  # not listening yet
            pass
        assert time.monotonic() < deadline, "the worker served no /metrics"
        time.sleep(0.2)
