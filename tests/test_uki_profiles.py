"""Multi-profile UKIs: the sections systemd-stub boots by default.

Expected values follow systemd's rule (v257 src/boot/stub.c find_sections and run,
src/boot/pe.c pe_locate_profile_sections), written out here: the base is the sections
before the first ``.profile``; profile 0 runs from the first ``.profile`` to the next and
is booted unless another is chosen (``profile = 0``); the first section of a name wins
within the base and within profile 0, and profile 0's replaces the base's. A ``.linux``
in neither stops the stub ('Image lacks .linux section'); kexec-tools, which knows no
profiles, takes the last ``.linux`` of the table (kexec/kexec-uki.c uki_image_probe).
The UKIs are built section by section with the seed corpus's PE writer around the
kernel of a valid seed-corpus UKI.
"""

from __future__ import annotations

import pytest

from validator import seedcorpus
from validator.checker import Options, check_image
from validator.formats.uki.samples import _sections, uki_bytes


@pytest.fixture(scope="module")
def linux() -> bytes:
    sample = seedcorpus.generate("uki", seedcorpus.RandomChooser("profiles/1"), valid=True)
    return next(sample.data[at:at + size] for _, name, at, size in _sections(sample.data)
                if name == b".linux")


def check(tmp_path, sections):
    path = tmp_path / "uki.efi"
    path.write_bytes(uki_bytes(sections))
    result = check_image(path, Options())
    layers = [layer for layer in result.layers if layer.kind == "uki"]
    assert len(layers) == 1, [layer.kind for layer in result.layers]
    return result, layers[0].details


def test_without_profiles_the_first_section_of_a_name_wins(tmp_path, linux):
    result, layer = check(tmp_path, [(".linux", linux), (".cmdline", b"first\n"),
                                     (".cmdline", b"second\n")])
    assert layer["cmdline"] == "first"
    assert "profiles" not in layer
    assert result.loaders["efi"]["verdict"] == "accept"


def test_profile_0_replaces_the_base_sections_of_its_names(tmp_path, linux):
    result, layer = check(tmp_path, [
        (".linux", linux), (".cmdline", b"base\n"), (".uname", b"6.1.0-base\n"),
        (".profile", b"ID=zero"), (".cmdline", b"zero\n"), (".cmdline", b"zero again\n"),
        (".profile", b"ID=one"), (".cmdline", b"one\n"), (".uname", b"6.1.0-one\n")])
    assert layer["cmdline"] == "zero"  # profile 0's first .cmdline
    assert layer["uname"] == "6.1.0-base"  # profile 0 has none: the base's
    assert layer["profiles"] == 2
    uki = next(f for f in result.findings if f.rule == "layer/uki")
    assert "profile 0 (booted by default) gives .cmdline" in uki.message
    assert result.loaders["efi"]["verdict"] == "accept"


def test_a_profile_0_that_gives_nothing_boots_the_base(tmp_path, linux):
    """ukify's layout when the base UKI has a profile of its own: its .profile comes after
    the base sections, with nothing else in profile 0."""
    _, layer = check(tmp_path, [(".linux", linux), (".cmdline", b"base\n"),
                                (".profile", b"ID=base"), (".profile", b"ID=rescue"),
                                (".cmdline", b"rescue\n")])
    assert layer["cmdline"] == "base"
    assert layer["profiles"] == 2


def test_sections_of_other_profiles_are_not_booted_by_default(tmp_path, linux):
    _, layer = check(tmp_path, [(".linux", linux), (".profile", b"ID=zero"),
                                (".profile", b"ID=one"), (".cmdline", b"one\n"),
                                (".initrd", b"\0" * 512)])
    assert layer.get("cmdline") is None
    assert layer["initrd_size"] is None


def test_a_linux_only_in_another_profile(tmp_path, linux):
    sections = [(".cmdline", b"base\n"), (".profile", b"ID=zero"), (".profile", b"ID=one"),
                (".linux", linux)]
    result, layer = check(tmp_path, sections)
    rules = {f.rule for f in result.findings}
    assert "uki/no-default-linux" in rules
    assert result.loaders["efi"]["verdict"] == "reject"
    assert "uki/no-default-linux" in result.loaders["efi"]["reasons"]
    assert result.format == "arm64-image"  # the last .linux, as kexec-tools takes it
    assert layer["cmdline"] == "base"
    # the same kernel in the base: no such finding
    result, _ = check(tmp_path, [(".linux", linux)] + sections[:-1])
    assert "uki/no-default-linux" not in {f.rule for f in result.findings}


def _sdmagic(version: str) -> tuple[str, bytes]:
    return (".sdmagic", f"#### LoaderInfo: systemd-stub {version} ####".encode())


@pytest.mark.parametrize("version, booted", [
    ("252.39-1~deb12u2", "zero"), ("254.26-1~bpo12+1", "zero"), ("256.7", "base"),
    ("256~rc1", "base"), ("257.13-1~deb13u1", "zero"), ("258", "zero")])
def test_the_stub_version_decides_which_section_is_booted(tmp_path, linux, version, booted):
    """Before 255 the stub keeps the last section of a name in the whole table (src/boot/
    efi/pe.c locate_sections; Debian's 252 and 254 boot the last of two, run under EDK2
    in tests/test_uki_efi.py), then the first; profiles came with 257 (its profile 0
    replaces the base's .cmdline)."""
    result, layer = check(tmp_path, [_sdmagic(version), (".linux", linux),
                                     (".cmdline", b"base\n"), (".profile", b"ID=zero"),
                                     (".cmdline", b"zero\n")])
    assert layer["stub"] == version and layer["profiles"] == 1
    assert layer["cmdline"] == booted
    uki = next(f for f in result.findings if f.rule == "layer/uki")
    assert ("does not read" in uki.message) == (not version.startswith(("257", "258")))


def test_a_stub_without_sdmagic_names_itself_in_its_own_bytes(tmp_path, linux):
    """252's stub has no .sdmagic section: its LoaderInfo text lies in its own bytes,
    before the UKI's sections."""
    text = b"\0" * 40 + b"#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####\0"
    _, layer = check(tmp_path, [(".data", text), (".linux", linux), (".cmdline", b"a\n"),
                                (".cmdline", b"b\n")])
    assert layer["stub"] == "252.39-1~deb12u2" and layer["cmdline"] == "b"


def test_a_stub_before_257_boots_a_linux_after_the_profiles(tmp_path, linux):
    sections = [(".cmdline", b"base\n"), (".profile", b"ID=zero"), (".profile", b"ID=one"),
                (".linux", linux)]
    result, _ = check(tmp_path, [_sdmagic("256.7")] + sections)
    assert "uki/no-default-linux" not in {f.rule for f in result.findings}
    assert result.loaders["efi"]["verdict"] == "accept"
    result, _ = check(tmp_path, [_sdmagic("257.1")] + sections)
    assert "uki/no-default-linux" in {f.rule for f in result.findings}


def test_no_sdmagic_or_another_text_is_taken_as_a_current_stub(tmp_path, linux):
    for extra in ([], [(".sdmagic", b"not systemd")]):
        _, layer = check(tmp_path, extra + [(".linux", linux), (".cmdline", b"base\n"),
                                            (".profile", b"ID=zero"), (".cmdline", b"zero\n")])
        assert "stub" not in layer and layer["cmdline"] == "zero"


def test_kexec_tools_takes_the_last_linux(tmp_path, linux):
    """kexec-tools' uki_image_probe walks the whole section table and keeps the last
    .linux (kexec/kexec-uki.c, 2.0.30 to 2.0.32): where that is not the stub's, its
    verdict carries a note saying which one it reads."""
    other = linux[:-512] + bytes(512)
    result, layer = check(tmp_path, [(".linux", linux), (".profile", b"ID=zero"),
                                     (".profile", b"ID=one"), (".linux", other)])
    stub_at = next(f.offset for f in result.findings if f.rule == "layer/uki")
    assert layer["kexec_tools_linux"]["offset"] > stub_at
    assert layer["kexec_tools_linux"]["size"] == -(-len(other) // 0x200) * 0x200
    notes = result.loaders["kexec-tools"]["notes"]
    assert any(f"last .linux of the section table (at {layer['kexec_tools_linux']['offset']:#x})"
               in n for n in notes), notes
    _, layer = check(tmp_path, [(".linux", linux), (".profile", b"ID=zero")])
    assert "kexec_tools_linux" not in layer


@pytest.mark.parametrize("version, rules", [("252.39-1~deb12u2", {"uki/linux-not-pe"}),
                                            ("257.13-1~deb13u1", set())])
def test_a_stub_before_255_matches_names_over_their_own_length(tmp_path, linux, version,
                                                                rules):
    """A .linuxIN after .linux is the kernel to a 252 stub (booted in test_uki_efi.py:
    'Bad kernel image'), and nothing to a 257 one; a .dtbauto is its .dtb."""
    fdt = bytes.fromhex("d00dfeed") + bytes(60)
    result, layer = check(tmp_path, [_sdmagic(version), (".linux", linux),
                                     (".linuxIN", b"070701" + bytes(200)),
                                     (".dtbauto", fdt)])
    assert {f.rule for f in result.findings} & {"uki/linux-not-pe"} == rules
    assert (layer["dtb"] is not None) == bool(rules)
