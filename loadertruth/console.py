"""Drive a QEMU serial console over pipes: a reader thread, waits with deadlines."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time


class Console:
    """``qemu-system-* -serial stdio`` as a child; everything it prints is collected."""

    def __init__(self, cmd: list[str], env: dict | None = None):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self.buf = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            chunk = out.read1(65536)
            if not chunk:
                return
            with self._lock:
                self.buf.extend(chunk)

    def text(self) -> str:
        with self._lock:
            return self.buf.decode("utf-8", "replace")

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def send(self, data: str) -> None:
        if self.proc.stdin is None or self.proc.poll() is not None:
            return
        try:
            self.proc.stdin.write(data.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def wait_for(self, needles: list[str], deadline: float, start: int = 0) -> str | None:
        """Wait until one of ``needles`` appears at or after character ``start``; return
        it, or None at the deadline (absolute, monotonic) or when QEMU exits."""
        while True:
            t = self.text()[start:]
            for n in needles:
                if n in t:
                    return n
            if time.monotonic() >= deadline or self.proc.poll() is not None:
                t = self.text()[start:]
                return next((n for n in needles if n in t), None)
            time.sleep(0.02)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._reader.join(timeout=2)
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass
