"""Distributed example: a task that fans out subtasks and sums their results.

``sum_of_squares(n)`` starts one ``square`` subtask per number with ``.map``
(each runs on its own worker, on the same version, with this invocation as
its parent), then adds up what they return. Progress is reported by
yielding: each yield is visible to callers as a partial result, and the
last one is the result.
"""
from typing import Iterator

from multinode import Multinode

mn = Multinode()


@mn.function(cpu=0.1, memory="256 MiB", max_concurrency=50)
def square(x: int) -> int:
    """One unit of work."""
    return x * x


@mn.function(cpu=0.1, memory="256 MiB")
def sum_of_squares(n: int) -> Iterator[int]:
    """Fans out n subtasks and sums them, yielding the running total."""
    total = 0
    for value in square.map(range(n)):
        total += value
        yield total
