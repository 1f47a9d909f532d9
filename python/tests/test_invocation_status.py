"""The derived status rules of docs/compatibility.md §6.4, driven by tests/data/status/derived_status.json."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from conftest import REPO_DIR
from multinode.core.invocation import Invocation, InvocationStatus, derive_invocation

TABLE = os.path.join(REPO_DIR, "tests", "data", "status", "derived_status.json")


def _cases() -> list[dict[str, Any]]:
    with open(TABLE, encoding="utf-8") as f:
        cases: list[dict[str, Any]] = json.load(f)["cases"]
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_derived_status(case: dict[str, Any]) -> None:
    got = derive_invocation(case["invocation"])
    want = case["expected"]
    assert got.status == InvocationStatus(want["status"])
    assert got.status.value == want["status"]
    assert got.result == want["result"]
    assert got.error == want["error"]
    assert got.num_failed_attempts == want["num_failed_attempts"]
    assert got.terminated == want["terminated"]
    assert got.invocation_id == case["invocation"]["invocation_id"]


def test_table_covers_every_rule_and_status() -> None:
    cases = _cases()
    assert {c["rule"] for c in cases} == set(range(1, 10))
    assert {c["expected"]["status"] for c in cases} == {s.value for s in InvocationStatus}
    assert len({c["name"] for c in cases}) == len(cases)


def test_status_enum_is_a_str_with_its_value() -> None:
    assert str(InvocationStatus.TIMED_OUT) == "TIMED OUT"
    assert f"{InvocationStatus.SUCCEEDED}" == "SUCCEEDED"
    assert json.dumps({"s": InvocationStatus.TIMED_OUT}) == '{"s": "TIMED OUT"}'
    assert InvocationStatus("TIMED OUT") is InvocationStatus.TIMED_OUT
    assert InvocationStatus.SUCCEEDED == "SUCCEEDED"
    assert [s.name for s in InvocationStatus] == [
        "SUCCEEDED", "CANCELLED", "CANCELLING", "TIMED_OUT", "RUNNING", "PENDING", "FAILED"
    ]
    finished = {s for s in InvocationStatus if s.finished}
    assert finished == {
        InvocationStatus.SUCCEEDED, InvocationStatus.CANCELLED,
        InvocationStatus.TIMED_OUT, InvocationStatus.FAILED,
    }


def test_readable_status() -> None:
    inv = Invocation(InvocationStatus.FAILED, None, "x", True, 2)
    assert inv.readable_status() == "(FAILED, 2 failed attempts)"
    inv = Invocation(InvocationStatus.SUCCEEDED, 1, None, False, 0)
    assert inv.readable_status() == "(SUCCEEDED - terminating)"
    inv = Invocation(InvocationStatus.PENDING, None, None, False, 1)
    assert inv.readable_status() == "(PENDING, 1 previous failed attempt)"


def test_result_keeps_jsonpickle_types() -> None:
    doc = _cases()[0]["invocation"]
    doc = dict(doc, executions=[{
        "execution_id": "exe-1", "worker_status": "TERMINATED", "outcome": "SUCCEEDED",
        "output": '{"py/tuple": [1, 2]}', "error_message": None, "termination_signal_time": None,
        "creation_time": 1001, "last_update_time": 1002, "execution_start_time": 1001,
        "execution_finish_time": 1002,
    }])
    inv = derive_invocation(doc)
    assert inv.result == (1, 2) and isinstance(inv.result, tuple)


@pytest.mark.parametrize("output", [
    "plain text", "", "[1, 2",
    '{"py/reduce": [{"py/function": "nonexistent_module.f"}, {"py/tuple": [1]}]}',
])
def test_undecodable_output_is_the_raw_text(output: str) -> None:
    doc = dict(_cases()[0]["invocation"], executions=[{
        "execution_id": "exe-1", "worker_status": "RUNNING", "outcome": None,
        "output": output, "error_message": None, "termination_signal_time": None,
        "creation_time": 1001, "last_update_time": 1002, "execution_start_time": 1001,
        "execution_finish_time": None,
    }])
    assert derive_invocation(doc).result == output
