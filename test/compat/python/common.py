"""Shared plumbing for the compat scripts: one JSON argument in, one JSON object out.

Each script is run as `/usr/bin/python3 <script> '<json>'` where the JSON has an
"op" and its parameters. The result is printed as the last stdout line; on
failure the script prints {"error": "..."} and exits 1. Every wait is bounded.
"""
import json
import sys
import time
import traceback


def b2s(b):
    if b is None:
        return None
    if isinstance(b, (bytes, bytearray)):
        return b.decode("utf-8", "replace")
    return str(b)


def s2b(s):
    if s is None:
        return None
    return s.encode("utf-8")


def main(ops):
    arg = json.loads(sys.argv[1])
    op = arg.get("op")
    fn = ops.get(op)
    if fn is None:
        print(json.dumps({"error": f"unknown op {op!r}"}))
        sys.exit(1)
    try:
        result = fn(arg)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
    print(json.dumps(result))
    sys.stdout.flush()


def deadline(seconds):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() < end


def emit(obj):
    """A progress line for a test that watches a long-running script."""
    print(json.dumps(obj))
    sys.stdout.flush()
