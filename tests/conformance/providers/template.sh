# The template provider keeps its workers in memory and runs no command: a
# worker "exits" at once and its log is made up; it refuses no function.
# (When it becomes HTTP-backed, issue 17 item 6, this starts its simulator.)
export CONFORMANCE_NO_RESTART=1 CONFORMANCE_ACCEPTS_ANY_FUNCTION=1 CONFORMANCE_FAKE_WORKERS=1
