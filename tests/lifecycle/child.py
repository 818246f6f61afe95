"""A training script the lifecycle tests run as a real subprocess.

argv[1] is JSON: {"init": {...trackwell.init kwargs...}, "steps": N, "then": "<ending>",
"progress": "<file>", "sigterm_exit": <code>}. It prints one JSON line once the steps are logged ("ready"), then ends
the way ``then`` says. With ``progress``, each step's number is stored in a shared memory map
before and after its log() call, so the test knows what was logged when a signal hit.
"""

from __future__ import annotations

import json
import mmap
import signal
import struct
import sys
import time

import trackwell

spec = json.loads(sys.argv[1])
if "sigterm_exit" in spec:  # the script's own SIGTERM handler, there before trackwell's
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(spec["sigterm_exit"]))
run = trackwell.init(**spec.get("init", {}))
slots = None
if spec.get("progress"):
    with open(spec["progress"], "r+b") as f:
        slots = mmap.mmap(f.fileno(), 16)


def log(i: int) -> None:
    if slots is not None:
        slots[0:8] = struct.pack("q", i)  # about to log step i
    run.log({"i": i, "loss": 1.0 / (i + 1)})
    if slots is not None:
        slots[8:16] = struct.pack("q", i)  # logged step i


for k in range(spec.get("steps", 0)):
    log(run.starting_step + k)
if "config" in spec:
    run.config.update(spec["config"], allow_val_change=True)
for key, value in spec.get("summary", {}).items():
    run.summary[key] = value
print(json.dumps({"ready": True, "id": run.id, "starting_step": run.starting_step, "resumed": run.resumed,
                  "name": run.name, "journal": str(run.journal_path()),
                  "summary": dict(run.summary.as_dict())}), flush=True)

then = spec.get("then", "finish")
if then == "finish":
    run.finish(exit_code=spec.get("code"))
elif then == "end":  # falls off the end of the script: atexit finishes the run
    pass
elif then == "sys.exit":
    sys.exit(spec["code"])
elif then == "raise SystemExit":
    raise SystemExit(spec["code"])
elif then == "swallow SystemExit":
    try:
        raise SystemExit(7)
    except SystemExit:
        pass
elif then == "error":
    raise ValueError("boom in training")
elif then == "keyboard":
    raise KeyboardInterrupt
elif then == "preempt":
    run.mark_preempting()
    print(json.dumps({"preempting": True}), flush=True)
    time.sleep(float(spec.get("sleep", 60)))
    sys.exit(spec.get("code", 1))
elif then == "loop":  # log until a signal (or the server) stops us
    i = run.starting_step + spec.get("steps", 0)
    while True:
        log(i)
        i += 1
        time.sleep(0.002)
elif then == "sleep":
    time.sleep(float(spec.get("sleep", 60)))
