"""The control plane's limits (docs/compatibility.md §1.2).

The client applies them with the server's own rules, so that anything the
client accepts the server accepts too (the original client used ``>`` where
the server uses ``>=``).
"""

from typing import Final

VIRTUAL_CPUS_LIMIT: Final = 16
"""0 < virtual_cpus <= 16."""
MEMORY_GBS_LIMIT: Final = 64
"""0 < memory_gbs <= 64."""
MAX_CONCURRENCY_LIMIT: Final = 100
"""1 <= max_concurrency <= 100."""
MAX_RETRIES_LIMIT: Final = 50
"""0 <= max_retries <= 50."""
TIMEOUT_SECONDS_LIMIT: Final = 86400
"""1 <= timeout_seconds <= 86400."""
INPUT_LENGTH_LIMIT: Final = 250000
"""An input of this many characters or more is rejected."""
OUTPUT_LENGTH_LIMIT: Final = 250000
"""An output (progress or final) of this many characters or more is rejected."""
ERROR_MESSAGE_LENGTH_LIMIT: Final = 16384
"""An error message of this many characters or more is rejected."""
FUNCTION_NAME_LENGTH_LIMIT: Final = 1024
"""A function name of this many characters or more is rejected."""
