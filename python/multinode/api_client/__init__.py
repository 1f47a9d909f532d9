"""The control plane's REST API: HTTP client, typed calls and error types.

Import what you need from the submodules (``multinode.api_client.error_types``,
``multinode.api_client.http``, ``multinode.api_client.api``).
"""
