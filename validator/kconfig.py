"""A kernel ``.config`` as Kconfig writes it: ``CONFIG_X=value`` and ``# CONFIG_X is not set``.

Lines that are neither, nor comments or blank, are kept as ``problems`` with their line
numbers (and skipped), so a rule can report them without stopping.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field

_SET = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")
_HEADER = re.compile(r"^# Linux/(\S+) (\S+) Kernel Configuration$")
_VALUE = re.compile(r'^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$')

#: Largest .config accepted (Debian's are about 300 KB).
MAX_SIZE = 8 << 20


@dataclass
class KernelConfig:
    path: str
    values: dict[str, str] = field(default_factory=dict)  # name without CONFIG_ -> raw value
    arch: str | None = None  # from the "# Linux/<arch> <version> Kernel Configuration" line
    version: str | None = None
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)

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


class ConfigError(Exception):
    """The file cannot be read as a kernel configuration at all."""


def load(path: str) -> KernelConfig:
    """Read a .config (plain or gzip, as /proc/config.gz)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            if head == b"\x1f\x8b":
                with gzip.open(f) as g:
                    data = g.read(MAX_SIZE + 1)
            else:
                data = f.read(MAX_SIZE + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except (EOFError, gzip.BadGzipFile) as exc:
        raise ConfigError(f"{path}: not a readable gzip file: {exc}") from None
    if len(data) > MAX_SIZE:
        raise ConfigError(f"{path}: larger than {MAX_SIZE >> 20} MiB, not a kernel .config")
    return parse(data.decode("utf-8", "replace"), path)


def parse(text: str, path: str = "<config>") -> KernelConfig:
    config = KernelConfig(path)
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip()
        if not line:
            continue
        m = _SET.match(line)
        if m:
            name, value = m.groups()
            if _VALUE.match(value):
                config.values[name] = value
            else:
                config.problems.append((number, line))
            continue
        m = _UNSET.match(line)
        if m:
            config.values[m.group(1)] = "n"
            continue
        m = _HEADER.match(line)
        if m:
            config.arch, config.version = m.groups()
            continue
        if line.startswith("#"):
            continue
        config.problems.append((number, line))
    return config
