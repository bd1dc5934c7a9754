"""Each x86 rule fires on an image (and options) that has what it describes, and stays
quiet on the same image without it; the loader verdicts follow the loaders' own code.

Images are built by the seed-corpus builder (validator/formats/x86_bzimage/samples.py)
through the construct twin; what each mutation must give is boot.rst's field meaning and
the loaders' probes (kexec-tools v2.0.25/v2.0.32 kexec/arch/x86_64/kexec-bzImage64.c and
kexec/arch/i386/kexec-bzImage.c, Linux 6.1 arch/x86/kernel/kexec-bzimage64.c, GRUB
grub-core/loader/i386/linux.c, QEMU hw/i386/x86.c), not kimage's output.
"""

from __future__ import annotations

import pytest

from validator import checker, kconfig, sysmap
from validator.formats.sampling import RandomChooser
from validator.formats.x86_bzimage import samples
from validator.formats.x86_bzimage import twin as x86

P64 = {"version": 0x020F, "efi": True, "kernel_64": True, "setup_sects": 8,
       "relocatable": True, "payload": 0x1000}
GOOD = samples.x86_image(P64)
CONFIG = ("# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_X86=y\nCONFIG_64BIT=y\n"
          "CONFIG_X86_64=y\nCONFIG_RELOCATABLE=y\nCONFIG_PHYSICAL_START=0x1000000\n"
          "CONFIG_PHYSICAL_ALIGN=0x200000\nCONFIG_EFI=y\nCONFIG_EFI_STUB=y\n")


def fields(**changes) -> bytes:
    return samples.x86_image(P64, {**samples.x86_fields(P64), **changes})


def mutated(name: str, seed: int = 0, p: dict = P64) -> bytes:
    return samples._mutated(RandomChooser(seed), dict(p), name)


def run(data: bytes, tmp_path, **options):
    path = tmp_path / "vmlinuz"
    path.write_bytes(data)
    return checker.check_image(path, checker.Options(**options))


def rules(data: bytes, tmp_path, **options) -> set[str]:
    return run(data, tmp_path, **options).reported_rules()


CASES = {
    "x86/bad-boot-flag": (mutated("bad-boot-flag"), {}),
    "x86/truncated-header": (GOOD[:0x240], {}),
    "x86/not-bzimage": (fields(loadflags=0), {}),
    "x86/protocol-too-old": (mutated("protocol-too-old"), {}),
    "x86/not-bzimage64": (fields(xloadflags=0x1), {}),
    "x86/not-relocatable": (fields(relocatable_kernel=0), {}),
    "x86/kernel-alignment-invalid": (fields(kernel_alignment=0x300000), {}),
    "x86/setup-outside-file": (GOOD[:0x1000], {}),
    "x86/too-many-setup-sectors": (samples.x86_image({**P64, "setup_sects": 80}), {}),
    "x86/no-efi-stub": (samples.x86_image({**P64, "efi": False}), {}),
    "x86/pe-offset-invalid": (fields(pe_offset=0x100), {}),
    "x86/pe-machine": (mutated("pe-machine"), {}),
    "x86/config-64bit-mismatch": (GOOD, {"config": CONFIG.replace("CONFIG_X86_64=y\n", "")}),
    "x86/config-relocatable-mismatch": (
        GOOD, {"config": CONFIG.replace("CONFIG_RELOCATABLE=y",
                                        "# CONFIG_RELOCATABLE is not set")}),
    "x86/config-physical-align-mismatch": (
        GOOD, {"config": CONFIG.replace("ALIGN=0x200000", "ALIGN=0x1000000")}),
    "x86/config-physical-start-mismatch": (
        GOOD, {"config": CONFIG.replace("START=0x1000000", "START=0x2000000")}),
    "x86/config-efi-stub-mismatch": (
        GOOD, {"config": CONFIG.replace("CONFIG_EFI_STUB=y", "# CONFIG_EFI_STUB is not set")}),
    "x86/symbols-text-mismatch": (GOOD, {"symbols": "ffffffff82000000 T _text\n"}),
}


def _options(options: dict) -> dict:
    out = {}
    if "config" in options:
        out["config"] = kconfig.parse(options["config"])
    if "symbols" in options:
        out["symbols"] = sysmap.parse(options["symbols"])
    return out


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_triggers_and_stays_quiet(rule_id, tmp_path):
    bad, options = CASES[rule_id]
    assert rule_id in rules(bad, tmp_path, **_options(options))
    good_options = {k: CONFIG if k == "config" else "ffffffff81000000 T _text\n"
                    for k in options}
    assert not rules(GOOD, tmp_path, **_options(good_options))


def verdicts(data: bytes, tmp_path) -> dict[str, tuple[str, list[str]]]:
    result = run(data, tmp_path)
    return {name: (v["verdict"], v["reasons"]) for name, v in result.loaders.items()}


def test_a_64bit_relocatable_bzimage_is_taken_by_every_x86_loader(tmp_path):
    assert verdicts(GOOD, tmp_path) == {
        "kexec-tools": ("accept", []), "kexec-file": ("accept", []), "u-boot": ("n/a", []),
        "grub": ("accept", []), "efi": ("accept", []), "qemu": ("accept", [])}


def test_without_xlf_above_4g_only_kexec_file_refuses(tmp_path):
    """kexec_file_load's bzImage64_probe needs (xloadflags & 3) == 3 and there is no other
    x86-64 kexec_file loader; kexec-tools falls back to its bzImage loader."""
    v = verdicts(fields(xloadflags=0x1), tmp_path)
    assert v["kexec-file"] == ("reject", ["x86/not-bzimage64"])
    assert v["kexec-tools"] == ("accept", [])
    assert v["grub"] == v["qemu"] == v["efi"] == ("accept", [])


def test_a_zimage_is_refused_by_kexec_and_grub_and_loaded_low_by_qemu(tmp_path):
    v = verdicts(fields(loadflags=0), tmp_path)
    for name in ("kexec-tools", "kexec-file", "grub"):
        assert v[name] == ("reject", ["x86/not-bzimage"]), name
    assert v["qemu"] == ("accept", [])


def test_bad_boot_flag_is_refused_by_the_probes_not_by_qemu_or_firmware(tmp_path):
    v = verdicts(mutated("bad-boot-flag", 2), tmp_path)
    for name in ("kexec-tools", "kexec-file", "grub"):
        assert v[name] == ("reject", ["x86/bad-boot-flag"]), name
    assert v["qemu"] == v["efi"] == ("accept", [])


def test_protocol_2_02_is_refused_by_grub_and_kexec_file_and_taken_by_kexec_tools(tmp_path):
    v = verdicts(mutated("protocol-too-old", 1), tmp_path)
    assert v["grub"][0] == v["kexec-file"][0] == "reject"
    assert "x86/protocol-too-old" in v["grub"][1] and "x86/protocol-too-old" in v["kexec-file"][1]
    assert v["kexec-tools"] == ("accept", [])  # bzImage_probe: protocol >= 2.00


def test_the_twin_builds_what_the_builder_was_given():
    parsed = x86.parse(GOOD)
    assert parsed.version == 0x020F and parsed.setup_size == 9 * 512


def test_target_architecture(tmp_path):
    from validator.targets import parse_target

    assert "target/arch-mismatch" in rules(GOOD, tmp_path, target=parse_target("arm64"))
    assert not rules(GOOD, tmp_path, target=parse_target("x86_64"))
    assert not rules(GOOD, tmp_path, target=parse_target("amd64"))
