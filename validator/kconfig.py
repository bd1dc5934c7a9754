"""A kernel ``.config`` as Kconfig writes it: ``CONFIG_X=value`` and ``# CONFIG_X is not set``.

Lines that are neither, nor comments or blank, are kept as ``problems`` with their line
numbers (the first ``MAX_PROBLEMS``; ``problem_count`` counts them all) and skipped, so a
rule can report them without stopping.

``load`` reads a file as a stream, a megabyte at a time (validator/textlines.py), with
bounds (``MAX_SIZE`` bytes of text after gzip, ``MAX_LINE`` a line, ``MAX_SETTINGS``
symbols), so neither a large nor a compressed file costs more memory than a real .config;
each read's lines are parsed by one regular expression (``_LINE``); and it refuses, with
one line (``ConfigError``), what is no kernel .config at all: a FIFO or device, a corrupt
gzip stream, binary data (a NUL byte), or a file without a single ``CONFIG_X=`` or
``# CONFIG_X is not set`` line.
"""

from __future__ import annotations

import re

#: One line, rstripped (``str.rstrip``'s whitespace), in the groups ``_text`` reads by
#: number (``lastindex``): 2 a setting with a value Kconfig writes (name 1), 3 a symbol
#: not set, 5 the header "# Linux/<arch> <version> Kernel Configuration" (arch 4), 7 a
#: setting with any other value (name 6), 8 a line that is no comment. Blank lines and
#: other comments do not match: the search passes them without a step in Python.
_LINE = re.compile(
    r"^(?:CONFIG_([A-Za-z0-9_]+)="
    r'(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\\n]|\\.)*")'
    r"|# CONFIG_([A-Za-z0-9_]+) is not set"
    r"|# Linux/(\S+) (\S+) Kernel Configuration"
    r"|CONFIG_([A-Za-z0-9_]+)=(.*?)"
    r"|(?!#)([^\S\n]*\S.*?))[^\S\n]*$", re.M)

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


class KernelConfig:
    """A parsed .config: ``values`` maps a name without CONFIG_ to its raw value ("n"
    for a symbol not set); ``arch`` and ``version`` are the header's; ``problems`` the
    first ``MAX_PROBLEMS`` (line number, text) of ``problem_count`` malformed lines;
    ``lines`` counts the CONFIG_X=... and "# CONFIG_X is not set" lines, well-formed or
    not. A plain class: ``dataclasses`` would import ``inspect`` (39 M instructions)."""

    __slots__ = ("path", "values", "arch", "version", "problems", "problem_count", "lines")

    def __init__(self, path: str) -> None:
        self.path = path
        self.values: dict[str, str] = {}
        self.arch: str | None = None
        self.version: str | None = None
        self.problems: list[tuple[int, str]] = []
        self.problem_count = 0
        self.lines = 0

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

    def _text(self, text: str, first: int) -> None:
        """Read the lines of ``text``, the first of them line number ``first``."""
        values, lines = self.values, 0
        at, number = 0, first  # a position in text and its line's number (for problems)
        for m in _LINE.finditer(text):
            kind = m.lastindex
            if kind == 2:
                values[m[1]] = m[2]  # "y", "m", "n": shared one-letter strings
                lines += 1
            elif kind == 3:
                values[m[3]] = "n"
                lines += 1
            elif kind == 5:
                self.arch, self.version = m[4], m[5]
            else:
                lines += kind == 7
                if len(self.problems) < MAX_PROBLEMS:
                    number += text.count("\n", at, m.start())
                    at = m.start()
                    self._problem(number, text[at:m.end(kind)])
                else:
                    self.problem_count += 1
        self.lines += lines


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
    from validator.textlines import blocks

    config = KernelConfig(path)
    too_big = f"{name}: more than {MAX_SIZE >> 20} MiB of text, not a kernel .config"
    for first, text in blocks(stream, name, "a kernel .config", ConfigError, MAX_SIZE,
                              MAX_LINE, too_big):
        if text is None:
            config._problem(first, f"a line longer than {MAX_LINE} bytes")
            continue
        config._text(text, first)
        if len(config.values) > MAX_SETTINGS:
            raise ConfigError(f"{name}: more than {MAX_SETTINGS} settings, "
                              "not a kernel .config")
    return config


def parse(text: str, path: str = "<config>") -> KernelConfig:
    """A .config given as text (a package's member), every line read."""
    config = KernelConfig(path)
    config._text(text, 1)
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
