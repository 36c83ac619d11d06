"""Scale-out on Ray (``connect(workers=2)``): each module of tests/scale_out/ runs in a
process of its own, inside a network namespace where loopback is the only interface (Ray
binds the machine's interface address otherwise). Skipped, saying why, without Ray or
without permission to make the namespace."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import netns

pytest.importorskip("ray", reason="Ray is an optional extra (pip install -e '.[ray]'); "
                                  "the scale-out tests need it")
_WHY = netns.unavailable()
if _WHY:
    pytest.skip(f"the scale-out tests run Ray in a private network namespace, and {_WHY}",
                allow_module_level=True)

REPO = Path(__file__).resolve().parent.parent
FAST = ["test_pool_equivalence.py", "test_pool_work.py"]
SLOW = ["test_pool_equivalence.py", "test_cluster_join.py"]


def _run(module: str, marks: str, timeout: float) -> None:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", marks,
            f"tests/scale_out/{module}"]
    env = netns.environment(PYTHONPATH=str(REPO))     # Ray's worker processes import it too
    done = netns.run(argv, timeout, cwd=REPO, env=env)
    tail = done.stdout[-8000:]
    assert done.returncode == 0, f"{module} in a network namespace:\n{tail}"
    print(f"\n  {module}: {tail.strip().splitlines()[-1]}")


@pytest.mark.parametrize("module", FAST)
def test_scale_out(module, capsys):
    with capsys.disabled():
        _run(module, "not slow", timeout=420)


@pytest.mark.slow
@pytest.mark.parametrize("module", SLOW)
def test_scale_out_slow(module, capsys):
    """The rest of the equivalence suite (every planned shape), and joining a running
    cluster by address='auto' and by Ray Client (ray://)."""
    with capsys.disabled():
        _run(module, "slow or not slow", timeout=1200)
