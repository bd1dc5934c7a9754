"""Project defaults from ``[tool.kimage]`` in the nearest ``pyproject.toml``, as ruff does.

    [tool.kimage]
    fail-on = "warning"
    select = ["arm64", "ppc64", "config"]
    ignore = ["arm64/text-offset-unusual"]
    loaders = ["kexec-file"]
    target = "arm64:4k"

    [tool.kimage.severity]
    "arm64/no-efi-stub" = "warning"

Command-line options override these.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from validator.model import SEVERITIES


class SettingsError(ValueError):
    pass


@dataclass
class Settings:
    path: str | None = None
    fail_on: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    loaders: list[str] = field(default_factory=list)
    target: str | None = None
    severity: dict[str, str] = field(default_factory=dict)


def find_pyproject(start: str | os.PathLike | None = None) -> Path | None:
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: str | os.PathLike | None = None) -> Settings:
    """The settings that apply in ``start`` (default: the working directory); read once
    per pyproject.toml and process, as lint asks for every image."""
    path = find_pyproject(start)
    if path is None:
        return Settings()
    return _load(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime: int) -> Settings:
    import tomllib

    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
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
    s = Settings(path=str(path))
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
