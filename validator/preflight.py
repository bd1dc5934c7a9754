"""kdump pre-flight: will this capture kernel load into this host's crash region, and run?

``decide(result, host, loader)`` walks the steps an admin would check before relying on
``kexec -p``, each with the evidence it used (the host file and the value read, or the
image field):

``image``         the loader takes this kind of file at all
``crash-region``  a crash region is reserved; its base and size
``arch``          architecture and byte order match the CPU
``page-size``     the CPU has the image's translation granule
``relocatable``   ppc64: the kernel runs where it is loaded (``__run_at_load``)
``fit``           kernel + initrd + dtb + elfcorehdr (+ purgatory/backup) placed the way the
                  loader places them, inside the region
``load-path``     the syscall exists and is allowed: kexec_load_disabled, lockdown,
                  Secure Boot, signatures
``crash-loaded``  a crash kernel is already loaded

A step passes, warns, fails or is skipped; the verdict is the worst status. Without
``--loader`` both loaders are decided and the better one is reported.

Placement follows the loaders' code (kexec-tools v2.0.x ``kexec/arch/arm64/
kexec-arm64.c``, ``kexec/arch/ppc64/kexec-elf-ppc64.c``, ``locate_hole``; Linux 6.1
``arch/arm64/kernel/kexec_image.c`` + ``machine_kexec_file.c``, ``arch/powerpc/kexec/
elf_64.c`` + ``file_load_64.c``). Sizes kimage cannot read without root are allowances,
stated in ``ALLOWANCES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validator import __version__, preflight_schema
from validator.handlers import human_size
from validator.host import Evidence, Host, KiB, MiB
from validator.hostcheck import apply_malformed, initrd_step
from validator.model import ImageResult
from validator.rules.registry import rule

SCHEMA_ID = "kimage-preflight/1"
LOADERS = ("kexec-tools", "kexec-file")
COMMAND = {"kexec-tools": "kexec -p (kexec_load)", "kexec-file": "kexec -p -s (kexec_file_load)"}
STATUSES = ("skip", "pass", "warn", "fail")

#: Sizes kimage cannot read without root, and why these values.
ALLOWANCES = {
    # An Elf64_Ehdr plus one 56-byte program header per CPU, memory range and the
    # vmcoreinfo note: 64 KiB holds more than 1,100 of them, and arm64 kexec_file_load
    # aligns the segment to 64 KiB anyway (machine_kexec_file.c, SZ_64K).
    "elfcorehdr": 64 * KiB,
    # The dtb the loader builds from the running one plus the kdump properties
    # (linux,usable-memory-range, linux,elfcorehdr, bootargs, initrd): /sys/firmware/fdt
    # (root only) + 64 KiB when readable; otherwise 1 MiB. Typical dtbs are tens to a few
    # hundred KiB; kexec-tools refuses one over 2 MiB ("dtb too big"). ppc64 LPARs with
    # many memory blocks build bigger ones: use --crashkernel margins there.
    "dtb": 1 * MiB,
    "dtb_extra": 64 * KiB,
    # kexec-tools' purgatory (an ELF relocatable with a sha256 check and a stack, tens of
    # KiB); ppc64 kexec_file_load loads one too; arm64 kexec_file_load none.
    "purgatory": 64 * KiB,
    # ppc64: the first 64 KiB of memory, copied by purgatory before the capture kernel
    # overwrites its vectors (BACKUP_SRC_SIZE, KDUMP_RESERVE_LIMIT 0x10000).
    "backup": 64 * KiB,
    # What the capture kernel needs beyond its image to boot and run makedumpfile
    # (page tables, slab, the unpacked initramfs): kimage warns below this floor. It is
    # a floor, not a guarantee; distributions reserve far more (Fedora's
    # crashkernel= defaults start at 192 MiB on arm64).
    "run_floor": 64 * MiB,
}

ARM64_KIMG_ALIGN = 2 * MiB  # MIN_KIMG_ALIGN; kexec-tools _ALIGN_UP(hole, MiB(2))
PPC64_RELOC_ALIGN = 16 * KiB  # RELOCATABLE help: a 16 KiB-aligned base
DEFAULT_PAGE = {"arm64": 4 * KiB, "ppc64": 64 * KiB}

_AUTHENTICODE = "WIN_CERTIFICATE (PE data directory 4)"
MODSIG_MAGIC = b"~Module signature appended~\n"

_LK = ("kexec-tools",)
_KF = ("kexec-file",)
_BOTH = LOADERS

rule("preflight/image-not-loadable", "error",
     "the loader does not take this kind of file",
     "arm64 kexec_file_load takes only a raw Image (kexec_image_ops); kexec-tools also "
     "takes a vmlinux ELF, a gzip/xz/lzma/zstd-compressed Image and an EFI zboot image. "
     "ppc64 loaders take only an ELF vmlinux. A file that fails to decode is no kernel for "
     "any loader.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c, arch/powerpc/kexec/elf_64.c; kexec-tools "
     "kexec/arch/arm64/kexec-arm64.c file_type[], kexec/kexec.c slurp_decompress_file",
     _BOTH)
rule("preflight/no-crash-region", "error",
     "no crash kernel region is reserved",
     "kexec -p loads into the memory reserved with crashkernel= at boot (crashk_res); "
     "without it the load fails (kexec_load: EINVAL / 'Memory for crashkernel is not "
     "reserved'; kexec_file_load: no hole).",
     "Documentation/admin-guide/kdump/kdump.rst; /proc/iomem 'Crash kernel'",
     _BOTH)
rule("preflight/crash-region-unconfirmed", "warning",
     "the crash region is known only from the command line",
     "crashkernel= asks for a reservation; the kernel may fail to make it. "
     "/sys/kernel/kexec_crash_size or /proc/iomem (as root) confirm it.",
     "Linux 6.1 kernel/crash_core.c parse_crashkernel; kernel/ksysfs.c kexec_crash_size",
     _BOTH)
rule("preflight/host-unknown", "warning",
     "the host's architecture could not be read",
     "Without /proc/sys/kernel/arch (or uname(2), or a known release suffix) kimage cannot "
     "tell whether the image is for this CPU.",
     "proc(5) /proc/sys/kernel/arch",
     _BOTH)
rule("preflight/arch-mismatch", "error",
     "the image is for another architecture than the host",
     "kexec loads only kernels of the running architecture (kexec_load's KEXEC_ARCH "
     "must match; kexec_file_load probes only its own formats).",
     "kexec_load(2); Linux 6.1 kernel/kexec.c",
     _BOTH)
rule("preflight/endian-unsupported", "error",
     "the image's byte order cannot run as a crash kernel on this host",
     "arm64: a kernel of the other byte order needs a mixed-endian CPU "
     "(ID_AA64MMFR0_EL1.BigEnd = 1); kexec_file_load refuses it otherwise. ppc64: purgatory "
     "writes __run_at_load = 1 in the running kernel's byte order, so a kernel of the other "
     "order reads 0x01000000, relocates itself to 0 and overwrites the crashed kernel.",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_load; arch/powerpc/purgatory/"
     "trampoline_64.S; kexec-tools purgatory/arch/ppc64/v2wrap.S",
     _BOTH)
rule("preflight/endian-unknown", "warning",
     "whether the CPU runs the image's byte order is unknown",
     "arm64 mixed-endian support is ID_AA64MMFR0_EL1.BigEnd, which mainline kernels do not "
     "expose in sysfs; or the image (before 3.17) does not say its byte order.",
     "Arm ARM ID_AA64MMFR0_EL1.BigEnd; booting.rst",
     _BOTH)
rule("preflight/page-size-unsupported", "error",
     "the CPU has no translation granule for the image's page size",
     "kexec_file_load refuses an Image whose page-size flag names a granule the CPU lacks "
     "(-EINVAL); a kernel loaded by kexec-tools stops in early boot "
     "(__no_granule_support).",
     "Linux 6.1 arch/arm64/kernel/kexec_image.c image_load, head.S; Arm ARM "
     "ID_AA64MMFR0_EL1.TGran4/TGran16/TGran64",
     _BOTH)
rule("preflight/page-size-unknown", "warning",
     "whether the CPU supports the image's page size is unknown",
     "The granule fields of ID_AA64MMFR0_EL1 are not readable from user space on mainline "
     "kernels; only the running kernel's page size is known to work. Or the image does not "
     "state its page size.",
     "Linux 6.1 arch/arm64/kernel/cpuinfo.c (sysfs exposes midr_el1, revidr_el1 only)",
     _BOTH)
rule("preflight/not-relocatable", "error",
     "the ppc64 kernel is not relocatable and not linked at the crash region",
     "A crash kernel must run where it is loaded: a relocatable kernel ('run0' at 0x5c, "
     "which the loader turns into 1) does; a non-relocatable one (0 at 0x5c) runs at its "
     "link address (PHYSICAL_START, usually 0), over the crashed kernel's memory.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __after_prom_start; shared/reference/ppc64.md "
     "section 5",
     _BOTH)
rule("preflight/run-at-load-unknown", "warning",
     "the ppc64 __run_at_load word holds an unknown value",
     "kexec-tools replaces only 'run0' with 1; kexec_file_load writes 1 for every crash "
     "kernel. A value that is neither 'run0', 1 nor 0 is no kernel kimage knows.",
     "kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c; Linux 6.1 file_load_64.c",
     _BOTH)
rule("preflight/does-not-fit", "error",
     "the kernel and what the loader adds do not fit in the crash region",
     "The loader places the kernel (arm64: image_size + text_offset at a 2 MiB-aligned base; "
     "ppc64: the PT_LOAD memsz), the initrd, the dtb, the ELF core header (and purgatory, "
     "ppc64 backup) inside the crash region; a segment with no hole fails the load.",
     "kexec-tools arm64_locate_kernel_segment ('Crash kernel out of range'), locate_hole; "
     "Linux 6.1 kexec_image.c image_load, kexec_file.c kexec_add_buffer",
     _BOTH)
rule("preflight/little-memory-left", "warning",
     "the crash region leaves little memory for the capture kernel to run in",
     "The capture kernel boots in what is left of the region after its segments: page "
     "tables, slab, the unpacked initramfs and makedumpfile. kimage warns below a 64 MiB "
     "floor (a floor, not a guarantee).",
     "Documentation/admin-guide/kdump/kdump.rst (crashkernel sizing)",
     _BOTH)
rule("preflight/placement-unaligned", "error",
     "the ppc64 kernel would be placed at an address that is not 16 KiB-aligned",
     "A relocatable ppc64 kernel must start 16 KiB-aligned; kexec-tools places it at the "
     "first page-aligned hole in the region.",
     "Linux 6.1 arch/powerpc/Kconfig RELOCATABLE help",
     _LK)
rule("preflight/kexec-load-disabled", "error",
     "kexec is disabled until reboot (kernel.kexec_load_disabled = 1)",
     "With kexec_load_disabled set, both kexec_load and kexec_file_load return EPERM; the "
     "sysctl cannot be cleared without a reboot.",
     "Documentation/admin-guide/sysctl/kernel.rst kexec_load_disabled",
     _BOTH)
rule("preflight/kexec-load-limit", "error",
     "no crash-kernel loads are left (kernel.kexec_load_limit_panic = 0)",
     "Since 6.6 kexec_load_limit_panic counts down the crash loads still allowed.",
     "Documentation/admin-guide/sysctl/kernel.rst kexec_load_limit_panic",
     _BOTH)
rule("preflight/loader-unavailable", "error",
     "the running kernel does not have the loader's system call",
     "kexec_load needs CONFIG_KEXEC, kexec_file_load CONFIG_KEXEC_FILE (Debian 12 builds "
     "arm64 and ppc64el without it); the call returns ENOSYS.",
     "Linux 6.1 kernel/Kconfig.kexec / arch Kconfig",
     _BOTH)
rule("preflight/lockdown-kexec-load", "error",
     "lockdown or Secure Boot forbids kexec_load",
     "Under lockdown (integrity or confidentiality) kexec_load is refused (LOCKDOWN_KEXEC); "
     "with Secure Boot and the IMA architecture policy, IMA refuses it too ('impossible to "
     "appraise a kernel image without a file descriptor'). kexec_file_load (kexec -s) with a "
     "signed image is the way.",
     "Linux 6.1 kernel/kexec.c kexec_load_check, security/lockdown, "
     "security/integrity/ima/ima_main.c ima_load_data",
     _LK)
rule("preflight/lockdown-unsigned", "error",
     "lockdown or Secure Boot requires a signed image and this one is not signed",
     "Under lockdown kexec_file_load verifies the image's signature (arm64: Authenticode in "
     "the PE, KEXEC_IMAGE_VERIFY_SIG; ppc64: an appended module signature appraised by IMA) "
     "and refuses an unsigned one (EPERM / EKEYREJECTED).",
     "Linux 6.1 kernel/kexec_file.c kimage_validate_signature; arch/arm64/kernel/"
     "kexec_image.c image_verify_sig",
     _KF)
rule("preflight/signature-unverified", "warning",
     "the image is signed, but kimage cannot check the signature against the host's keys",
     "The kernel verifies the signature against .builtin_trusted_keys and the .platform "
     "keyring (firmware db, MOK); kimage only sees that a signature is present.",
     "Linux 6.1 kernel/kexec_file.c kimage_validate_signature",
     _KF)
rule("preflight/secure-boot-unknown", "warning",
     "Secure Boot is on but whether it restricts kexec is unknown",
     "Distributions lock the kernel down under Secure Boot and the IMA architecture policy "
     "requires signed kexec images; without the lockdown file or the kernel config kimage "
     "cannot tell.",
     "Linux 6.1 security/integrity/ima/ima_efi.c arch_get_ima_policy",
     _BOTH)
rule("preflight/crash-kernel-loaded", "warning",
     "a crash kernel is already loaded",
     "/sys/kernel/kexec_crash_loaded is 1: loading another replaces it (the old image is "
     "freed first), so a failed load leaves no crash kernel at all.",
     "Documentation/ABI/testing/sysfs-kernel-kexec-kdump",
     _BOTH)


@dataclass
class Step:
    step: str
    status: str  # pass | warn | fail | skip
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    rule: str | None = None  # the finding that decides the status
    rules: list[str] = field(default_factory=list)  # every finding, when there are several

    def __post_init__(self):
        if self.rule and not self.rules:
            self.rules = [self.rule]

    def to_dict(self) -> dict:
        return {"step": self.step, "status": self.status, "message": self.message,
                "rule": self.rule, "rules": list(self.rules),
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass
class Decision:
    loader: str
    steps: list[Step]

    @property
    def verdict(self) -> str:
        worst = max((STATUSES.index(s.status) for s in self.steps), default=1)
        return {0: "pass", 1: "pass", 2: "warn", 3: "fail"}[worst]

    def reasons(self) -> list[Step]:
        return [s for s in self.steps if s.status in ("warn", "fail")]


@dataclass
class Report:
    image: ImageResult
    host: Host
    decisions: dict[str, Decision]
    chosen: str
    signature: dict
    initrd: dict | None = None

    @property
    def verdict(self) -> str:
        return self.decisions[self.chosen].verdict

    @property
    def steps(self) -> list[Step]:
        return self.decisions[self.chosen].steps

    def to_dict(self) -> dict:
        r = self.image
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "kimage", "version": __version__},
            "image": {
                "path": r.path, "format": r.format,
                "layers": [layer.to_dict() for layer in r.layers],
                "file_size": r.file_size, "payload_size": r.payload_size,
                "facts": r.facts, "findings": [f.to_dict() for f in r.findings],
                "signature": self.signature,
            },
            "initrd": self.initrd,
            "host": self.host.to_dict(),
            "loader": self.chosen,
            "command": COMMAND[self.chosen],
            "steps": [s.to_dict() for s in self.steps],
            "loaders": {name: {"verdict": d.verdict,
                               "reasons": [{"step": s.step, "status": s.status, "rules": s.rules}
                                           for s in d.reasons()]}
                        for name, d in self.decisions.items()},
            "verdict": self.verdict,
        }


def run(result: ImageResult, host: Host, loaders: tuple[str, ...] = LOADERS,
        initrd: dict | None = None) -> Report:
    """Decide for each loader; report the best (kexec-tools first on a tie). ``initrd``:
    ``validator.initrd.probe``'s summary of --initrd."""
    signature = image_signature(result)
    decisions = {name: decide(result, host, name, signature=signature, initrd=initrd)
                 for name in loaders}
    rank = {"pass": 0, "warn": 1, "fail": 2}
    chosen = min(loaders, key=lambda n: (rank[decisions[n].verdict], loaders.index(n)))
    return Report(result, host, decisions, chosen, signature, initrd)


def decide(result: ImageResult, host: Host, loader: str, initrd_size: int = 0,
           signature: dict | None = None, initrd: dict | None = None) -> Decision:
    if signature is None:
        signature = image_signature(result)
    initrd_size = initrd["size"] if initrd else initrd_size
    steps = [
        _step_image(result, loader),
        *([Step("initrd", *initrd_step(initrd))] if initrd else []),
        _step_crash_region(host),
        _step_arch(result, host, loader),
        _step_page_size(result, host),
    ]
    if result.facts.get("arch") == "ppc64":
        steps.append(_step_relocatable(result, host, loader))
    steps += [
        _step_fit(result, host, loader, initrd_size),
        _step_load_path(host, loader, signature),
        _step_crash_loaded(host),
    ]
    for step in steps:
        apply_malformed(step, host)
    return Decision(loader, steps)


# --- helpers ---------------------------------------------------------------------------

def _img(name: str, value) -> Evidence:
    """An image fact as evidence; sizes and addresses in hex, page sizes in bytes."""
    big = isinstance(value, int) and not isinstance(value, bool) and value >= 0x1000
    shown = f"{value:#x}" if big and "page_size" not in name else str(value)
    return Evidence(f"image:{name}", shown)


def _host_ev(host: Host, *topics: str) -> list[Evidence]:
    return [e for t in topics for e in host.evidence.get(t, [])]


def _align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _align_down(value: int, align: int) -> int:
    return value // align * align


def _wrappers(result: ImageResult) -> list[str]:
    """Layers a loader must take off (the PE header of an EFI stub is no wrapper)."""
    kinds = [layer.kind for layer in result.layers if layer.kind != "pe"]
    compression = result.facts.get("compression")
    if compression and compression not in kinds:
        kinds.insert(0, compression)
    return kinds


def _elf_loads(result: ImageResult) -> list[dict]:
    for layer in result.layers:
        if layer.kind == "elf":
            return layer.details.get("loads") or []
    return []


# --- steps -----------------------------------------------------------------------------

_KT_ARM64_WRAPPERS = {"elf", "gzip", "xz", "lzma", "zstd", "zboot", "uimage"}
_KT_PPC64_WRAPPERS = {"elf", "gzip", "xz", "lzma", "zstd"}


def _step_image(result: ImageResult, loader: str) -> Step:
    errors = [f for f in result.findings if f.severity == "error"]
    ev = [_img("format", result.format)]
    chain = _wrappers(result)
    if chain:
        ev.append(_img("layers", " > ".join(chain)))
    if result.format == "unknown" or errors:
        why = "; ".join(f"{f.rule}: {f.message}" for f in errors) or "no kernel header found"
        return Step("image", "fail", f"the image does not decode: {why}", ev,
                    "preflight/image-not-loadable")
    arch = result.facts.get("arch")
    what = " > ".join(chain) if chain else "raw"
    if arch == "arm64":
        image_size = result.facts.get("image_size") or 0
        text_offset = result.facts.get("text_offset") or 0
        ev += [_img("facts.image_size", image_size), _img("facts.text_offset", text_offset)]
        if loader == "kexec-file":
            if chain:
                return Step("image", "fail",
                            f"arm64 kexec_file_load takes only a raw Image; this is {what} "
                            f"(use kexec-tools, or unpack it)", ev,
                            "preflight/image-not-loadable")
            if image_size == 0:
                return Step("image", "fail",
                            "image_size is 0 (header before 3.17): kexec_file_load refuses "
                            "an ambiguous header (-EINVAL)", ev, "preflight/image-not-loadable")
            memsz = _align_up(image_size + text_offset, 4 * KiB)
            if (result.file_size or 0) > memsz:
                ev.append(_img("file_size", result.file_size))
                return Step("image", "fail",
                            f"the file ({result.file_size:#x} bytes) is longer than "
                            f"image_size + text_offset ({memsz:#x}): kexec_file_load refuses "
                            f"a segment whose buffer exceeds its memory size (-EINVAL)", ev,
                            "preflight/image-not-loadable")
        else:
            bad = [k for k in chain if k not in _KT_ARM64_WRAPPERS]
            for layer in result.layers:
                if layer.kind == "zboot" and not layer.details.get("kexec_tools_accepts_name"):
                    bad.append(f"zboot with {layer.details.get('compression')!r} "
                               f"(only gzip, zstd, lzma)")
                if layer.kind == "uimage" and layer.details.get("compression") not in (
                        None, "none", "gzip"):
                    bad.append(f"a uImage with {layer.details.get('compression')} "
                               f"(only none, gzip)")
            if bad:
                return Step("image", "fail",
                            f"kexec-tools does not unpack {', '.join(bad)} ({what})", ev,
                            "preflight/image-not-loadable")
            if "zboot" in chain:
                what += ", kexec-tools 2.0.27 or later"
        return Step("image", "pass", f"{result.format} ({what}): {COMMAND[loader]} takes it",
                    ev)
    if arch == "ppc64":
        if "elf" not in chain:
            return Step("image", "fail",
                        "ppc64 loaders take an ELF vmlinux; this is a bare head (kexec-tools "
                        "has only the elf-ppc64 type, kexec_file_load only kexec_elf64_ops)",
                        ev, "preflight/image-not-loadable")
        allowed = {"elf"} if loader == "kexec-file" else _KT_PPC64_WRAPPERS
        bad = [k for k in chain if k not in allowed]
        if bad:
            return Step("image", "fail", f"{COMMAND[loader]} does not unpack "
                        f"{', '.join(bad)} ({what})", ev, "preflight/image-not-loadable")
        elf = next(layer for layer in result.layers if layer.kind == "elf")
        ev.append(_img("elf.class", elf.details.get("class")))
        if elf.details.get("class") != 64:
            return Step("image", "fail", "kexec loads only an ELFCLASS64 ppc64 vmlinux", ev,
                        "preflight/image-not-loadable")
        return Step("image", "pass", f"ppc64 ELF vmlinux ({what}): {COMMAND[loader]} takes it",
                    ev)
    return Step("image", "fail", f"no kexec loader kimage knows takes a {arch} image", ev,
                "preflight/image-not-loadable")


def _step_crash_region(host: Host) -> Step:
    ev = _host_ev(host, "crash")
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


def _step_arch(result: ImageResult, host: Host, loader: str) -> Step:
    ev = _host_ev(host, "arch") + [_img("facts.arch", result.facts.get("arch")),
                                   _img("facts.endianness", result.facts.get("endianness"))]
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
    ev += _host_ev(host, "pages")[-1:] if host.id_aa64mmfr0 is not None else []
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


def _step_page_size(result: ImageResult, host: Host) -> Step:
    arch = result.facts.get("arch")
    page = result.facts.get("page_size")
    ev = _host_ev(host, "pages") + [_img("facts.page_size", page)]
    if arch == "ppc64":
        ev = [e for e in ev if e.file != "image:facts.page_size"] + _host_ev(host, "cpu")
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


def _step_relocatable(result: ImageResult, host: Host, loader: str) -> Step:
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
    loads = _elf_loads(result)
    paddr = loads[0]["paddr"] if loads else None
    if paddr is not None:
        ev.append(_img("elf.loads[0].p_paddr", paddr))
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


@dataclass
class _Seg:
    name: str
    size: int
    align: int
    mode: str  # fixed | bottom-up | top-down
    at: int | None = None
    min_addr: int | None = None
    why: str = ""


def _place(start: int, end: int, segs: list[_Seg], page: int):
    """Place segments in [start, end) as kexec_add_buffer / locate_hole do.

    Returns (placed [(seg, addr, size)], failed seg or None)."""
    placed: list[tuple[_Seg, int, int]] = []

    def clash(addr: int, size: int):
        return next((p for p in placed if addr < p[1] + p[2] and p[1] < addr + size), None)

    for seg in segs:
        size = _align_up(max(seg.size, 1), page)
        align = max(seg.align, page)
        low = max(start, seg.min_addr or start)
        if seg.mode == "fixed":
            addr = seg.at
            if addr < start or addr + size > end or clash(addr, size):
                return placed, seg
        elif seg.mode == "bottom-up":
            addr = _align_up(low, align)
            while (hit := clash(addr, size)) is not None:
                addr = _align_up(hit[1] + hit[2], align)
            if addr + size > end:
                return placed, seg
        else:
            addr = _align_down(end - size, align)
            while addr >= low and (hit := clash(addr, size)) is not None:
                addr = _align_down(hit[1] - size, align)
            if addr < low:
                return placed, seg
        placed.append((seg, addr, size))
    return placed, None


def _dtb_size(host: Host) -> tuple[int, str]:
    if host.fdt_size:
        return host.fdt_size + ALLOWANCES["dtb_extra"], \
            f"/sys/firmware/fdt ({host.fdt_size} bytes) + 64 KiB of kdump properties"
    return ALLOWANCES["dtb"], "allowance: /sys/firmware/fdt not readable (root only)"


def _segments(result: ImageResult, host: Host, loader: str, base: int,
              initrd_size: int) -> tuple[list[_Seg], list[Evidence]] | str:
    arch = result.facts.get("arch")
    dtb, dtb_why = _dtb_size(host)
    ev: list[Evidence] = []
    segs: list[_Seg] = []
    core = ALLOWANCES["elfcorehdr"]
    if arch == "arm64":
        image_size = result.facts.get("image_size") or 0
        text_offset = result.facts.get("text_offset") or 0
        if image_size == 0:
            if loader == "kexec-file":
                return "image_size 0: kexec_file_load refuses the image"
            text_offset, image_size = 0x80000, 16 * MiB
            ev.append(Evidence("kexec-tools", "image_size 0: text_offset 0x80000, 16 MiB "
                               "assumed (arm64_process_image_header)"))
        ev += [_img("facts.image_size", image_size), _img("facts.text_offset", text_offset),
               _img("facts.placement", result.facts.get("placement"))]
        kernel = image_size + text_offset
        if loader == "kexec-file":
            segs = [
                _Seg("kernel", kernel, ARM64_KIMG_ALIGN, "bottom-up",
                     why="image_size + text_offset, 2 MiB aligned (MIN_KIMG_ALIGN)"),
                _Seg("elfcorehdr", core, 64 * KiB, "top-down", why="allowance, 64 KiB aligned"),
            ]
            if initrd_size:
                segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", why="--initrd"))
            segs.append(_Seg("dtb", dtb, 2 * MiB, "top-down",
                             why=f"{dtb_why}; 2 MiB aligned, never across a 2 MiB boundary"))
        else:
            hole = _align_up(base, ARM64_KIMG_ALIGN)
            after = hole + kernel
            segs = [
                _Seg("elfcorehdr", core, 0, "top-down", why="allowance, at the region's top"),
                _Seg("kernel", kernel, ARM64_KIMG_ALIGN, "fixed", at=hole,
                     why="image_size + text_offset at the region base rounded up to 2 MiB "
                         "(arm64_locate_kernel_segment)"),
            ]
            if initrd_size:
                segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", min_addr=after,
                                 why="--initrd, after the kernel"))
            segs += [
                _Seg("dtb", dtb, 0, "bottom-up", min_addr=after, why=dtb_why),
                _Seg("purgatory", ALLOWANCES["purgatory"], 0, "bottom-up", min_addr=after,
                     why="allowance"),
            ]
        return segs, ev
    loads = _elf_loads(result)
    if not loads:
        return "no PT_LOAD to place"
    first = loads[0]
    span = max(ld["paddr"] + ld["memsz"] for ld in loads) - first["paddr"]
    span = max(span, first["memsz"])
    ev += [_img("elf.loads[0].p_memsz", first["memsz"]), _img("elf.loads[0].p_align",
                                                              first["align"])]
    if len(loads) > 1:
        ev.append(_img("elf.PT_LOAD span", span))
    kernel_align = (first["align"] or 0) if loader == "kexec-file" else 0
    segs = [_Seg("kernel", span, kernel_align, "bottom-up",
                 why="PT_LOAD memsz" + (", p_align" if loader == "kexec-file" else
                                        ", first page-aligned hole (locate_hole)"))]
    segs += [
        _Seg("backup", ALLOWANCES["backup"], 0, "bottom-up", why="first 64 KiB of memory"),
        _Seg("elfcorehdr", core, 0, "bottom-up", why="allowance"),
    ]
    if loader == "kexec-tools":
        segs.append(_Seg("purgatory", ALLOWANCES["purgatory"], 0, "bottom-up",
                         why="allowance"))
    if initrd_size:
        segs.append(_Seg("initrd", initrd_size, 0, "bottom-up", why="--initrd"))
    segs.append(_Seg("dtb", dtb, 0, "top-down", why=dtb_why))
    if loader == "kexec-file":
        segs.append(_Seg("purgatory", ALLOWANCES["purgatory"], 0, "top-down",
                         why="allowance"))
    return segs, ev


def _step_fit(result: ImageResult, host: Host, loader: str, initrd_size: int) -> Step:
    c = host.crash
    arch = result.facts.get("arch")
    if c is None:
        return Step("fit", "skip", "no crash region to fit into")
    if arch not in ("arm64", "ppc64"):
        return Step("fit", "skip", "unknown architecture")
    page = host.page_size or DEFAULT_PAGE[arch]
    assumed = c.base is None
    # An unknown base is one the kernel chose: arm64 reserves crashkernel= 2 MiB aligned
    # (CRASH_ALIGN); ppc64 page aligned. Offsets are then relative to the region.
    base = c.base if c.base is not None else 0
    built = _segments(result, host, loader, base, initrd_size)
    if isinstance(built, str):
        return Step("fit", "skip", built)
    segs, ev = built
    ev.append(Evidence("host:page_size", str(page), "segment sizes round up to it"))
    if initrd_size:
        ev.append(Evidence("--initrd", str(initrd_size)))
    end = base + c.size
    placed, failed = _place(base, end, segs, page)
    def at(addr: int) -> str:
        return f"region+{addr - base:#x}" if assumed else f"{addr:#x}"

    for seg, addr, size in placed:
        ev.append(Evidence(f"placed:{seg.name}", f"{at(addr)}, {human_size(size)}", seg.why))
    note = " (base unknown: offsets from a 2 MiB-aligned base)" if assumed else ""
    if failed is not None:
        need = sum(_align_up(s.size, page) for s in segs)
        return Step("fit", "fail",
                    f"the {failed.name} ({human_size(failed.size)}) does not fit: "
                    f"{human_size(c.size)} region, the segments need {human_size(need)} "
                    f"before alignment{note}", ev, "preflight/does-not-fit")
    kernel = next(p for p in placed if p[0].name == "kernel")
    if arch == "ppc64" and kernel[1] % PPC64_RELOC_ALIGN and not assumed:
        return Step("fit", "fail", f"the kernel would start at {kernel[1]:#x}, not 16 KiB "
                    f"aligned", ev, "preflight/placement-unaligned")
    used = sum(p[2] for p in placed)
    free = c.size - used
    message = (f"kernel at {at(kernel[1])}; {len(placed)} segments, {human_size(used)} of "
               f"{human_size(c.size)}, {human_size(free)} left{note}")
    if arch == "ppc64" and loader == "kexec-file":
        message += "; kexec_file_load also keeps segments below the RMA, not read here"
    if free < ALLOWANCES["run_floor"]:
        return Step("fit", "warn", message + f": less than {human_size(ALLOWANCES['run_floor'])}"
                    f" for the capture kernel to run in", ev, "preflight/little-memory-left")
    return Step("fit", "pass", message, ev)


def _step_load_path(host: Host, loader: str, signature: dict) -> Step:
    """Every reason the syscall would be refused, not just the first."""
    ev = _host_ev(host, "load") + [e for e in _host_ev(host, "config")
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
    ev.append(Evidence("image:signature", _signature_text(signature),
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
                          f"({_signature_text(signature)}); whether the kernel trusts the "
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


def _step_crash_loaded(host: Host) -> Step:
    ev = _host_ev(host, "loaded")
    if host.crash_loaded is None:
        return Step("crash-loaded", "skip", "/sys/kernel/kexec_crash_loaded not readable", ev)
    if host.crash_loaded:
        return Step("crash-loaded", "warn", "a crash kernel is already loaded: loading this "
                    "one replaces it", ev, "preflight/crash-kernel-loaded")
    return Step("crash-loaded", "pass", "no crash kernel loaded yet", ev)


# --- signatures ------------------------------------------------------------------------

def _signature_text(sig: dict) -> str:
    if not sig.get("present"):
        return "none"
    if sig.get("kind") == "authenticode" and sig.get("size"):
        return f"Authenticode, {sig['size']} bytes at {sig['offset']:#x}"
    return str(sig.get("kind"))


def image_signature(result: ImageResult) -> dict:
    """Is there a signature a kexec_file_load under lockdown could verify?

    arm64: an Authenticode WIN_CERTIFICATE in the PE security directory (data directory
    4), as the pipeline's PE description reports it (``derived["pe"]["authenticode"]``
    for an EFI-stub Image, the zboot layer's ``pe`` for a zboot image). ppc64: an
    appended module signature ("~Module signature appended~\\n" at the end of the file),
    which IMA appraises.
    """
    arch = result.facts.get("arch")
    if arch == "arm64":
        pe, where = result.derived.get("pe"), "EFI stub PE header"
        for layer in result.layers:
            if layer.kind == "zboot" and isinstance(layer.details.get("pe"), dict):
                pe, where = layer.details["pe"], "zboot PE header"
        if not isinstance(pe, dict):
            return {"kind": "authenticode", "present": False, "offset": None, "size": None,
                    "source": "no PE header (no EFI stub)"}
        cert = pe.get("authenticode")
        if not cert:
            return {"kind": "authenticode", "present": False, "offset": None, "size": None,
                    "source": f"{where}: security directory empty"}
        present = (cert.get("in_file", True) and cert.get("certificate_type", 2) == 2
                   and bool(cert.get("size")))
        return {"kind": "authenticode", "present": bool(present), "offset": cert.get("offset"),
                "size": cert.get("size"), "certificate_type": cert.get("certificate_type"),
                "source": f"{where}: {_AUTHENTICODE}"}
    if arch == "ppc64":
        from validator.source import InputError, Source
        try:
            with Source(result.path) as src:
                tail = src.read(src.size - len(MODSIG_MAGIC), len(MODSIG_MAGIC))
        except InputError as exc:
            return {"kind": "module signature", "present": False, "source": str(exc)}
        return {"kind": "module signature", "present": tail == MODSIG_MAGIC,
                "source": "appended-signature marker at the end of the file"}
    return {"kind": None, "present": False, "source": "no signature format kimage reads"}


# --- text ------------------------------------------------------------------------------

_MARK = {"pass": "pass", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def render_text(report: Report) -> str:
    r, h = report.image, report.host
    host_desc = f"{h.machine or 'unknown arch'}"
    if h.osrelease:
        host_desc += f" {h.osrelease}"
    lines = [f"{r.path}",
             f"  image    {r.format}, {r.facts.get('arch')} "
             f"{r.facts.get('endianness') or '?'}-endian"
             + (f", {r.facts['kernel_version']}" if r.facts.get("kernel_version") else ""),
             f"  host     {h.root} ({host_desc})",
             f"  loader   {COMMAND[report.chosen]}"]
    if report.initrd:
        lines.append(f"  initrd   {report.initrd['path']} ({human_size(report.initrd['size'])}"
                     f", {report.initrd['format']})")
    width = max(len(s.step) for s in report.steps)
    for s in report.steps:
        lines.append(f"  {_MARK[s.status]:<4}  {s.step:<{width}}  {s.message}")
        for e in s.evidence:
            note = f"  ({e.note})" if e.note else ""
            lines.append(f"  {'':4}  {'':<{width}}    {e.file}: {e.value}{note}")
    if len(report.decisions) > 1:
        parts = []
        for name, d in report.decisions.items():
            why = ", ".join(s.step for s in d.reasons() if s.status == d.verdict)
            parts.append(f"{name} {d.verdict}" + (f" ({why})" if why else ""))
        lines.append("  loaders  " + "; ".join(parts))
    verdict, command = report.verdict, COMMAND[report.chosen]
    tail = {"pass": f"{command} would load it, and it would run",
            "warn": f"{command} would load it; see the warnings",
            "fail": "it would not load, or not run"}[verdict]
    lines.append(f"  verdict  {verdict}: {tail}")
    from validator.textsafe import escape_text  # names: no newline or escape reaches a tty
    return "\n".join(escape_text(line) for line in lines) + "\n"


# --- JSON Schema (validator.preflight_schema) --------------------------------------------

SCHEMA: dict = preflight_schema.schema(SCHEMA_ID, LOADERS, STATUSES)
