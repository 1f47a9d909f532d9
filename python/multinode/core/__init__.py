"""The user-facing objects: ``Multinode``, ``Function``, ``Invocation``."""
