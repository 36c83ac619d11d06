"""README.md's first two commands: the install-and-query line and the test line.

Why: they are what a newcomer pastes first. An interactive bash applies history expansion to a
typed line, inside double quotes too, so one ``!`` in the SQL of ``infersql -c "..."``
("highly recommended!") made the first command fail with "event not found" for everyone who
pasted it. And the test line must be the one CI runs, or the README promises a green run that
nobody checks.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


def survives_history_expansion(line: str) -> bool:
    """Whether an interactive bash runs ``line`` as written: ``history -p`` applies the very
    expansion that bash applies to a typed line, and fails on a ``!`` that names an event."""
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", 'set -o history -H; history -p -- "$1"',
                           "_", line], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.rstrip("\n") == line


needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@needs_bash
def test_the_check_catches_a_bang_in_double_quotes():
    assert not survives_history_expansion("""infersql -c "SELECT 'highly recommended!' AS x" """)
    assert survives_history_expansion("""infersql -c "SELECT 'highly recommended' AS x" """)


@needs_bash
def test_the_first_command_runs_as_pasted_into_an_interactive_bash():
    lines = [ln for ln in bash_blocks()[0].splitlines() if ln.strip()]
    assert lines and "infersql -c" in lines[0]
    for line in lines:
        assert survives_history_expansion(line), line


def test_the_test_command_is_the_one_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert bash_blocks()[1].strip() == ci
