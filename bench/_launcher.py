"""Starts the benchmarked commands from a process that stays small.

On exec Linux keeps the old address space's peak RSS as the new program's starting
``ru_maxrss``, and a child made by fork or vfork starts from its parent's. The benchmark
process grows (it builds test images), so it hands every command to this launcher, run
as ``python -I -S``, which forks, execs and ``wait4``s it: a command's peak RSS is then
its own, or this launcher's (about 8 MiB) if that is larger.

Protocol: one JSON request per line on stdin, ``{"argv": [...], "cwd": "...", "env":
{...}}``; one JSON answer per line on stdout, ``{"wall": s, "cpu": s, "maxrss": KiB,
"status": n}``. ``argv[0]`` without a slash is looked up in the request's PATH, as a
shell does (``sh``, ``gzip``); a program that cannot be started exits 127, which the
benchmark reports and never divides by.
"""

import json
import os
import sys
import time


def main():
    null = os.open(os.devnull, os.O_WRONLY)
    for line in sys.stdin:
        req = json.loads(line)
        argv = req["argv"]
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(null, 1)
                os.dup2(null, 2)
                if req.get("cwd"):
                    os.chdir(req["cwd"])
                os.execvpe(argv[0], argv, req.get("env") or os.environ)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
        sys.stdout.write(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                                     "maxrss": usage.ru_maxrss,
                                     "status": os.waitstatus_to_exitcode(status)}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
