"""x86 bzImages for the seed corpus: valid ones of each boot protocol era, near-valid
ones, and field mutations of a real bzImage's setup header. Built through the construct
twin; the EFI stub's PE headers through the PE writer."""

from __future__ import annotations

from collections.abc import Callable

from validator.formats.pe.writer import pe_header
from validator.formats.sampling import Chooser, Sample, splice
from validator.formats.x86_bzimage import GATED, PE_MACHINE_I386, PE_MACHINE_X86_64
from validator.formats.x86_bzimage import twin as x86

#: Boot protocol versions of real kernels: 2.03 (2.4), 2.05 (2.6.20, relocatable), 2.10
#: (2.6.31, init_size), 2.12 (3.8, xloadflags), 2.13 (3.14), 2.15 (5.5 and later).
X86_ERAS = (0x0203, 0x0205, 0x020A, 0x020C, 0x020D, 0x020F)
PE_OFFSET = 0x40
VERSION_STRING = b"6.1.0-kimage (kimage@example.invalid) #1 SMP"


def x86_params(c: Chooser, version: int | None = None) -> dict:
    version = version if version is not None else c.choice(X86_ERAS)
    bits64 = version >= 0x020C and c.boolean()
    return {
        "version": version,
        "efi": version >= 0x020A and c.boolean(),
        "kernel_64": bits64,
        "setup_sects": c.integer(4, 39),
        "relocatable": version >= 0x0205 and (bits64 or c.boolean()),
        "payload": c.integer(1, 8) * 0x200,
    }


def x86_fields(p: dict) -> dict:
    """The twin's mapping (the spec's seq fields) for ``x86_params``."""
    v = p["version"]
    xlf = (0x1 | 0x2 | (0x8 if p["efi"] else 0)) if p["kernel_64"] else 0
    values = {
        "heap_end_ptr": 0x5BE0, "ext_loader_ver": 0, "ext_loader_type": 0, "cmd_line_ptr": 0,
        "initrd_addr_max": 0x7FFFFFFF, "kernel_alignment": 0x200000,
        "relocatable_kernel": int(p["relocatable"]), "min_alignment": 0x15,
        "xloadflags": xlf, "cmdline_size": 0x7FF, "hardware_subarch": 0,
        "hardware_subarch_data": 0, "payload_offset": 0x2CC, "payload_length": 0x100,
        "setup_data": 0, "pref_address": 0x1000000, "init_size": 0x2000000,
        "handover_offset": 0x190 if p["efi"] else 0, "kernel_info_offset": 0,
    }
    gated = {name: (values[name] if v >= since else bytes(size))
             for name, (_, size, since) in GATED.items()}
    head = bytearray(0x3A)
    return {
        "dos_magic": 0x5A4D if p["efi"] else 0x5AEA, "boot_sector_head": bytes(head),
        "pe_offset": PE_OFFSET if p["efi"] else 0, "boot_sector_tail": bytes(0x1B1),
        "setup_sects": p["setup_sects"], "root_flags": 1, "syssize": p["payload"] // 16,
        "ram_size": 0, "vid_mode": 0xFFFF, "root_dev": 0, "jump": 0x6AEB if v >= 0x020F
        else 0x66EB, "version": v, "realmode_swtch": 0, "start_sys_seg": 0x1000,
        "kernel_version": 0x300 - 0x200, "type_of_loader": 0, "loadflags": 0x01,
        "setup_move_size": 0x8000, "code32_start": 0x100000, "ramdisk_image": 0,
        "ramdisk_size": 0, "bootsect_kludge": 0, **gated,
    }


def x86_image(p: dict, fields: dict | None = None) -> bytes:
    """A whole bzImage: boot sector and setup header, the version string at 0x300, the PE
    headers at 0x40 (with the EFI stub), setup code up to (setup_sects + 1) * 512, then
    the protected-mode payload."""
    fields = fields or x86_fields(p)
    setup = (p["setup_sects"] + 1) * 512
    size = setup + p["payload"]
    data = bytearray(x86.build(fields).ljust(setup, b"\0"))
    data[0x300:0x300 + len(VERSION_STRING) + 1] = VERSION_STRING + b"\0"
    if p["efi"]:
        machine = PE_MACHINE_X86_64 if p["kernel_64"] else PE_MACHINE_I386
        pe = pe_header(size_of_image=size, entry=setup, file_size=size, machine=machine)
        data[PE_OFFSET:PE_OFFSET + len(pe)] = pe
    return bytes(data) + bytes(range(256)) * (p["payload"] // 256)


def x86_valid_expect(p: dict) -> tuple[str, ...]:
    expect = []
    if not (p["version"] >= 0x020C and p["kernel_64"]):
        expect.append("x86/not-bzimage64")
    if not p["relocatable"]:
        expect.append("x86/not-relocatable")
    if not p["efi"]:
        expect.append("x86/no-efi-stub")
    return tuple(expect)


def _slug(p: dict) -> str:
    return (f"v{p['version'] >> 8}.{p['version'] & 0xFF:02d}-"
            f"{'64' if p['kernel_64'] else '32'}{'-efi' if p['efi'] else ''}"
            f"{'-reloc' if p['relocatable'] else ''}")


def _set(**changes) -> Callable[[dict, Chooser], dict]:
    def change(fields: dict, c: Chooser) -> dict:
        return {**fields, **{k: v(c) if callable(v) else v for k, v in changes.items()}}
    return change


#: mutation -> (expected rule IDs, the params it needs, the field change)
_MUTATIONS: dict[str, tuple[tuple[str, ...], dict[str, bool], Callable | None]] = {
    "bad-boot-flag": (("x86/bad-boot-flag",), {}, None),
    "not-bzimage": (("x86/not-bzimage",), {}, _set(loadflags=0)),
    "not-above-4g": (("x86/not-bzimage64",), {"kernel_64": True, "relocatable": True},
                     _set(xloadflags=lambda c: 0x1 | c.choice((0, 0x8)))),
    "not-relocatable": (("x86/not-relocatable",), {"relocatable": True},
                        _set(relocatable_kernel=0)),
    "kernel-alignment-invalid": (("x86/kernel-alignment-invalid",), {"relocatable": True},
                                 _set(kernel_alignment=lambda c: c.choice((0x300000, 0)))),
    "pe-offset-invalid": (("x86/pe-offset-invalid",), {"efi": True},
                          _set(pe_offset=lambda c: c.choice((0x100, 0x7FFFFFF0)))),
    "too-many-setup-sectors": (("x86/too-many-setup-sectors",), {}, None),
    "protocol-too-old": (("x86/protocol-too-old",), {}, None),
    "pe-machine": (("x86/pe-machine",), {"efi": True}, None),
    "setup-outside-file": (("x86/setup-outside-file",), {}, None),
    "truncated-header": (("x86/truncated-header",), {}, None),
}


def _applies(needs: dict[str, bool]) -> Callable[[dict], bool]:
    return lambda p: all(p[k] == v for k, v in needs.items())


#: mutation -> (expected rule IDs, applies to these params?)
X86_MUTATIONS = {name: (expect, _applies(needs)) for name, (expect, needs, _) in
                 _MUTATIONS.items()}


def _mutated(c: Chooser, p: dict, mutation: str) -> bytes:
    _, _, change = _MUTATIONS[mutation]
    fields = x86_fields(p)
    if change is not None:
        return x86_image(p, change(fields, c))
    if mutation == "too-many-setup-sectors":
        p = {**p, "setup_sects": c.integer(65, 127)}
        return x86_image(p)
    if mutation == "protocol-too-old":  # a 2.00-2.02 kernel (Linux 2.2-2.4)
        return x86_image({**p, "version": c.choice((0x0200, 0x0201, 0x0202)),
                          "kernel_64": False, "relocatable": False, "efi": False})
    data = x86_image(p)
    if mutation == "pe-machine":  # the other x86 width's (another architecture's PE
        # machine makes the file that architecture's EFI image, decoded as such)
        machine = PE_MACHINE_I386 if p["kernel_64"] else PE_MACHINE_X86_64
        at = PE_OFFSET + 4
        return data[:at] + machine.to_bytes(2, "little") + data[at + 2:]
    if mutation == "bad-boot-flag":
        return data[:0x1FE] + c.choice((b"\0\0", b"\xaa\x55", b"\x55\xab")) + data[0x200:]
    if mutation == "setup-outside-file":
        return data[:c.integer(0x400, (p["setup_sects"] + 1) * 512 - 1)]
    return data[:c.integer(0x206, 0x26B)]  # truncated-header: "HdrS" kept


def _x86_raw(c: Chooser, mutation: str | None) -> Sample:
    p = x86_params(c)
    if mutation == "any":
        mutation = c.choice([m for m, (_, ok) in X86_MUTATIONS.items() if ok(p)])
    if mutation is None:
        return Sample("x86-bzimage", _slug(p), x86_image(p), x86_valid_expect(p), None, p)
    if not X86_MUTATIONS[mutation][1](p):  # made to apply: a 2.15 kernel with what it needs
        p = {**x86_params(c, 0x020F), **_MUTATIONS[mutation][1]}
    return Sample("x86-bzimage", mutation, _mutated(c, p, mutation),
                  X86_MUTATIONS[mutation][0], mutation, p)


#: The seed corpus's kinds this format builds: kind -> (builder, its mutation table).
KINDS = {"x86-bzimage": (_x86_raw, X86_MUTATIONS)}


def targets(data: bytes, out: dict, where: str, depth: int, limit: int, recurse) -> bool:
    """Field mutations of the setup header of a bzImage at the start of ``data``."""
    try:
        top = x86.parse(data)
    except Exception:
        return False
    fields = {name: top[name] for name in x86.SEQ_FIELDS if name not in ("boot_flag",
                                                                         "header")}
    p = {"kernel_64": top.xlf_kernel_64, "relocatable": top.is_relocatable,
         "efi": top.has_efi_stub}
    for name, (expect, needs, change) in _MUTATIONS.items():
        if change is None or not _applies(needs)(p):
            continue
        out[f"x86:{name}"] = (expect, splice(data, 0, lambda c, change=change: x86.build(
            change(fields, c))))
    out["x86:bad-boot-flag"] = (("x86/bad-boot-flag",), splice(data, 0x1FE, lambda c: b"\0\0"))
    return True
