"""Scale-out without Ray running: the options are checked at connect(), a plain connection
never imports Ray, the work queues hand out and steal whole units, and EXPLAIN's projection
routes and simulates each worker's share. (The Ray runs are tests/test_scale_out.py.)"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import infersql
from executor.engine.config import EngineConfig
from executor.engine.routing import route
from executor.engine.simulator import simulate
from executor.scale import settings
from executor.scale.projection import project_shares
from executor.scale.work_queues import Piece, WorkQueues


@pytest.mark.parametrize("options, message", [
    ({"workers": 0}, "workers must be a positive integer, got 0"),
    ({"workers": "2"}, "workers must be a positive integer"),
    ({"cluster": "localhost:10001"}, "cluster must be a Ray Client address 'ray://host:port'"),
    ({"cluster": "ray://h:1", "address": "auto"}, "not both"),
])
def test_bad_scale_out_options_fail_at_connect(options, message):
    with pytest.raises(infersql.ProgrammingError, match=message):
        infersql.connect(**options)


def test_without_ray_installed_scale_out_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(settings, "ray_installed", lambda: False)
    with pytest.raises(infersql.OperationalError, match=r"pip install 'infersql\[ray\]'"):
        infersql.connect(workers=2)


def test_a_plain_connection_never_imports_ray(tiny_model):
    code = ("import sys, infersql\n"
            f"c = infersql.connect(model={tiny_model!r})\n"
            "assert c.execute(\"SELECT LLM_FILTER('Is it a dog?', 'a dog')\").fetchall()\n"
            "c.execute(\"EXPLAIN SELECT LLM('Hi', 'x')\").fetchall()\n"
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.getcwd()), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_cli_scale_out_flags_are_checked():
    from infersql.cli import _parse

    args = _parse(["--workers", "2", "--address", "auto"])
    assert (args.workers, args.address, args.cluster) == (2, "auto", None)
    for bad in (["--workers", "0"], ["--cluster", "ray://h:1", "--address", "auto"]):
        with pytest.raises(SystemExit):
            _parse(bad)


# ---- work queues --------------------------------------------------------------------------
def _queues(**shares) -> WorkQueues:
    q = WorkQueues()
    for worker, pieces in shares.items():
        q.assign(int(worker[1:]), [Piece(range(a, b), float(b - a)) for a, b in pieces])
    return q


def test_a_worker_takes_whole_units_from_the_head_of_its_own_queue():
    q = _queues(w0=[(0, 3), (3, 5), (5, 9)], w1=[(9, 12)])
    assert q.take(0, want=4) == [0, 1, 2, 3, 4]          # whole units, until 4 or more
    assert q.upcoming(0, limit=2) == [5, 6]
    assert q.take(0, want=4) == [5, 6, 7, 8]
    assert q.steals == 0


def test_an_idle_worker_steals_from_the_tail_of_the_busiest_at_most_half():
    q = _queues(w0=[], w1=[(0, 2), (2, 4)], w2=[(10, 12), (12, 14), (14, 16), (16, 18)])
    stolen = q.take(0, want=100)
    assert stolen == [14, 15, 16, 17]                    # busiest (w2), its tail, in order
    assert q.queued(2) == 4 and q.steals == 2
    assert q.take(2, want=1) == [10, 11]                 # the victim keeps its head


def test_a_lost_workers_queue_is_handed_back_whole():
    q = _queues(w0=[(0, 2), (2, 5)], w1=[(5, 6)])
    assert q.drop(0) == [0, 1, 2, 3, 4]
    assert q.take(0, want=8) == [5]                      # nothing of its own left: it steals
    assert q.empty()


# ---- EXPLAIN's projection -----------------------------------------------------------------
def _movie_prompts(movies: int = 6, reviews: int = 5) -> list[list[int]]:
    return [[1, 2, 3] + [10 + m] * 40 + [100 + r] * 6 for m in range(movies)
            for r in range(reviews)]


def test_projection_routes_like_the_pool_and_simulates_each_share(tiny_model):
    config = EngineConfig(model=tiny_model, kv_cache_bytes=4 << 20)
    prompts = _movie_prompts()
    lens = [1] * len(prompts)
    projected = project_shares(config, prompts, lens, workers=2)
    shares = route(prompts, 2, lens)
    assert [s.requests for s in projected.shares] == [len(s.indexes()) for s in shares]
    for share, estimate in zip(shares, projected.shares):
        mine = share.indexes()
        alone = simulate(config, [prompts[i] for i in mine], [1] * len(mine))
        assert estimate.prefill_tokens == alone.stats.prefilled_tokens
    assert projected.makespan == max(s.seconds for s in projected.shares)
    one = project_shares(config, prompts, lens, workers=1)
    assert projected.makespan < one.makespan
    # a movie's prefix is computed on one worker: two workers prefill what one engine does,
    # plus the 3-token instruction that the second worker computes too
    assert sum(s.prefill_tokens for s in projected.shares) == one.shares[0].prefill_tokens + 3
