"""kimage preflight without IMAGE: what the host's kdump configuration names, opened
inside the root (validator.kdump.hostfs) and judged like a named image."""

from __future__ import annotations

import os

from validator.kdump.hostfs import HostFS, Unreadable

P_POSSIBLE = "/sys/devices/system/cpu/possible"


def possible_cpus_of(root: str) -> int | None:
    from validator.kdump.reserve import possible_cpus

    try:
        with HostFS(root) as fs:
            data, more = fs.read(P_POSSIBLE, 256)
    except Unreadable:
        return None
    if more or not data.isascii():
        return None
    return possible_cpus(data.decode("ascii"))


def _shown(root: str, name: str) -> str:
    return name if os.path.realpath(root) == "/" else os.path.join(root, name.lstrip("/"))


def discovered(root: str, host, initrd_option: str | None):
    """(checked image, initrd summary, Discovery, possible CPUs), or one line saying why
    nothing can be judged."""
    from validator.checker import Options, check_image
    from validator.kdump.discover import discover
    from validator.kdump.initramfs import contents
    from validator.kdump.initrd import probe
    from validator.model import ImageResult

    try:
        fs = HostFS(root)
    except Unreadable as exc:
        return f"{root}: {exc.why}"
    with fs:
        found = discover(fs, host)
        if initrd_option is not None:
            found.initrd = initrd_option
        result = ImageResult(path=_shown(root, found.kernel) if found.kernel else "(none)")
        initrd = None
        found.readable = found.kernel is not None
        if found.kernel is not None:
            try:
                fd = fs.open(found.kernel)
            except Unreadable as exc:
                found.problems.append(f"{found.kernel}: {exc.why}")
                found.readable = False
            else:
                try:
                    result = check_image(f"/proc/self/fd/{fd}", Options())
                finally:
                    os.close(fd)
                result.path = _shown(root, found.kernel)
        if found.initrd is not None and found.readable:
            try:
                fd = fs.open(found.initrd) if initrd_option is None else None
            except Unreadable as exc:
                found.problems.append(f"{found.initrd}: {exc.why}")
                fd = None
            name = f"/proc/self/fd/{fd}" if fd is not None else initrd_option
            if name is not None:
                try:
                    initrd = probe(name)
                    if not initrd["problem"]:
                        inside = contents(name)
                        initrd.update(unpacked=inside["unpacked"],
                                      dump_tool=inside["dump_tool"],
                                      unpack_problem=inside["problem"])
                    initrd.update(path=_shown(root, found.initrd) if fd is not None
                                  else initrd_option, source=found.initrd,
                                  expect_dump_tool=found.tool != "none")
                finally:
                    if fd is not None:
                        os.close(fd)
    return result, initrd, found, possible_cpus_of(root)
