"""Project defaults from ``[tool.kimage]`` in the nearest ``pyproject.toml``, as ruff does.

    [tool.kimage]
    fail-on = "warning"
    select = ["arm64", "ppc64", "config"]
    ignore = ["arm64/text-offset-unusual"]
    loaders = ["kexec-file", "kexec-tools@2.0.29"]   # NAME or NAME@VERSION
    target = "arm64:4k"

    [tool.kimage.severity]
    "arm64/no-efi-stub" = "warning"

Command-line options override these. Every name in select, ignore and severity must be
a rule (severity: a rule ID; select and ignore: also a namespace such as ``arm64`` or
``arm64/``, or ALL): a misspelt one is a usage error, checked where the options are built
(validator.commands.check.build_options) since it needs the rule catalogue.
"""

from __future__ import annotations

import functools
import os

from validator.model import SEVERITIES

#: Largest pyproject.toml read (a project's is a few KB).
MAX_SIZE = 1 << 20


class SettingsError(ValueError):
    pass


class Settings:
    __slots__ = ("path", "fail_on", "select", "ignore", "loaders", "target", "severity")

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.fail_on: str | None = None
        self.select: list[str] = []
        self.ignore: list[str] = []
        self.loaders: list[str] = []
        self.target: str | None = None
        self.severity: dict[str, str] = {}


def find_pyproject(start: str | os.PathLike | None = None) -> str | None:
    """The nearest pyproject.toml in ``start`` (default: the working directory) or above."""
    directory = os.path.realpath(start or os.getcwd())
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load(start: str | os.PathLike | None = None) -> Settings:
    """The settings that apply in ``start`` (default: the working directory); read once
    per pyproject.toml and process, as lint asks for every image."""
    path = find_pyproject(start)
    if path is None:
        return Settings()
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    return _load(path, mtime)


def _may_name_kimage(data: bytes) -> bool:
    """Whether a TOML document can hold a ``kimage`` key: the name spelt out, or written
    with an escape in a quoted key (``"\\u006bimage"``). One that cannot is not parsed:
    its syntax is its project's concern, and parsing it (tomllib, in Python) cost a check
    more than the check itself (bench/)."""
    return b"kimage" in data or b"\\u" in data or b"\\U" in data


@functools.lru_cache(maxsize=8)
def _load(path: str, _mtime: int) -> Settings:
    from validator.source import InputError, open_regular

    try:
        fd, _ = open_regular(path)  # never blocks: a FIFO is refused
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_SIZE + 1)
    except InputError as exc:
        raise SettingsError(str(exc)) from None
    except OSError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    if len(data) > MAX_SIZE:
        raise SettingsError(f"{path}: larger than {MAX_SIZE >> 20} MiB")
    if not _may_name_kimage(data):
        return Settings()
    import tomllib

    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: {exc}") from None
    table = doc.get("tool", {}).get("kimage")
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise SettingsError(f"{path}: [tool.kimage] must be a table")
    known = {"fail-on", "select", "ignore", "loaders", "target", "severity"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise SettingsError(f"{path}: unknown [tool.kimage] keys: {', '.join(unknown)}")
    s = Settings(path=path)
    s.fail_on = table.get("fail-on")
    if s.fail_on is not None and s.fail_on not in SEVERITIES:
        raise SettingsError(f"{path}: fail-on must be one of {', '.join(SEVERITIES)}")
    for key in ("select", "ignore", "loaders"):
        value = table.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise SettingsError(f"{path}: {key} must be a list of strings")
        setattr(s, key, value)
    s.target = table.get("target")
    severity = table.get("severity", {})
    if not isinstance(severity, dict) or not all(v in SEVERITIES for v in severity.values()):
        raise SettingsError(f"{path}: [tool.kimage.severity] maps rule IDs to "
                            f"{', '.join(SEVERITIES)}")
    s.severity = dict(severity)
    return s
