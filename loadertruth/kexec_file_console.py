"""What the kexec_file_load guest prints (``loadertruth/guest/kexec_file_init.c``), read
back: ``parse_console`` collects its ``KFL`` lines, ``verdict_fields`` makes one image's
verdict in one mode of them (see loadertruth/kexec_file_kernel.py)."""

from __future__ import annotations

import re

_KFL = re.compile(r"^KFL (\d+) (normal|crash) (-?\d+) (\S+) (\d+) (\d+)\s*$")
_UNLOAD = re.compile(r"^KFL-UNLOAD (\d+) (normal|crash) (-?\d+) (\S+) (\d+)\s*$")
_KMSG = re.compile(r"^KFL-KMSG (-?\d+) (normal|crash|before) (\d) (.*)$")
_ERR = re.compile(r"^KFL-ERR (\d+) (.*)$")
_INFO = re.compile(r"^KFL-INFO (\S+) (.*)$")
_END = re.compile(r"^KFL-END (\d+)")
_LOADED = re.compile(r"Loaded kernel at 0x([0-9a-f]+) bufsz=0x([0-9a-f]+) memsz=0x([0-9a-f]+)")
_PLACED = re.compile(r"Loaded (dtb|elf core header|device tree|purgatory|the kernel|"
                     r"the backup region) at 0x([0-9a-f]+)")
_PLACED_KEY = {"dtb": "dtb_mem", "device tree": "dtb_mem", "elf core header": "elfcorehdr_mem",
               "purgatory": "purgatory_mem", "the kernel": "kernel_mem",
               "the backup region": "backup_mem"}
#: kernel log lines left out of ``observed.kmsg``: the same on every load, or a repeat
#: of the "Loaded ..." lines with hashed pointers
KMSG_NOISE = re.compile(r"RNG is not initialised|Loading segment \d+:|Crash PT_LOAD ELF header|"
                        r"No dynamic reconfiguration memory|Memory node path|address cells|"
                        r"Backup region offset updated")


def parse_console(text: str) -> dict:
    """The guest's lines: {"info": {key: [values]}, "loads": {(id, mode): {...}},
    "errors": {id: text}, "end": count or None}."""
    info: dict[str, list[str]] = {}
    loads: dict[tuple[int, str], dict] = {}
    kmsg: dict[tuple[int, str], list[str]] = {}
    errors: dict[int, str] = {}
    end = None
    for raw in text.splitlines():
        ln = raw.rstrip("\r")
        # kernel console output may share the line: take the KFL part
        i = ln.find("KFL")
        if i < 0:
            continue
        ln = ln[i:]
        if m := _KFL.match(ln):
            key = (int(m.group(1)), m.group(2))
            loads[key] = {"rc": int(m.group(3)), "errno": m.group(4), "errnum": int(m.group(5)),
                          "us": int(m.group(6)), "kmsg": kmsg.pop(key, [])}
        elif m := _UNLOAD.match(ln):
            key = (int(m.group(1)), m.group(2))
            if key in loads:
                loads[key]["unload"] = m.group(4)
        elif m := _KMSG.match(ln):
            key = (int(m.group(1)), m.group(2))
            entry = loads.get(key)
            msg = f"<{m.group(3)}>{m.group(4)}"
            if entry is not None:  # after the load: the unload's messages
                entry.setdefault("kmsg_unload", []).append(msg)
            else:
                kmsg.setdefault(key, []).append(msg)
        elif m := _ERR.match(ln):
            errors[int(m.group(1))] = m.group(2)
        elif m := _INFO.match(ln):
            info.setdefault(m.group(1), []).append(m.group(2).strip())
        elif m := _END.match(ln):
            end = int(m.group(1))
    return {"info": info, "loads": loads, "errors": errors, "end": end}


def verdict_fields(load: dict | None, error: str | None) -> tuple[bool | None, str, dict]:
    """(accept, message, observed) for one (image, mode) from the parsed console."""
    if error is not None:
        return None, f"harness: guest could not rebuild the image: {error}", {}
    if load is None:
        return None, "harness: no result line from the guest", {}
    observed: dict = {"errno": load["errno"]}
    kmsg = [k for k in load.get("kmsg", []) if k and not KMSG_NOISE.search(k)]
    if kmsg:
        observed["kmsg"] = kmsg
    for k in kmsg:
        if m := _LOADED.search(k):
            observed["kernel_mem"] = int(m.group(1), 16)
            observed["bufsz"] = int(m.group(2), 16)
            observed["memsz"] = int(m.group(3), 16)
        elif m := _PLACED.search(k):
            observed[_PLACED_KEY[m.group(1)]] = int(m.group(2), 16)
    if "unload" in load:
        observed["unload"] = load["unload"]
    if load["rc"] == 0:
        return True, "kexec_file_load: 0", observed
    message = f"kexec_file_load: -1 {load['errno']} ({load['errnum']})"
    if load["errno"] == "ENOSYS":
        return None, message + ": the kernel has no kexec_file_load (CONFIG_KEXEC_FILE)", \
            observed
    return False, message, observed
