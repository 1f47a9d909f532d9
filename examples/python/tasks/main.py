"""The Multinode example project: one expensive task.

Deploy it with ``multinode deploy tasks/ --project-name=my_project``; the
application in ``app.py`` starts, watches and cancels its invocations.
"""
from datetime import timedelta

from multinode import Multinode

mn = Multinode()


@mn.function(cpu=4.0, memory="16 GiB", max_retries=1, max_concurrency=10, timeout=timedelta(hours=1))
def run_expensive_task(x: int) -> int:
    """Sums the squares below x: stands in for real work."""
    out = sum(i * i for i in range(x))
    return out
