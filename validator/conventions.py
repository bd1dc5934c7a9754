"""Distribution conventions and zboot codec support: two facts read off the decoded layers.

``convention``: which distribution's way of shipping an arm64 kernel the image follows,
where the layers and header say so unambiguously (None when none is recognised):

- ``android-gki-boot-v4``: an Android boot image, header version 4 (GKI, Android 12 on:
  the generic kernel in boot.img v4, the vendor parts in vendor_boot).
- ``fedora-zboot-zstd``: an EFI zboot image whose payload is zstd (Fedora's aarch64
  vmlinuz: EFI zboot since Fedora 39, which used gzip then, QEMU ff11422804cd's message;
  its zstd payload is taken from the project's issue, Fedora's kernel config was not read
  here). A gzip zboot is left unnamed: others ship it too.
- ``ubuntu-gzip-signed-image``: a gzip stream holding an EFI-stub Image with an
  Authenticode signature (Ubuntu's arm64 vmlinuz: the signed Image, gzipped).
- ``debian-signed-image``: a raw EFI-stub Image with an Authenticode signature (Debian's
  linux-image-*-arm64 vmlinuz from linux-signed-arm64).
- ``raspberry-pi-16k-image``: a raw Image built for 16 KiB pages whose release says it
  is Raspberry Pi's: ``-v8-16k`` (bcm2712_defconfig's CONFIG_LOCALVERSION, the Pi 5's
  kernel_2712.img, ARM64_16K_PAGES) or ``-rpi-2712`` (Raspberry Pi OS's packages, e.g.
  6.12.47+rpt-rpi-2712). The page size alone names nothing: Asahi's kernels (Apple
  silicon) and others are 16 KiB-page Images too, and an Image without a banner is
  left unnamed.

``zboot_codec``: for an EFI zboot image, its payload's codec and which consumers take it
(``ZBOOT_CONSUMERS``), each from the upstream source at a named tag or commit and, for
QEMU, from runs of Debian's binaries (QEMU 7.2, 10.0.13, 11.1.3: README "Android and
distribution conventions").
"""

from __future__ import annotations

CONVENTIONS = {
    "android-gki-boot-v4": "Android GKI: boot.img header v4",
    "fedora-zboot-zstd": "Fedora: EFI zboot with a zstd payload",
    "ubuntu-gzip-signed-image": "Ubuntu: gzip of a signed EFI-stub Image",
    "debian-signed-image": "Debian: raw signed EFI-stub Image",
    "raspberry-pi-16k-image": "Raspberry Pi 5: raw Image, 16 KiB pages",
}

#: What a Raspberry Pi 16 KiB-page kernel's release holds: bcm2712_defconfig's
#: CONFIG_LOCALVERSION (raspberrypi/linux), Raspberry Pi OS's package flavour.
RASPBERRY_PI_16K = ("-v8-16k", "-rpi-2712")

#: Per consumer: codec -> (supported, since, why). ``supported`` True/False, or None when
#: it depends on the build (a library linked or not) or the release.
ZBOOT_CONSUMERS: dict[str, dict[str, tuple[bool | None, str, str]]] = {
    "kexec-tools": {
        "gzip": (None, "2.0.28", "pez_arm64_probe from 2.0.27 (f67c414), loaded through "
                 "kexec_load from 2.0.28 (8f08e3b); needs a build with zlib"),
        "lzma": (None, "2.0.28", "from 2.0.28 (8f08e3b); needs a build with liblzma"),
        "zstd": (None, "2.0.31", "from 2.0.31 (a7fcd42, kexec/zstd.c); up to v2.0.30 "
                 "pez_prepare (kexec/kexec-pe-zboot.c) takes only a method starting gzip or "
                 "lzma; needs a build with libzstd (Debian's links zlib only)"),
    },
    "qemu": {
        "gzip": (True, "8.0.0", "hw/core/loader.c unpack_efi_zboot_image (ff11422804cd, "
                 "merged March 2023 for 8.0; the tag was not read here: Debian 12's 7.2 "
                 "binary has no zboot code, Debian 13's 10.0 has), only when the Linux PE "
                 "magic is at 0x38 (kernel 6.2 on); QEMU 7.2 loads any zboot as a raw blob"),
        "zstd": (False, "", "unpack_efi_zboot_image takes \"gzip\" only up to 10.0 "
                 "(Debian 13's 10.0.13 refuses: 'unable to handle EFI zboot image with "
                 "\"zstd22\" compression'); later releases (unstable's 11.1.3) take a "
                 "payload named exactly \"zstd\" when built with libzstd, never the "
                 "\"zstd22\" that kernels 6.1 to 6.12.10 write"),
    },
    "efi": {
        codec: (True, "", "the zboot stub decompresses its own payload: any codec the "
                "kernel was built with")
        for codec in ("gzip", "lzma", "xz", "lz4", "lzo", "zstd", "bzip2")
    },
}


def convention(result) -> str | None:
    """The distribution convention ``result`` (an ImageResult of an arm64 kernel)
    follows, or None."""
    kinds = [layer.kind for layer in result.layers]
    if not kinds:
        return _raw(result)
    first = result.layers[0]
    if first.kind == "android-boot" and first.details.get("header_version") == 4:
        return "android-gki-boot-v4"
    if first.kind == "zboot" and first.details.get("codec") == "zstd":
        return "fedora-zboot-zstd"
    if kinds == ["gzip"] and _signed(result):
        return "ubuntu-gzip-signed-image"
    return None


def _raw(result) -> str | None:
    if result.facts.get("efi_stub") and _signed(result):
        return "debian-signed-image"
    if result.facts.get("page_size") == 16384 and any(
            mark in (result.facts.get("kernel_version") or "") for mark in RASPBERRY_PI_16K):
        return "raspberry-pi-16k-image"
    return None


def _signed(result) -> bool:
    cert = (result.derived.get("pe") or {}).get("authenticode") or {}
    return bool(cert.get("size")) and cert.get("in_file", True)


def zboot_codec(result) -> dict | None:
    """The zboot payload's codec and which consumers take it, or None without zboot."""
    zboot = next((layer for layer in result.layers if layer.kind == "zboot"), None)
    if zboot is None:
        return None
    from validator.formats.zboot import LINUX_PE_MAGIC

    codec = zboot.details.get("codec")
    consumers = {}
    for name, table in ZBOOT_CONSUMERS.items():
        supported, since, why = table.get(codec, (False, "", f"no {codec or 'unnamed'} "
                                                  f"zboot payload"))
        if name == "qemu" and codec == "zstd" and zboot.details.get("compression") == "zstd":
            supported = None  # named "zstd" (kernel 6.12.11 on): 11.1 takes it, 10.0 not
        if name == "qemu" and zboot.details.get("linux_pe_magic") != LINUX_PE_MAGIC:
            supported, since, why = (False, "", "no Linux PE magic at 0x38 (kernels before "
                                     "6.2): unpack_efi_zboot_image does not take it for a "
                                     "zboot and QEMU loads the file as a raw blob")
        consumers[name] = {"supported": supported, "since": since or None, "why": why}
    return {"codec": codec, "name": zboot.details.get("compression"), "consumers": consumers}


def describe(value) -> str:
    """``zboot_codec`` or ``convention`` in one line of text."""
    if isinstance(value, str):
        return f"{value} ({CONVENTIONS.get(value, value)})"
    parts = []
    for name, c in value["consumers"].items():
        mark = {True: "yes", False: "no", None: "depends"}[c["supported"]]
        parts.append(f"{name} {mark}" + (f" from {c['since']}" if c["since"] else ""))
    return f"{value['codec']} (\"{value['name']}\"): " + ", ".join(parts)


def apply(result) -> None:
    """Set ``convention`` and ``zboot_codec`` in ``result.facts`` (arm64 kernels)."""
    if result.facts.get("arch") != "arm64":
        return
    result.facts["convention"] = convention(result)
    codec = zboot_codec(result)
    if codec is not None:
        result.facts["zboot_codec"] = codec
