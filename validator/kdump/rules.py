"""preflight's rules, one per reason a crash kernel would not load or not run, and
``kimage patch``'s.

Each step of validator.kdump.steps, validator.kdump.placement, validator.kdump.hostcheck
(preflight's other inputs) and validator.kdump.kexecpath reports at most these IDs;
validator.kdump.patch reports the ``patch/`` ones. They are declared here, in one table
that imports only the catalogue, so that listing the rules (``kimage rules``, SARIF)
does not import preflight's host model.
"""

from __future__ import annotations

from validator.catalogue import rule

LOADERS = ("kexec-tools", "kexec-file")

_LK = ("kexec-tools",)
_KF = ("kexec-file",)
_BOTH = LOADERS

rule("preflight/image-not-loadable", "error",
     "the loader does not take this kind of file",
     "The image step is the loader's verdict as `kimage check` gives it (validator/loaders/, "
     "the one model of each loader): e.g. arm64 kexec_file_load takes only a raw Image with "
     "image_size != 0; kexec-tools also a vmlinux ELF, compressed Images, zboot and uImage; "
     "ppc64 loaders only an ELF vmlinux. The message names the findings that decide it. A "
     "package (.deb) is refused too: kexec reads the kernel file it is named.",
     "validator/loaders/kexec_tools.py, validator/loaders/kexec_file.py (each with its "
     "upstream references)",
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
     "Linux 6.1 arch/powerpc/kernel/head_64.S __after_prom_start and __run_at_load; "
     "kexec-tools kexec/arch/ppc64/kexec-elf-ppc64.c (my_r6 / __run_at_load)",
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



# --- the host's kdump configuration (validator.kdump.discover, cmdline, reserve) -----

_TOOLS = ("kdump-tools 1:1.8 debian/kdump-config.in (kdump_load, locate_kdump_kernel); "
          "kdump-utils v1.0.61 kdump-lib.sh (prepare_cmdline, prepare_kdump_bootinfo)")

rule("preflight/capture-kernel-not-found", "error",
     "the kdump configuration names no capture kernel that exists",
     "Without IMAGE, kimage reads the host's kdump configuration the way its tool does; "
     "a kernel it names that is not there (or no kernel for the running release) is a "
     "load that fails before kexec runs.",
     _TOOLS, _BOTH)
rule("preflight/kdump-disabled", "warning",
     "kdump-tools is installed but USE_KDUMP is not 1",
     "kdump-config loads no crash kernel unless USE_KDUMP=1 in /etc/default/kdump-tools.",
     "kdump-tools 1:1.8 debian/kdump-tools.init, debian/kdump-config.in", _BOTH)
rule("preflight/cmdline-crashkernel", "warning",
     "crashkernel= is left on the capture kernel's command line",
     "The capture kernel would try to reserve a crash region inside the region it runs "
     "in; both distro tools remove crashkernel= from the line they derive.",
     _TOOLS, _BOTH)
rule("preflight/cmdline-all-cpus", "warning",
     "the capture kernel's command line limits no CPUs (nr_cpus=, maxcpus=)",
     "Each CPU brought up costs per-CPU areas and stacks inside the crash region, and "
     "bringing up CPUs after a crash is a common failure; kdump.rst recommends nr_cpus=1 "
     "and both distro tools add nr_cpus= or maxcpus=.",
     "Documentation/admin-guide/kdump/kdump.rst; " + _TOOLS, _BOTH)
rule("preflight/cmdline-no-reset-devices", "warning",
     "the capture kernel's command line has no reset_devices",
     "Devices the crashed kernel left running (DMA in flight) are reset by drivers only "
     "with reset_devices; both distro tools add it.",
     "Documentation/admin-guide/kdump/kdump.rst; " + _TOOLS, _BOTH)
rule("preflight/cmdline-no-root", "warning",
     "no root= on the line, and the initramfs mounts the root file system",
     "kdump-tools' capture kernel boots an initramfs-tools initrd that mounts root= and "
     "runs the dump from it (systemd.unit=kdump-tools-dump.service); without root= it "
     "stops in the initramfs. kdumpctl removes root= on purpose (its initrd carries the "
     "dump target) and is not checked.",
     "kdump-tools 1:1.8 debian/kdump-tools-dump.service; initramfs-tools init", _BOTH)
rule("preflight/reservation-below-recommended", "warning",
     "the crash region is smaller than kimage's recommendation for this kernel and initrd",
     "The recommendation adds the loader's segments, the unpacked initramfs, a runtime "
     "floor and 1 MiB per CPU; each line is shown. Below it the capture kernel may run "
     "out of memory while unpacking or dumping (a region they cannot even be placed in "
     "is preflight/does-not-fit).",
     "validator/kdump/reserve.py; kdump-utils v1.0.61 kdumpctl do_estimate", _BOTH)
rule("preflight/not-a-dump-initramfs", "warning",
     "the initrd holds no makedumpfile: it is no dump initramfs",
     "Debian kdump-tools' initrd (/var/lib/kdump/initrd.img-V) and Fedora's "
     "initramfs-Vkdump.img both carry makedumpfile; a plain boot initramfs boots the "
     "capture kernel but saves no dump.",
     "kdump-tools 1:1.8 debian/initramfs.hook; kdump-utils dracut/99kdumpbase", _BOTH)
rule("preflight/fadump-enabled", "warning",
     "ppc64 firmware-assisted dump is enabled: kexec -p is not the path",
     "With fadump (/sys/kernel/fadump/enabled = 1, fadump=on) the firmware preserves "
     "memory on a crash and the system reboots into its own kernel and initramfs; no "
     "capture kernel is loaded with kexec -p, so kimage skips the kexec steps.",
     "Documentation/arch/powerpc/firmware-assisted-dump.rst; kdump-utils fadump-howto.txt",
     _BOTH)

# --- preflight's other inputs (validator.kdump.hostcheck) ---------------------------

MALFORMED = "preflight/host-file-malformed"
NOT_CPIO = "preflight/initrd-not-cpio"

rule(MALFORMED, "warning",
     "a host file is not what the kernel writes there; its value is unknown",
     "Every host file kimage reads has a fixed form (a 0/1 flag, a number, 'START-END : "
     "NAME' lines, a kernel .config, a release name). A file that is binary, empty, too "
     "long, a FIFO or device, or otherwise not of that form is not evidence: the value it "
     "would decide stays unknown, and unknown is not open or pass. Its bytes are not "
     "shown; a summary is ('binary, 4096 bytes', 'not 0 or 1').",
     "proc(5) /proc/iomem, /proc/cmdline; Documentation/admin-guide/sysctl/kernel.rst; "
     "Documentation/ABI/testing/sysfs-kernel-kexec-kdump",
     ("kexec-tools", "kexec-file"))
rule(NOT_CPIO, "warning",
     "the initrd is empty or not a cpio archive the kernel unpacks",
     "The kernel unpacks an initramfs made of newc cpio archives ('070701', or '070702' "
     "with checksums), each plain or compressed (gzip, bzip2, lzma, xz, lzo, lz4, zstd), "
     "with zero padding between them; an early microcode cpio before a compressed one is "
     "normal. An odc cpio ('070707') is refused ('incorrect cpio method used: use -H "
     "newc option'); anything else is 'junk in compressed archive'. The capture kernel "
     "then has no initramfs to run makedumpfile from.",
     "Linux init/initramfs.c unpack_to_rootfs, do_header; lib/decompress.c "
     "compressed_formats",
     ("kexec-tools", "kexec-file"))

# --- the calls kexec -p makes (validator.kdump.kexecpath) ------------------------------

NO_FALLBACK = "preflight/kexec-no-fallback"

rule(NO_FALLBACK, "error",
     "kexec -p stops at kexec_file_load although kexec_load would load the kernel",
     "From kexec-tools 2.0.27 plain `kexec -p` tries kexec_file_load first and falls back "
     "to kexec_load only when it fails with ENOSYS, EINVAL, ENOEXEC or ENOTSUP. A refusal "
     "by kexec-tools itself before the call (arm64: an ELF vmlinux or a uImage, 'not "
     "supported in kexec_file') or any other errno (EPERM, EADDRNOTAVAIL, a signature "
     "error) ends the command. Add -c (KDUMP_KEXEC_ARGS on Debian, KEXEC_ARGS on Fedora) "
     "to use kexec_load, or give a file kexec_file_load takes.",
     "horms/kexec-tools 29fe506 'kexec: make -a the default'; kexec/kexec.c "
     "do_kexec_file_load (v2.0.29 lines 1304-1424)",
     ("kexec-tools", "kexec-file"))

# --- kimage patch (validator.kdump.patch) ----------------------------------------------

rule("patch/no-run-at-load", "error",
     "the image has no __run_at_load word to patch",
     "Only a relocatable ppc64 kernel has __run_at_load ('run0' at 0x5c of the head); a "
     "non-relocatable one has 0 there and loaders leave it alone; other architectures have "
     "no such word. kimage patch refuses rather than write bytes a loader would not.",
     "Linux 6.1 arch/powerpc/kernel/head_64.S __run_at_load; kexec-tools "
     "kexec/arch/ppc64/kexec-elf-ppc64.c",
     ("kexec-tools", "kexec-file"))
rule("patch/verify-failed", "error",
     "the patched copy did not read back as intended",
     "After writing, kimage re-parses the copy; a value that does not read back, or any "
     "other change in the head, means the copy is discarded and the destination untouched.",
     "validator/kdump/patch.py",
     ())
