"""What ``kexec -p`` (and ``-l``) does between its two system calls, by kexec-tools release.

Not a loader of its own (not in ``LOADER_MODULES``): the facts that join the two loader
models, ``kexec_tools`` (the kexec_load path) and ``kexec_file`` (the kernel's
kexec_file_load), into the path one ``kexec`` command takes. ``validator.kdump.kexecpath``
asks it; nothing else says it.

horms/kexec-tools ``kexec/kexec.c``:

- ``main()``: ``-s`` sets file syscall without fallback, ``-c`` kexec_load, ``-a`` file
  syscall with fallback; the last option given wins (each case sets both flags; v2.0.25
  lines 1547-1558). Before 2.0.27 the default is ``-c``; from 2.0.27 (29fe506 "kexec: make
  -a the default", ``git describe --contains``: v2.0.27-rc1~10) it is ``-a``
  (``do_kexec_file_syscall = 1; do_kexec_fallback = 1;``, v2.0.29 lines 1475-1476). From
  2.0.29 (94fbe64) a Xen dom0 never uses kexec_file_load (v2.0.29 lines 1719-1722).
  A crash load on a host with no crash region dies before either call: "Memory for
  crashkernel is not reserved" (v2.0.29 ``main``, ``is_crashkernel_mem_reserved``).
- ``do_kexec_file_load()`` (v2.0.25 lines 1262-1383, v2.0.29 lines 1304-1424): reads the
  file through ``slurp_decompress_file`` (so compression is kexec-tools' to undo), probes
  ``file_type[]`` and calls the type's ``load`` in file mode, then ``kexec_file_load`` on
  a memfd of the result (2.0.27+, 714fa11) or on the zboot's decompressed Image
  (``pez_arm64_load``, from 2.0.27). A probe or load that fails here returns EFAILED: no
  fallback. After the call, ``switch (errno)``: ENOSYS, EINVAL, ENOEXEC and ENOTSUP return
  EFALLBACK (v2.0.29 lines 1403-1419); everything else (ELIBBAD, EKEYREJECTED, ENOPKG,
  ENOKEY, EBADMSG, EMSGSIZE, EPERM, EADDRNOTAVAIL, ...) is "Reject by default".
- ``main()`` retries with kexec_load only when the result is EFALLBACK and fallback is on
  (v2.0.29 lines 1740, 1754); with ``-s`` EFALLBACK ends in "syscall kexec_file_load not
  available.".

arm64 file mode refuses two file types itself: ``elf_arm64_load`` ("ELF executable is not
supported in kexec_file", kexec/arch/arm64/kexec-elf-arm64.c) and ``uImage_arm64_load``
("uImage is not supported in kexec_file", kexec-uImage-arm64.c), at every release 2.0.25 to
2.0.32; so from 2.0.27 a plain ``kexec -p vmlinux`` on arm64 fails without trying
kexec_load.

The errno the kernel's kexec_file_load returns (torvalds/linux v6.1 to v6.12): the probe
(arch/arm64/kernel/kexec_image.c ``image_probe``: -EINVAL, returned as it is by
kernel/kexec_file.c ``kexec_image_probe_default``) and ``image_load`` (image_size 0, byte
order, page size: -EINVAL); kexec_file.c ``kexec_locate_mem_hole`` "-EADDRNOTAVAIL" when
no hole fits; kernel/kexec_core.c ``sanity_check_segment_list``: a segment not page
aligned or outside the crash region -EADDRNOTAVAIL, bufsz > memsz -EINVAL; ppc64
kernel/kexec_elf.c: -ENOEXEC for a file that is not a usable ELF. Signatures
(kexec_file.c ``kimage_validate_signature``, CONFIG_KEXEC_SIG): under
CONFIG_KEXEC_SIG_FORCE the verifier's error (an unsigned PE: -ENODATA,
crypto/asymmetric_keys/verify_pefile.c; an untrusted key -ENOKEY or -EKEYREJECTED);
otherwise under lockdown -EPERM. ``kexec_load_disabled``: -EPERM from both calls.
"""

from __future__ import annotations

from validator.loaders import at_least
from validator.loaders import kexec_tools as kt

#: The release from which plain ``kexec -p`` tries kexec_file_load first (29fe506).
AUTO_DEFAULT = "2.0.27"
#: The release from which a Xen dom0 never tries kexec_file_load (94fbe64).
XEN_NO_FILE = "2.0.29"
#: errno values after which kexec-tools retries with kexec_load (do_kexec_file_load).
FALLBACK_ERRNOS = ("ENOSYS", "EINVAL", "ENOEXEC", "ENOTSUP")
#: kexec's options that choose the syscall (kexec/kexec.h OPT_KEXEC_*).
MODE_OPTIONS = {"-s": "file", "--kexec-file-syscall": "file", "-c": "load",
                "--kexec-syscall": "load", "-a": "auto", "--kexec-syscall-auto": "auto"}

#: arm64 file types kexec-tools' file mode refuses itself (EFAILED, never a fallback).
FILE_MODE_REFUSES = {
    "elf": "elf_arm64_load: 'ELF executable is not supported in kexec_file' "
           "(kexec/arch/arm64/kexec-elf-arm64.c)",
    "uimage": "uImage_arm64_load: 'uImage is not supported in kexec_file' "
              "(kexec/arch/arm64/kexec-uImage-arm64.c)",
}
#: Findings about a wrapper kexec-tools takes off before kexec_file_load (the kernel is
#: given the decompressed or unwrapped Image): slurp_decompress_file, pez_arm64_load.
UNWRAPPED = frozenset({"layer/compressed", "layer/zboot"})
#: Findings of the kexec_load path that, in file mode, the kernel decides instead
#: (kexec-tools places nothing itself there).
KERNEL_PLACES = frozenset({"arm64/text-offset-unaligned", "arm64/image-size-implausible",
                           "arm64/text-offset-implausible",
                           # riscv64: image_riscv_load returns to file mode before it
                           # reads image_size or flags (kexec-tools v2.0.32
                           # kexec/arch/riscv/kexec-image-riscv.c), the kernel checks them
                           "riscv64/image-size-zero", "riscv64/big-endian",
                           "riscv64/image-size-implausible"})

#: kexec_file_load's errno for each reason the kexec-file model refuses for; any other
#: refusal of the probe or the header is EINVAL (arm64) or ENOEXEC (ppc64 ELF).
ERRNO = {
    "arm64/image-size-implausible": ("EADDRNOTAVAIL", "kexec_locate_mem_hole: no hole"),
    "arm64/text-offset-implausible": ("EADDRNOTAVAIL", "kexec_locate_mem_hole: no hole"),
    "arm64/text-offset-unaligned": ("EADDRNOTAVAIL",
                                    "sanity_check_segment_list: segment not page aligned"),
    "arm64/image-size-smaller-than-file": ("EINVAL",
                                           "sanity_check_segment_list: bufsz > memsz"),
    "arm64/image-size-zero": ("EINVAL", "image_load: !h->image_size"),
    "target/endianness": ("EINVAL", "image_load: byte order not supported"),
    "target/page-size": ("EINVAL", "image_load: page size not supported by the CPU"),
    # riscv64 (Linux 6.16 arch/riscv/kernel/kexec_image.c; before 6.16 no Image loader:
    # kexec_image_probe_default finds none and returns -ENOEXEC)
    "loader/not-supported": ("ENOEXEC", "kexec_image_probe_default: no kexec_file_loaders[] "
                                        "entry takes it"),
    "riscv64/image-size-zero": ("EINVAL", "image_load: !h->image_size"),
    "riscv64/big-endian": ("EINVAL", "image_load: be_image != be_kernel"),
    "riscv64/image-size-implausible": ("EADDRNOTAVAIL", "kexec_locate_mem_hole: no hole"),
    "riscv64/image-size-smaller-than-file": ("EINVAL",
                                             "sanity_check_segment_list: bufsz > memsz"),
}


def default_mode(version: str) -> str:
    """"auto" (try kexec_file_load, fall back) from 2.0.27, else "load"."""
    return "auto" if at_least(version, AUTO_DEFAULT) else "load"


def mode_of(version: str, args: list[str]) -> tuple[str, str]:
    """(mode, why) of ``kexec ARGS -p``: "auto", "file" or "load"; the last of -s/-c/-a
    given wins, else the release's default."""
    given = [a for a in args if a in MODE_OPTIONS]
    if given:
        return MODE_OPTIONS[given[-1]], f"{given[-1]} given"
    if at_least(version, AUTO_DEFAULT):
        return "auto", f"the default from {AUTO_DEFAULT}: 29fe506 'kexec: make -a the default'"
    return "load", f"the default before {AUTO_DEFAULT}"


def falls_back(errno: str) -> bool:
    return errno in FALLBACK_ERRNOS


def file_half(layers: list[str], arch: str | None, version: str, tools: dict,
              zboot_method: str | None) -> str | None:
    """Why kexec-tools ``version`` stops before calling kexec_file_load (None: it calls it
    with the Image inside). ``tools``: kexec-tools' verdict at ``version`` (the kexec_load
    path's: its probes and decompression are file mode's too); ``layers``: the image's
    layer kinds, outermost first."""
    if arch == "arm64":
        for kind, why in FILE_MODE_REFUSES.items():
            if kind in layers:
                return why
    reasons = [r for r in tools.get("reasons") or [] if r not in KERNEL_PLACES]
    if "layer/zboot" in reasons and "zboot" in layers and at_least(version, kt.ZBOOT_PROBE) \
            and (zboot_method or "").startswith(kt.zboot_methods(version)):
        # 2.0.27: pez_arm64_load decompresses for kexec_file_load only (kexec_load from
        # 2.0.28, 8f08e3b): file mode takes it.
        reasons.remove("layer/zboot")
    if not reasons:
        return None
    return f"kexec-tools {version} refuses it before the call: {', '.join(reasons)}"


def kernel_reasons(file_verdict: dict, unwrapped: bool) -> list[str]:
    """The kexec-file model's reasons that concern what the kernel is given: without the
    wrapper findings when kexec-tools unwrapped the file first."""
    reasons = list(file_verdict.get("reasons") or [])
    return [r for r in reasons if r not in UNWRAPPED] if unwrapped else reasons


def errno_for(reasons: list[str], arch: str | None) -> tuple[str, str]:
    """(errno, where) kexec_file_load returns for the first reason that decides it."""
    for rule in reasons:
        if rule in ERRNO:
            return ERRNO[rule]
    if arch == "ppc64":
        return "ENOEXEC", "kexec_elf.c: not an ELF the ppc64 loader takes"
    if arch == "riscv64":
        return "EINVAL", "image_probe/image_load (arch/riscv/kernel/kexec_image.c)"
    return "EINVAL", "image_probe/image_load (arch/arm64/kernel/kexec_image.c)"
