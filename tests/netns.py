"""Running Ray only where loopback is the sole network interface.

Why: Ray binds the machine's own interface address, even when told 127.0.0.1, and tests and
benchmarks must never listen on, or talk to, anything but loopback. A new network namespace
(``unshare -n``, as root) has only ``lo``; bringing it up gives Ray a 127.0.0.1 to bind. The
scale-out tests (tests/test_scale_out.py) and bench/ray_bench.py run their Ray work in one.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile

RAY_ENV = {"RAY_AUTH_MODE": "disabled",          # nothing but loopback can reach it
           "RAY_USAGE_STATS_ENABLED": "0"}


def unavailable() -> str | None:
    """Why no private network namespace can be made here; None when one can."""
    for tool in ("unshare", "ip"):
        if shutil.which(tool) is None:
            return f"the {tool!r} command is missing (util-linux, iproute2)"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"],
                           capture_output=True, text=True)
    if probe.returncode:
        return f"unshare -n is not permitted here ({probe.stderr.strip() or probe.returncode})"
    return None


def isolated() -> bool:
    """True inside such a namespace: loopback is this process's only interface."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def command(argv: list[str]) -> list[str]:
    """``argv``, run in a new network namespace with loopback up and nothing else."""
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"', *argv]


def environment(**extra: str) -> dict[str, str]:
    """The environment for a Ray run: no token file written to ~/.ray, no usage report."""
    return dict(os.environ, **RAY_ENV, **extra)


def run(argv: list[str], timeout: float, env: dict[str, str],
        **kwargs) -> subprocess.CompletedProcess:
    """``argv`` in a namespace of its own, in a session of its own so a timeout ends every
    process it started (Ray's too) and nothing else. Ray's session files go to a private
    short folder (its socket paths must stay short), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ray", dir="/tmp",
                                     ignore_cleanup_errors=True) as folder:
        proc = subprocess.Popen(command(argv), start_new_session=True, text=True,
                                env=dict(env, RAY_TMPDIR=folder), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, **kwargs)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, _ = proc.communicate()
            out += f"\n[timed out after {timeout:.0f} s]"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, None)
