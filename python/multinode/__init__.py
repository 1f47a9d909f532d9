"""Multinode: run Python functions as asynchronous tasks on provisioned workers.

>>> from multinode import Multinode, get_deployed_function
"""

from multinode._version import __version__
from multinode.core.external import get_deployed_function
from multinode.core.multinode import Multinode

__all__ = ["Multinode", "get_deployed_function", "__version__"]
