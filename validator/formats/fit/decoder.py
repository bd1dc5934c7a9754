"""Flattened Image Tree (FIT): the kernel image of a ``.itb`` / ``fitImage``.

U-Boot's bootm (boot/image-fit.c fit_image_load, v2023.01) takes the configuration named
by ``/configurations/default`` (fit_conf_get_node), its ``kernel`` property names a node
of ``/images``; that node's ``type`` must be kernel or kernel_noload, its ``data`` is the
kernel, or with external data (mkimage -E) ``data-size`` bytes at ``data-offset`` after
the blob (rounded up to 4) or at ``data-position`` in the file (fit_image_get_data_and_size);
its hash nodes are verified before the kernel is loaded (fit_image_verify: "Bad hash
value"), and it is decompressed as ``compression`` says. This layer does the same, reads
the tree with ``validator.formats.fit.tree`` (the parser generated from ``specs/fdt.ksy``),
checks the hashes (crc32, md5, sha1, sha256, sha384, sha512, in 1 MiB chunks) when the
limits ask for a full check (check and lint, not inspect) and hands on the kernel data.
Signature nodes are reported, not verified (kimage has no keys).
"""

from __future__ import annotations

import zlib

from validator.catalogue import finding, rule
from validator.formats.compression import decoder as compression
from validator.formats.fit import (
    COMPRESSION,
    HASH_ALGOS,
    HASH_CHUNK,
    HEADER_SIZE,
    KERNEL_TYPES,
    tree,
)
from validator.formats.results import Unwrapped
from validator.io.limits import Context
from validator.model import Layer

rule("layer/fit", "info",
     "a FIT image (U-Boot's fitImage): a devicetree blob with the kernel in /images",
     "U-Boot's bootm takes a FIT: it picks the default configuration, verifies the hashes "
     "and decompresses the kernel. booti, kexec-tools (no FIT in arm64 file_type[]), "
     "kexec_file_load, GRUB and UEFI firmware do not: they find no ARM\\x64 magic, no "
     "\"MZ\" or no probe that takes it.",
     "U-Boot v2023.01 boot/image-fit.c fit_image_load, doc/usage/fit/source_file_format.rst; "
     "kexec-tools v2.0.32 kexec/arch/arm64/kexec-arm64.c file_type[]",
     ("u-boot", "kexec-tools", "kexec-file", "grub", "efi", "qemu"))
rule("fit/malformed", "error",
     "the FIT's devicetree blob does not parse",
     "bootm checks the blob with fdt_check_header and walks it with libfdt; a header, token "
     "or name that does not parse is 'Bad FIT kernel image format!'.",
     "U-Boot v2023.01 boot/image-fit.c fit_check_format; dtc libfdt/fdt.c",
     ("u-boot",))
rule("fit/no-kernel", "error",
     "the FIT has no kernel image to boot",
     "bootm boots the image the default configuration's 'kernel' property names: without "
     "/images, a default configuration, or the node it names, bootm stops ('Could not find "
     "configuration node', 'can't get kernel image!').",
     "U-Boot v2023.01 boot/image-fit.c fit_conf_get_node, fit_image_load",
     ("u-boot",))
rule("fit/not-a-kernel", "error",
     "the FIT's kernel image node has a type other than kernel or kernel_noload",
     "fit_image_load checks the image type for the OS image: another type is 'Not a kernel "
     "image'.",
     "U-Boot v2023.01 boot/image-fit.c fit_image_load (type_ok)",
     ("u-boot",))
rule("fit/data-outside-file", "error",
     "the FIT kernel's data lies outside the file",
     "External data (mkimage -E) is data-size bytes at data-offset after the blob, or at "
     "data-position; a range past the end of the file is a cut-short or corrupt image.",
     "U-Boot v2023.01 boot/image-fit.c fit_image_get_data_and_size",
     ("u-boot",))
rule("fit/bad-hash", "error",
     "a hash node of the FIT's kernel does not match its data",
     "bootm verifies every hash node of the image it loads (crc32, md5, sha1, sha256, ...) "
     "and refuses the image on a mismatch ('Bad hash value for ... hash node').",
     "U-Boot v2023.01 boot/image-fit.c fit_image_verify, fit_image_check_hash",
     ("u-boot",))
rule("fit/compression-mismatch", "error",
     "the FIT kernel's data does not match the compression its node names",
     "bootm decompresses the kernel with the codec 'compression' names (or copies it for "
     "none); data of another kind fails to decompress or is started as garbage.",
     "U-Boot v2023.01 boot/bootm.c bootm_decomp_image, boot/image.c image_decomp",
     ("u-boot",))


def unwrap(view, ctx: Context) -> Unwrapped:
    layer = Layer("fit", 0 if view.base is None else view.base)
    result = Unwrapped(layer, None)
    d = layer.details
    if len(view.read(0, HEADER_SIZE)) < HEADER_SIZE:
        result.findings.append(finding("layer/truncated", f"FDT header needs {HEADER_SIZE} "
                                       "bytes", offset=0))
        return result
    try:
        t = tree.read(view)
    except tree.Malformed as exc:
        result.findings.append(finding("fit/malformed", str(exc), offset=0))
        return result
    d.update(t.header)
    root = t.root
    d["description"] = t.text(root, "description")
    images = root.child("images")
    configurations = root.child("configurations")
    d["images"] = sorted(images.children) if images else []
    default = t.text(configurations, "default") if configurations else None
    d["default_configuration"] = default
    conf = configurations.child(default) if configurations and default else None
    name = t.text(conf, "kernel") if conf else None
    d["kernel_image"] = name
    if conf is not None:
        d["configuration"] = {key: _strings(t, conf, key) for key in ("fdt", "ramdisk")}
        d["configuration_signatures"] = _signatures(t, conf)
    node = images.child(name) if images and name else None
    if node is None:
        why = ("no /images node" if images is None else "no /configurations/default"
               if default is None else f"no configuration {default!r}" if conf is None
               else f"configuration {default!r} names no kernel" if name is None
               else f"no image {name!r}")
        result.findings.append(finding("fit/no-kernel", why, offset=0))
        return result
    result.findings.append(finding("layer/fit", f"kernel {name!r} of configuration "
                                   f"{default!r}", offset=0))
    k = d["kernel"] = {key: t.text(node, key) for key in
                       ("description", "type", "arch", "os", "compression")}
    k.update({key: t.number(node, key) for key in ("load", "entry")})
    if k["type"] not in KERNEL_TYPES:
        result.findings.append(finding("fit/not-a-kernel", f"image {name!r} has type "
                                       f"{k['type']!r}", offset=0, field="type"))
    data = _data(t, node, k, view, result.findings)
    if data is None:
        return result
    k["signatures"] = _signatures(t, node)
    k["hashes"] = _hashes(t, node, data, ctx, result.findings)
    codec = COMPRESSION.get(k["compression"] or "none", f"unknown-{k['compression']}")
    found = compression.codec_of(data.read(0, 8))
    if found != codec and not (codec is None and found is None):
        result.findings.append(finding(
            "fit/compression-mismatch", f"compression = {k['compression'] or 'none'!r}, the "
            f"data starts with {data.read(0, 4).hex(' ')} ({found or 'no known codec'})",
            offset=k["data_offset"], field="compression"))
    result.view = data
    return result


def _data(t, node, k: dict, view, findings: list):
    """The kernel's data as a view: embedded, or external after the blob."""
    length = view.known_length
    if "data" in node.props:
        offset, size = node.props["data"]
        k["external"] = False
    else:
        size = t.number(node, "data-size")
        position, rel = t.number(node, "data-position"), t.number(node, "data-offset")
        if size is None or (position is None and rel is None):
            findings.append(finding("fit/no-kernel", "the kernel image has neither data nor "
                                    "data-size with data-offset or data-position", offset=0))
            return None
        offset = position if position is not None else (
            (t.header["totalsize"] + 3) & ~3) + rel
        k["external"] = True
    k["data_offset"], k["data_size"] = offset, size
    if length is not None and offset + size > length:
        findings.append(finding("fit/data-outside-file", f"data [{offset:#x}, "
                                f"{offset + size:#x}) but the file has {length:#x} bytes",
                                offset=offset, field="data"))
        return None
    return view.slice(offset, size)


def _strings(t, node, name: str) -> list[str]:
    """A string-list property (e.g. a configuration's ``fdt``), [] when absent."""
    raw = t.value(node, name)
    return [] if raw is None else [s.decode("utf-8", "replace") for s in raw.split(b"\0") if s]


def _signatures(t, node) -> list[dict]:
    return [{"node": n, "algo": t.text(c, "algo"), "key_name_hint": t.text(c, "key-name-hint")}
            for n, c in node.children.items() if n.startswith("signature")]


def _hashes(t, node, data, ctx: Context, findings: list) -> list[dict]:
    out = []
    for n, c in node.children.items():
        if not n.startswith("hash"):
            continue
        algo = t.text(c, "algo")
        value = t.value(c, "value")
        entry = {"node": n, "algo": algo, "value": value.hex() if value else None, "ok": None}
        out.append(entry)
        if algo not in HASH_ALGOS or not ctx.limits.decode_all or value is None:
            continue
        digest = _digest(algo, data)
        if digest is None:
            continue
        entry["ok"] = digest == value
        if not entry["ok"]:
            findings.append(finding(
                "fit/bad-hash", f"{n}: {algo} {value.hex()}, the data's is {digest.hex()}: "
                "bootm says 'Bad hash value'", offset=c.props["value"][0], field=f"{n}/value"))
    return out


def _digest(algo: str, data) -> bytes | None:
    """``algo`` over the view's bytes, read in bounded chunks; None if they cannot all be
    read."""
    import hashlib

    crc, h = 0, None if algo == "crc32" else hashlib.new(algo)
    offset, size = 0, data.known_length
    while offset < size:
        chunk = data.read(offset, min(HASH_CHUNK, size - offset))
        if not chunk:
            return None
        if h is None:
            crc = zlib.crc32(chunk, crc)
        else:
            h.update(chunk)
        offset += len(chunk)
    return crc.to_bytes(4, "big") if h is None else h.digest()


#: What the pipeline tries, in order (``validator.formats.FORMATS``).
