#!/bin/sh
# The worker entrypoint of the conformance suite, for every provider that
# runs commands: there is no daemon to call (/start, /finish), so the
# function's command runs directly.
exec "$@"
