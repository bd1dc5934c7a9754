"""preflight's steps that read the image's verdict and the host, one function per step.

``image``         the loader takes this kind of file at all: validator.loaders' verdict
                  (the one ``kimage check`` reports), never a model of its own
``crash-region``  a crash region is reserved; its base and size
``arch``          architecture and byte order match the CPU
``page-size``     the CPU has the image's translation granule
``relocatable``   ppc64: the kernel runs where it is loaded (``__run_at_load``)
``load-path``     the syscall exists and is allowed: kexec_load_disabled, lockdown,
                  Secure Boot, signatures
``crash-loaded``  a crash kernel is already loaded

``fit`` (placement in the region) is validator.kdump.placement.
"""

from __future__ import annotations

from validator.kdump.host import Evidence, Host, KiB
from validator.kdump.model import Step, elf_loads, host_ev, img_ev
from validator.kdump.signature import signature_text
from validator.model import ImageResult
from validator.units import human_size

#: validator.loaders' name for each preflight loader is the same.
LOADER_FILES = {"kexec-tools": "validator/loaders/kexec_tools.py",
                "kexec-file": "validator/loaders/kexec_file.py"}
#: Outer layers that are packages: check judges the kernel inside, kexec reads a file.
PACKAGES = frozenset({"deb", "rpm", "archpkg"})


def _wrappers(result: ImageResult) -> list[str]:
    """Layers a loader must take off (the PE header of an EFI stub is no wrapper)."""
    kinds = [layer.kind for layer in result.layers if layer.kind != "pe"]
    compression = result.facts.get("compression")
    if compression and compression not in kinds:
        kinds.insert(0, compression)
    return kinds


def step_image(result: ImageResult, loader: str, verdict: dict | None = None) -> Step:
    """The loader's verdict on the file, as ``kimage check`` gives it (result.loaders), or
    ``verdict``: the same model's at the host's release (validator.kdump.kexecpath)."""
    ev = [img_ev("format", result.format)]
    chain = _wrappers(result)
    what = " > ".join(chain) if chain else "raw"
    if chain:
        ev.append(img_ev("layers", what))
    verdict = verdict or (result.loaders or {}).get(loader)
    if verdict is None:
        return Step("image", "fail", f"{loader} did not judge the image", ev,
                    "preflight/image-not-loadable")
    reasons, notes = verdict.get("reasons") or [], verdict.get("notes") or []
    at = f"@{verdict['version']}" if verdict.get("version") and verdict.get(
        "by_version") is None else ""
    ev.append(Evidence(f"loaders:{loader}{at}", verdict["verdict"] + (
        ": " + ", ".join(reasons) if reasons else ""), LOADER_FILES.get(loader, "")))
    package = next((layer.kind for layer in result.layers if layer.kind in PACKAGES), None)
    if package is not None:
        # check judges the kernel a package carries; kexec -p is given a file name and
        # reads that file, so the package itself is what this command would be given.
        return Step("image", "fail",
                    f"a package ({package}): kexec reads a kernel file, not a "
                    f"package (install it and name the kernel it puts in /boot); the "
                    f"kernel inside: {loader} {verdict['verdict']}s it", ev,
                    "preflight/image-not-loadable")
    if verdict["verdict"] == "accept":
        tail = f"; {'; '.join(notes)}" if notes else ""
        return Step("image", "pass", f"{result.format} ({what}): {loader} takes it{tail}", ev)
    if verdict["verdict"] == "n/a":
        return Step("image", "fail", f"{loader} does not load this kind of file"
                    + (f": {notes[0]}" if notes and notes[0] else ""), ev,
                    "preflight/image-not-loadable")
    said = {f.rule: f.message for f in result.findings}
    why = "; ".join(f"{r}: {said[r]}" if r in said else r for r in reasons)
    why = why or (notes[0] if notes else "no kernel found")
    return Step("image", "fail", f"{loader} refuses it: {why}", ev,
                "preflight/image-not-loadable")


def step_crash_region(host: Host) -> Step:
    ev = host_ev(host, "crash")
    c = host.crash
    if c is None:
        why = host.crash_note or ("no \"Crash kernel\" range in /proc/iomem, "
                                  "kexec_crash_size 0 or absent, no crashkernel= on the "
                                  "command line")
        return Step("crash-region", "fail",
                    f"no crash region is reserved: {why}; boot with crashkernel=SIZE", ev,
                    "preflight/no-crash-region")
    where = (f"at {c.base:#x}-{c.end:#x}" if c.base is not None else "(base unknown)")
    source = {"iomem": "/proc/iomem", "kexec_crash_size": "/sys/kernel/kexec_crash_size",
              "cmdline": "crashkernel= on /proc/cmdline", "option": "--crashkernel"}[c.source]
    message = f"{human_size(c.size)} {where} ({source})"
    if c.others:
        message += "; also " + ", ".join(f"{s:#x}-{e:#x} ({human_size(e - s + 1)})"
                                         for s, e in c.others) + " (the low part)"
    if host.crash_note:
        message += f"; {host.crash_note}"
    if c.source == "cmdline":
        return Step("crash-region", "warn", message, ev, "preflight/crash-region-unconfirmed")
    return Step("crash-region", "pass", message, ev)


def step_arch(result: ImageResult, host: Host, loader: str) -> Step:
    ev = host_ev(host, "arch") + [img_ev("facts.arch", result.facts.get("arch")),
                                   img_ev("facts.endianness", result.facts.get("endianness"))]
    arch = result.facts.get("arch")
    if arch is None:
        return Step("arch", "skip", "the image's architecture is unknown", ev)
    if host.arch is None:
        return Step("arch", "warn", "the host's architecture could not be read", ev,
                    "preflight/host-unknown")
    if host.arch != arch:
        return Step("arch", "fail", f"the image is {arch}; the host is {host.machine}", ev,
                    "preflight/arch-mismatch")
    image_order, host_order = result.facts.get("endianness"), host.endianness
    if image_order is None:
        return Step("arch", "warn", f"{arch}; the image does not say its byte order "
                    f"(header before 3.17)", ev, "preflight/endian-unknown")
    if image_order == host_order:
        return Step("arch", "pass", f"{arch} {image_order}-endian, as the host", ev)
    if arch == "ppc64":
        how = ("kexec-tools compares 0x5c with 'run0' in the running kernel's byte order, "
               "finds no match and leaves 'run0'" if loader == "kexec-tools" else
               f"kexec_file_load's purgatory writes __run_at_load = 1 {host_order}-endian, "
               f"which the kernel reads as 0x01000000")
        return Step("arch", "fail",
                    f"a {image_order}-endian kernel on a {host_order}-endian host: {how}; the "
                    f"kernel then relocates itself to 0, over the crashed kernel",
                    ev, "preflight/endian-unsupported")
    ev += host_ev(host, "pages")[-1:] if host.id_aa64mmfr0 is not None else []
    if host.mixed_endian:
        return Step("arch", "pass", f"a {image_order}-endian kernel on a {host_order}-endian "
                    f"host: the CPU is mixed-endian (ID_AA64MMFR0_EL1.BigEnd = 1)", ev)
    if host.mixed_endian is False and host.id_aa64mmfr0 is not None:
        return Step("arch", "fail", f"a {image_order}-endian kernel and a CPU without "
                    f"mixed-endian support (ID_AA64MMFR0_EL1.BigEnd = 0)", ev,
                    "preflight/endian-unsupported")
    return Step("arch", "warn", f"a {image_order}-endian kernel on a {host_order}-endian host: "
                f"mixed-endian support (ID_AA64MMFR0_EL1.BigEnd) is not readable", ev,
                "preflight/endian-unknown")


def step_page_size(result: ImageResult, host: Host) -> Step:
    arch = result.facts.get("arch")
    page = result.facts.get("page_size")
    ev = host_ev(host, "pages") + [img_ev("facts.page_size", page)]
    if arch == "ppc64":
        ev = [e for e in ev if e.file != "image:facts.page_size"] + host_ev(host, "cpu")
        return Step("page-size", "pass",
                    "ppc64 Book3S-64 CPUs run 4K and 64K kernels (the page size is not in "
                    "the head)", ev)
    if arch != "arm64" or host.arch != "arm64":
        return Step("page-size", "skip", "not an arm64 image on an arm64 host", ev)
    if page is None:
        return Step("page-size", "warn", "the image does not state its page size (header "
                    "before 3.17 or page-size flag 0)", ev, "preflight/page-size-unknown")
    k = f"{page // KiB}K"
    if host.granules is not None:
        if page in host.granules:
            return Step("page-size", "pass", f"{k} pages; the CPU has the {k} granule", ev)
        name, shift = {4 * KiB: ("TGran4", 28), 16 * KiB: ("TGran16", 20),
                       64 * KiB: ("TGran64", 24)}[page]
        raw = (host.id_aa64mmfr0 or 0) >> shift & 0xF
        return Step("page-size", "fail",
                    f"{k} pages, and the CPU has no {k} granule (ID_AA64MMFR0_EL1.{name} = "
                    f"{raw:#x}): kexec_file_load refuses it and a kernel loaded by kexec-tools "
                    f"stops in early boot", ev, "preflight/page-size-unsupported")
    if host.page_size == page:
        return Step("page-size", "pass", f"{k} pages, as the running kernel: the CPU has the "
                    f"{k} granule (ID_AA64MMFR0_EL1 itself is not readable)", ev)
    return Step("page-size", "warn",
                f"{k} pages; the running kernel uses "
                f"{(host.page_size or 0) // KiB or '?'}K and whether the CPU has the {k} "
                f"granule is not readable (ID_AA64MMFR0_EL1)", ev, "preflight/page-size-unknown")


def step_relocatable(result: ImageResult, host: Host, loader: str) -> Step:
    value = result.facts.get("run_at_load")
    ev = [Evidence("image:header.run_at_load",
                   repr(value) if isinstance(value, str) else f"{value:#x}"
                   if isinstance(value, int) else str(value))]
    if value == "run0":
        return Step("relocatable", "pass", "relocatable ('run0' at 0x5c): the loader writes 1 "
                    "and the kernel runs where it is loaded", ev)
    if value == 1:
        return Step("relocatable", "pass", "0x5c already holds 1 (a RELOCATABLE_TEST build, "
                    "or patched): runs where it is loaded", ev)
    loads = elf_loads(result)
    paddr = loads[0]["paddr"] if loads else None
    if paddr is not None:
        ev.append(img_ev("elf.loads[0].p_paddr", paddr))
    if value == 0:
        base = host.crash.base if host.crash else None
        if paddr is not None and base is not None and paddr == base and paddr != 0:
            return Step("relocatable", "pass", f"not relocatable, but linked to run at "
                        f"{paddr:#x}, the crash region's base (a dedicated kdump kernel)", ev)
        where = f"{paddr:#x}" if paddr is not None else "its link address"
        return Step("relocatable", "fail",
                    f"not relocatable (0 at 0x5c): the kernel runs at {where}"
                    + (f", not at the crash region's base {base:#x}" if base is not None
                       else "") + ", over the crashed kernel's memory", ev,
                    "preflight/not-relocatable")
    return Step("relocatable", "warn" if loader == "kexec-file" else "fail",
                f"0x5c holds {value!r}, neither 'run0', 1 nor 0: "
                + ("kexec_file_load writes 1 over it, but this is no kernel head kimage knows"
                   if loader == "kexec-file" else
                   "kexec-tools writes 1 only over 'run0', so the kernel relocates to 0"),
                ev, "preflight/run-at-load-unknown" if loader == "kexec-file"
                else "preflight/not-relocatable")

def step_load_path(host: Host, loader: str, signature: dict) -> Step:
    """Every reason the syscall would be refused, not just the first."""
    ev = host_ev(host, "load") + [e for e in host_ev(host, "config")
                                   if host.config is not None and "=" in e.value]
    found: list[tuple[str, str, str]] = []  # (status, rule, message)
    if host.kexec_load_disabled:
        found.append(("fail", "preflight/kexec-load-disabled",
                      "kernel.kexec_load_disabled is 1: kexec_load and kexec_file_load both "
                      "return EPERM until reboot"))
    if host.kexec_load_limit_panic == 0:
        found.append(("fail", "preflight/kexec-load-limit",
                      "kernel.kexec_load_limit_panic is 0: no crash loads are left"))
    option = "CONFIG_KEXEC" if loader == "kexec-tools" else "CONFIG_KEXEC_FILE"
    syscall = "kexec_load" if loader == "kexec-tools" else "kexec_file_load"
    if host.config_value(option) == "n":
        found.append(("fail", "preflight/loader-unavailable",
                      f"{option} is not set in the running kernel: {syscall} returns ENOSYS"))
    locked = host.lockdown in ("integrity", "confidentiality")
    ima = host.config_value("CONFIG_IMA_ARCH_POLICY")
    sb_restricts = bool(host.secure_boot) and ima == "y"
    sb_unknown = bool(host.secure_boot) and not locked and ima is None
    why = (f"lockdown [{host.lockdown}]" if locked else
           "Secure Boot with the IMA architecture policy" if sb_restricts else "")
    ev.append(Evidence("image:signature", signature_text(signature),
                       str(signature.get("source") or "")))
    if loader == "kexec-tools":
        if why:
            found.append(("fail", "preflight/lockdown-kexec-load",
                          f"{why} forbids kexec_load; use kexec -p -s (kexec_file_load) with "
                          f"a signed image"))
        elif sb_unknown:
            found.append(("warn", "preflight/secure-boot-unknown",
                          "Secure Boot is on; lockdown and the IMA policy are not readable: "
                          "kexec_load may be refused"))
    else:
        force = host.config_value("CONFIG_KEXEC_SIG_FORCE") == "y"
        needs = why or ("CONFIG_KEXEC_SIG_FORCE" if force else "")
        if needs and not signature.get("present"):
            found.append(("fail", "preflight/lockdown-unsigned",
                          f"{needs} requires a signed image; this one has no "
                          f"{signature.get('kind') or 'signature'}"))
        elif needs:
            found.append(("warn", "preflight/signature-unverified",
                          f"{needs} requires a signed image: it is signed "
                          f"({signature_text(signature)}); whether the kernel trusts the "
                          f"key is not checked"))
        elif sb_unknown and not signature.get("present"):
            found.append(("warn", "preflight/secure-boot-unknown",
                          "Secure Boot is on and the image is unsigned; lockdown and the IMA "
                          "policy are not readable"))
    if not found:
        return Step("load-path", "pass", _open_text(host), ev)
    status = "fail" if any(f[0] == "fail" for f in found) else "warn"
    found.sort(key=lambda f: f[0] != "fail")
    return Step("load-path", status, "; ".join(f[2] for f in found), ev,
                found[0][1], [f[1] for f in found])


def _open_text(host: Host) -> str:
    parts = [f"kexec_load_disabled {int(host.kexec_load_disabled)}"
             if host.kexec_load_disabled is not None else "kexec_load_disabled unknown",
             f"lockdown {host.lockdown}" if host.lockdown else "lockdown unknown (treated as "
             "none)"]
    if host.secure_boot is not None:
        parts.append(f"Secure Boot {'on' if host.secure_boot else 'off'}")
    return "open: " + ", ".join(parts)


def step_crash_loaded(host: Host) -> Step:
    ev = host_ev(host, "loaded")
    if host.crash_loaded is None:
        return Step("crash-loaded", "skip", "/sys/kernel/kexec_crash_loaded not readable", ev)
    if host.crash_loaded:
        return Step("crash-loaded", "warn", "a crash kernel is already loaded: loading this "
                    "one replaces it", ev, "preflight/crash-kernel-loaded")
    return Step("crash-loaded", "pass", "no crash kernel loaded yet", ev)
