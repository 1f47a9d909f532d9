"""The package's version (also in pyproject.toml; a test keeps them equal)."""

__version__ = "1.1.0"
