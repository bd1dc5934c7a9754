"""A kernel ``.config`` as Kconfig writes it: ``CONFIG_X=value`` and ``# CONFIG_X is not set``.

Lines that are neither, nor comments or blank, are kept as ``problems`` with their line
numbers (the first ``MAX_PROBLEMS``; ``problem_count`` counts them all) and skipped, so a
rule can report them without stopping.

``load`` reads a file as a stream with bounds (``MAX_SIZE`` bytes of text after gzip,
``MAX_LINE`` a line, ``MAX_SETTINGS`` symbols), so neither a large nor a compressed file
costs more memory than a real .config; and it refuses, with one line (``ConfigError``),
what is no kernel .config at all: a FIFO or device, a corrupt gzip stream, binary data
(a NUL byte), or a file without a single ``CONFIG_X=`` or ``# CONFIG_X is not set`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")
_HEADER = re.compile(r"^# Linux/(\S+) (\S+) Kernel Configuration$")
_VALUE = re.compile(r'^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$')

#: Most text read, after decompression (a distribution's .config is about 300 KB).
#: config_problem: a line that is neither CONFIG_NAME=value, a comment nor blank; bytes
#: no text file holds; a setting
_CONFIG_BAD = re.compile(rb"^(?!#|CONFIG_[A-Za-z0-9_]+=|[ \t]*\r?$)", re.M)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONFIG_SETTING = re.compile(rb"^CONFIG_[A-Za-z0-9_]+=", re.M)
MAX_SIZE = 8 << 20
#: Longest line (CONFIG_CMDLINE and friends are at most a few KB).
MAX_LINE = 64 << 10
#: Most distinct symbols (all of Kconfig has about 20,000).
MAX_SETTINGS = 1 << 16
#: Malformed lines kept to report.
MAX_PROBLEMS = 20
_SHARED = {"y": "y", "m": "m", "n": "n"}


@dataclass
class KernelConfig:
    path: str
    values: dict[str, str] = field(default_factory=dict)  # name without CONFIG_ -> raw value
    arch: str | None = None  # from the "# Linux/<arch> <version> Kernel Configuration" line
    version: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)
    problem_count: int = 0
    lines: int = 0  # CONFIG_X=... and "# CONFIG_X is not set" lines, well-formed or not

    def enabled(self, name: str) -> bool:
        return self.values.get(name) in ("y", "m")

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def integer(self, name: str) -> int | None:
        raw = self.values.get(name)
        if raw is None:
            return None
        try:
            return int(raw, 0)
        except ValueError:
            return None

    def _problem(self, number: int, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((number, text[:200]))

    def _line(self, number: int, line: str) -> None:
        line = line.rstrip()
        if not line:
            return
        m = _SET.match(line)
        if m:
            self.lines += 1
            name, value = m.groups()
            if _VALUE.match(value):
                self.values[name] = _SHARED.get(value, value)
            else:
                self._problem(number, line)
            return
        m = _UNSET.match(line)
        if m:
            self.lines += 1
            self.values[m.group(1)] = "n"
            return
        m = _HEADER.match(line)
        if m:
            self.arch, self.version = m.groups()
            return
        if not line.startswith("#"):
            self._problem(number, line)


class ConfigError(Exception):
    """The file cannot be read as a kernel configuration at all."""


def load(path: str, what: str = "") -> KernelConfig:
    """Read a .config (plain or gzip, as /proc/config.gz); ``what`` names the option in
    messages (``--config``)."""
    import gzip
    import os
    import zlib

    from validator.source import InputError, open_regular

    name = f"{what} {path}" if what else str(path)
    try:
        fd, _ = open_regular(path, what=what)
    except InputError as exc:
        raise ConfigError(str(exc)) from None
    with os.fdopen(fd, "rb") as raw:
        try:
            compressed = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            config = _read(stream, path, name)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ConfigError(f"{name}: corrupt gzip data ({exc or 'cut short'}), "
                              "not a readable .config") from None
        except OSError as exc:
            raise ConfigError(f"{name}: {exc.strerror or exc}") from None
    if not config.lines:
        raise ConfigError(f"{name}: no CONFIG_ lines, not a kernel .config")
    return config


def _read(stream, path: str, name: str) -> KernelConfig:
    from validator.textlines import lines

    config = KernelConfig(path)
    too_big = f"{name}: more than {MAX_SIZE >> 20} MiB of text, not a kernel .config"
    for number, line in lines(stream, name, "a kernel .config", ConfigError, MAX_SIZE,
                              MAX_LINE, too_big):
        if line is None:
            config._problem(number, f"a line longer than {MAX_LINE} bytes")
            continue
        config._line(number, line.decode("utf-8", "replace"))
        if len(config.values) > MAX_SETTINGS:
            raise ConfigError(f"{name}: more than {MAX_SETTINGS} settings, "
                              "not a kernel .config")
    return config


def parse(text: str, path: str = "<config>") -> KernelConfig:
    config = KernelConfig(path)
    for number, line in enumerate(text.split("\n"), 1):
        config._line(number, line)
    return config


def config_problem(data: bytes) -> str:
    """Why ``data`` is not a kernel .config ("" when it is one)."""
    if not data.strip():
        return "empty"
    if _CONTROL.search(data):
        return f"binary, {len(data)} bytes"
    bad = _CONFIG_BAD.search(data)
    if bad:
        number = data.count(b"\n", 0, bad.start()) + 1
        return f"line {number} is neither CONFIG_NAME=value nor a comment"
    if not _CONFIG_SETTING.search(data):
        return "no CONFIG_ line"
    return ""
