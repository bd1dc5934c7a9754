"""preflight's checks of its inputs besides the image: malformed host files, the initrd.

``apply_malformed(step, host)``: a step that used a host file which does not have the
shape the kernel gives it (``Host.malformed``, see validator.kdump.hostread) cannot pass: an
unknown value is not an open path. It warns with ``preflight/host-file-malformed``,
naming the file and a sanitised summary, never the file's bytes.

``initrd_step(initrd)``: whether ``--initrd`` is something the capture kernel unpacks
(``validator.kdump.initrd.probe``); an empty file or one that is not cpio warns with
``preflight/initrd-not-cpio``.
"""

from __future__ import annotations

from validator.kdump.host import Evidence, Host
from validator.kdump.rules import MALFORMED, NOT_CPIO

NOT_DUMP = "preflight/not-a-dump-initramfs"

#: The host topics (``Host.evidence`` keys) each step decides from.
TOPICS = {"crash-region": ("crash",), "arch": ("arch",), "page-size": ("pages", "cpu"),
          "fit": ("fit",), "load-path": ("load", "config"), "crash-loaded": ("loaded",),
          "path": ("kexec-tools", "os")}


def apply_malformed(step, host: Host) -> None:
    """Warn on ``step`` (a preflight Step) for each malformed file it depends on."""
    bad = host.malformed_in(*TOPICS.get(step.step, ()))
    if not bad:
        return
    files = "; ".join(f"{file} ({summary})" for _, file, summary in bad)
    text = f"not what the kernel writes there, so unknown: {files}"
    if step.status in ("pass", "skip"):
        rest = step.message.removeprefix("open: ")
        step.status, step.rule, step.rules = "warn", MALFORMED, [MALFORMED]
        step.message = f"{text}; otherwise {rest}"
    else:
        step.rules.append(MALFORMED)
        step.message += f"; {text}"


def initrd_step(initrd: dict) -> tuple[str, str, list[Evidence], str | None]:
    """(status, message, evidence, rule) of the ``initrd`` step. ``unpacked`` and
    ``dump_tool`` (validator.kdump.initramfs) are shown when present; a missing dump tool
    warns when ``expect_dump_tool`` (the kdump configuration named this initrd)."""
    ev = [Evidence(initrd.get("source", "--initrd"), f"{initrd['size']} bytes",
                   initrd["format"])]
    if initrd.get("problem"):
        return "warn", f"{initrd['problem']}: the capture kernel would have no initramfs", \
            ev, NOT_CPIO
    unpacked = initrd.get("unpacked")
    if unpacked is not None:
        ev.append(Evidence("initrd:unpacked", f"{unpacked} bytes", "files in tmpfs, "
                           "page-rounded" + (f"; {initrd['unpack_problem']}"
                                            if initrd.get("unpack_problem") else "")))
        ev.append(Evidence("initrd:makedumpfile", "present" if initrd.get("dump_tool")
                           else "absent"))
    if initrd.get("expect_dump_tool") and unpacked is not None and not initrd.get(
            "dump_tool") and not initrd.get("unpack_problem"):
        return "warn", (f"{initrd['format']}: no makedumpfile inside; a boot initramfs, "
                        "not a dump one"), ev, NOT_DUMP
    compressed = not initrd["format"].rpartition(" + ")[2].startswith("cpio")
    checked = unpacked is not None and not initrd.get("unpack_problem")
    return "pass", f"{initrd['format']}: the kernel unpacks it" + (
        " (the compressed part's contents are not checked)" if compressed and not checked
        else ""), ev, None
