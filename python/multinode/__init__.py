"""Multinode: run Python functions as asynchronous tasks on provisioned workers.

>>> from multinode import Multinode, get_deployed_function
"""

from multinode._version import __version__
from multinode.core.external import get_deployed_function, get_invocation
from multinode.core.function import StartOptions
from multinode.core.heartbeat import heartbeat
from multinode.core.multinode import Multinode

__all__ = ["Multinode", "StartOptions", "get_deployed_function", "get_invocation", "heartbeat",
           "__version__"]
