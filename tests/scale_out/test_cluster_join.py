"""Joining a running cluster instead of starting one: ``--address auto`` (a cluster this
machine is part of, one worker per node by default) and ``--cluster ray://host:port`` (Ray
Client, where answers come back per batch: it has no streaming generators). Both print what
one in-process engine prints. Slow: it starts a cluster with ``ray start``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.optimizer_fixture import fixture_sql
from tests.test_optimizer_equivalence import F

pytestmark = pytest.mark.slow
CLIENT_PORT = 10001


@pytest.fixture(scope="module")
def head():
    """``ray start --head`` in this namespace, stopped (with every process it started) at
    the end."""
    ray_cli = str(Path(sys.executable).with_name("ray"))
    proc = subprocess.Popen([ray_cli, "start", "--head", "--block", "--num-cpus=2",
                             "--include-dashboard=false", "--disable-usage-stats",
                             f"--ray-client-server-port={CLIENT_PORT}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while subprocess.run([ray_cli, "status"], capture_output=True).returncode != 0:
        assert proc.poll() is None and time.monotonic() < deadline, "ray start failed"
        time.sleep(1)
    yield
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _cli(model: str, *flags: str) -> str:
    sql = fixture_sql(12) + f" SELECT id, {F} FROM reviews ORDER BY id"
    done = subprocess.run([sys.executable, "-m", "infersql.cli", "-m", model, *flags, "--csv",
                           "-c", sql], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def one_engine(tiny_model):
    return _cli(tiny_model)


def test_address_auto_joins_the_cluster_on_this_machine(head, tiny_model, one_engine):
    assert _cli(tiny_model, "--address", "auto") == one_engine


def test_ray_client_address_joins_the_cluster(head, tiny_model, one_engine):
    assert _cli(tiny_model, "--cluster", f"ray://127.0.0.1:{CLIENT_PORT}",
                "--workers", "2") == one_engine
