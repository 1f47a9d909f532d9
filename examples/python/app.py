"""A FastAPI application that runs the example task on Multinode.

    multinode deploy tasks/ --project-name=my_project
    python3 -m uvicorn app:app --port 8000

then ``POST /tasks?x=10000``, ``GET /tasks/{invocation_id}`` and
``PUT /tasks/{invocation_id}/cancel``. The Multinode client reads the API URL
and key from MULTINODE_API_URL / MULTINODE_API_KEY or from the file that
``multinode login`` writes, and is safe to call from FastAPI's threads.
"""
from typing import Any

from fastapi import FastAPI, HTTPException

from multinode import get_deployed_function
from multinode.api_client.error_types import InvocationDoesNotExist

app = FastAPI()
run_expensive_task = get_deployed_function(
    project_name="my_project", function_name="run_expensive_task"
)


@app.post("/tasks")
def start_task(x: int) -> dict[str, str]:
    """Starts one invocation and answers its id."""
    invocation_id = run_expensive_task.start(x=x)
    return {"invocation_id": invocation_id}


@app.get("/tasks/{invocation_id}")
def get_task(invocation_id: str) -> dict[str, Any]:
    """The invocation's status (PENDING, RUNNING, SUCCEEDED, ...) and result."""
    try:
        invocation_data = run_expensive_task.get(invocation_id)
    except InvocationDoesNotExist:
        raise HTTPException(status_code=404, detail="no such task")
    return {
        "status": invocation_data.status,
        "result": invocation_data.result,
        "error": invocation_data.error,
    }


@app.put("/tasks/{invocation_id}/cancel")
def cancel_task(invocation_id: str) -> dict[str, str]:
    """Asks for the invocation to be cancelled."""
    run_expensive_task.cancel(invocation_id)
    return {"invocation_id": invocation_id}
