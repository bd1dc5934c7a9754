"""Which kexec-tools the host has installed, and which distribution built it.

Read through ``validator.kdump.hostfs.HostFS`` (inside the root, bounded, never blocking),
each value with the file it came from (``Host.note``, topic ``kexec-tools``):

=============================  ============================================================
``/var/lib/dpkg/status``       the stanza ``Package: kexec-tools`` with ``Status: install ok
                               installed``: ``Version`` (``1:2.0.29-2+b1`` → upstream
                               2.0.29: the epoch and the Debian revision taken off);
                               streamed line by line, at most 64 MiB
``/usr/sbin/kexec``,           the binary's own ``PACKAGE_STRING`` (``kexec-tools 2.0.29``,
``/sbin/kexec``                what ``kexec --version`` prints: kexec/kexec.c ``version()``),
                               searched in 64 KiB chunks, at most 16 MiB, never loaded whole
``rpmdb.sqlite``               the rpm database (``/usr/lib/sysimage/rpm/``, ``/var/lib/rpm/``;
                               read when dpkg has no kexec-tools): the installed header named
                               ``kexec-tools``, its ``[E:]VERSION-RELEASE``
                               (``2.0.28-1.fc40`` → 2.0.28), by
                               ``validator.formats.rpm.rpmdb`` (read-only, bounded)
``/etc/os-release``,           ``ID`` (``debian``, ``fedora``): the distribution's build
``/usr/lib/os-release``
=============================  ============================================================

The package database says what is installed and its build; the binary is what runs, so
when both are read and disagree, the binary's version is taken and the disagreement noted.
On an rpm host the database is read when dpkg names no kexec-tools; without either, the
binary's string is the source.
"""

from __future__ import annotations

import os
import re

from validator.kdump.host import Host, KiB, MiB
from validator.kdump.hostfs import HostFS, LineTooLong, TooLarge, Unreadable, describe, is_text

P_DPKG_STATUS = "/var/lib/dpkg/status"
P_KEXEC = ("/usr/sbin/kexec", "/sbin/kexec")
P_OS_RELEASE = ("/etc/os-release", "/usr/lib/os-release")
DPKG_LIMIT = 64 * MiB  # a full system's status file: a few MiB
BINARY_LIMIT = 16 * MiB  # Debian's arm64 kexec: 200 KiB; a static build: a few MiB
CHUNK = 64 * KiB
TOPIC = "kexec-tools"
_UPSTREAM = re.compile(r"(?:\d+:)?(\d{1,4}(?:\.\d{1,4}){1,3})")
_PACKAGE_STRING = re.compile(rb"kexec-tools (\d{1,4}(?:\.\d{1,4}){1,3})(?=[^0-9.A-Za-z])")
_OS_ID = re.compile(r'^ID=("?)([a-z0-9._-]{1,64})\1$', re.M)


def upstream(package_version: str) -> str | None:
    """``1:2.0.25-3+deb12u3`` → ``2.0.25`` (epoch and revision off); None if not one."""
    m = _UPSTREAM.match(package_version)
    return m.group(1) if m else None


def read_tools(fs: HostFS, host: Host) -> None:
    """Set ``host.kexec_tools`` (upstream version), ``kexec_tools_package`` and
    ``kexec_tools_source``, and ``host.os_id``; note where each came from."""
    host.os_id = _os_id(fs, host)
    package, source = _dpkg(fs, host), P_DPKG_STATUS
    if package is None:
        package, source = _rpmdb(fs, host)
    binary = _binary(fs, host)
    if package is not None:
        host.kexec_tools_package = package
        host.kexec_tools = upstream(package)
        host.kexec_tools_source = source
    if binary is not None:
        name, version = binary
        if host.kexec_tools is not None and version != host.kexec_tools:
            host.note(TOPIC, name, f"kexec-tools {version}",
                      f"differs from {host.kexec_tools_source} ({host.kexec_tools}): the "
                      f"binary is what runs")
        if host.kexec_tools != version:
            host.kexec_tools, host.kexec_tools_source = version, name


def _dpkg(fs: HostFS, host: Host) -> str | None:
    """kexec-tools' Version in the dpkg status file when it is installed."""
    fields: dict[str, str] = {}
    found = None
    try:
        for line in fs.lines(P_DPKG_STATUS, DPKG_LIMIT, max_line=64 * KiB):
            if not line.strip():
                found = found or _installed(fields)
                fields = {}
                continue
            if line[:1] in (b" ", b"\t"):
                continue  # a continuation line
            key, sep, value = line.partition(b":")
            if sep and key in (b"Package", b"Status", b"Version"):
                fields[key.decode("ascii", "replace")] = value.strip().decode(
                    "ascii", "replace")
        found = found or _installed(fields)
    except Unreadable as exc:
        (host.flag if exc.odd else host.note)(TOPIC, P_DPKG_STATUS, exc.why)
        return None
    except (TooLarge, LineTooLong) as exc:
        host.flag(TOPIC, P_DPKG_STATUS, str(exc))
        return None
    if found is None:
        host.note(TOPIC, P_DPKG_STATUS, "kexec-tools not installed")
        return None
    if upstream(found) is None:
        host.flag(TOPIC, P_DPKG_STATUS, "kexec-tools' Version is not a version")
        return None
    host.note(TOPIC, P_DPKG_STATUS, f"kexec-tools {found}",
              f"Status: install ok installed; upstream {upstream(found)}")
    return found


def _rpmdb(fs: HostFS, host: Host) -> tuple[str | None, str | None]:
    """kexec-tools' ``[E:]VERSION-RELEASE`` in the rpm database, and the database read."""
    from validator.formats.rpm import rpmdb

    found = rpmdb.installed(fs, "kexec-tools")
    if found is None:
        return None, None
    if found.why is not None:
        (host.flag if found.odd else host.note)(TOPIC, found.path, found.why)
        return None, None
    if not found.versions:
        host.note(TOPIC, found.path, "kexec-tools not installed")
        return None, None
    version = found.versions[-1]  # the last installed
    if upstream(version) is None:
        host.flag(TOPIC, found.path, "kexec-tools' VERSION is not a version")
        return None, None
    host.note(TOPIC, found.path, f"kexec-tools {version}",
              f"the installed header's VERSION-RELEASE; upstream {upstream(version)}")
    return version, found.path


def _installed(fields: dict[str, str]) -> str | None:
    if fields.get("Package") == "kexec-tools" and fields.get("Status") == \
            "install ok installed":
        return fields.get("Version")
    return None


def _binary(fs: HostFS, host: Host) -> tuple[str, str] | None:
    """(file, version) from the first kexec binary's PACKAGE_STRING."""
    for name in P_KEXEC:
        try:
            fd = fs.open(name)
        except Unreadable as exc:
            if exc.odd:
                host.flag(TOPIC, name, exc.why)
            continue
        try:
            version = _search(fd)
        finally:
            os.close(fd)
        if version is None:
            host.note(TOPIC, name, "no 'kexec-tools N.N.N' string in the first "
                      f"{BINARY_LIMIT >> 20} MiB", "not a kexec-tools binary kimage knows")
            return None
        host.note(TOPIC, name, f"kexec-tools {version}", "the binary's PACKAGE_STRING")
        return name, version
    return None


def _search(fd: int) -> str | None:
    """The version in ``kexec-tools N.N.N`` within the first BINARY_LIMIT bytes of ``fd``,
    read in chunks (a string cut by a chunk boundary is found in the overlap)."""
    tail, total = b"", 0
    while total < BINARY_LIMIT:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            break
        total += len(chunk)
        window = tail + chunk
        m = _PACKAGE_STRING.search(window)
        if m:
            return m.group(1).decode("ascii")
        tail = window[-64:]
    return None


def _os_id(fs: HostFS, host: Host) -> str | None:
    for name in P_OS_RELEASE:
        try:
            data, more = fs.read(name, 64 * KiB)
        except Unreadable as exc:
            if exc.odd:
                host.flag("os", name, exc.why)
            continue
        if more or not is_text(data):
            host.flag("os", name, f"not an os-release file ({describe(data)})")
            return None
        m = _OS_ID.search(data.decode("ascii"))
        if m is None:
            host.flag("os", name, "no ID= line")
            return None
        host.note("os", name, f"ID={m.group(2)}")
        return m.group(2)
    return None
