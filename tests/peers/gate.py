#!/usr/bin/env python3
"""Test-only: a pause in a pipe.

usage: gate.py BYTES FILE

Copies stdin to stdout; after the first BYTES bytes it stops until FILE exists (at most 60 s),
then copies the rest. Put after a far end on an `exec:` line (`peer … | gate.py N FILE`), it
holds the call at a fixed point of its audio — the line's time is its samples — until the
test has done what it needs done mid-call. Written for softfax's tests.
"""
import os
import sys
import time

limit, gate = int(sys.argv[1]), sys.argv[2]
done = 0
while True:
    want = 65536 if done >= limit else min(65536, limit - done)
    data = os.read(0, want)
    if not data:
        break
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]
    done += len(data)
    if done == limit:
        deadline = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
