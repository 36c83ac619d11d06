"""The scale-out tests start Ray, so they run only inside a private network namespace, where
loopback is the only interface: tests/test_scale_out.py runs each module there, in a process
of its own (so each module starts Ray once). Anywhere else they are not collected."""
from tests.netns import isolated

collect_ignore_glob = [] if isolated() else ["test_*.py"]
