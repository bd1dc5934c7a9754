"""Near-valid variants of real kernel images: one field changed per variant.

    python -m loadertruth.variants --out build/loadertruth/variants [--kbuild DIR]
                                   [--full-debian]

Bases (each used as-is too):

- arm64: the Debian 6.1.0-50 arm64 kernel (``corpus/real`` excerpt materialised as a
  sparse file of the real size; with ``--full-debian`` the whole file, downloaded from
  Debian's archive with ``apt-get download`` into the cache and checked against the
  excerpt's sha256), and the cross-built 6.1 ``Image`` files of ``corpus/kernels``
  (LE 4K EFI, LE 16K no-EFI, BE 64K no-EFI): the full file from ``--kbuild`` when it
  is there with the excerpt's sha256, else the excerpt, sparse. ``Image.gz`` as-is,
  ``vmlinuz.efi`` (zboot) as-is plus zboot header variants.
- ppc64: the Debian 6.1.0-50 powerpc64le vmlinux and the ppc64 ``vmlinux`` files of
  ``corpus/kernels`` (same rule): the ``__run_at_load`` word at head+0x5c, head words,
  and the ELF fields the loaders read.

The changes of each kind of base are loadertruth/mutations.py's: arm64 header fields
through kimage's construct twin (``validator.formats.arm64_image.parse``/``build``), so
exactly one field differs; a wrong magic cannot be built by the twin (it is a ``Const``)
and is written as raw bytes. The file name says what changed: ``<class>--<detail>``.
``manifest.json`` lists every file with its base, class, field and value.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .common import CACHE, REPO
from .mutations import Variant, arm64_variants, ppc64_variants, zboot_variants

sys.path.insert(0, str(REPO))
from corpus.materialise import excerpts, materialise  # noqa: E402

KBUILD = Path("/tmp/kbuild/out")


@dataclass
class Base:
    name: str
    arch: str
    path: Path
    origin: str
    variants: list[Variant] = field(default_factory=list)


# --------------------------------------------------------------------------- writing


def _copy_sparse(src: Path, dst: Path, limit: int | None, patch, extend: int) -> None:
    """Copy ``src`` to ``dst`` keeping holes (zero 64 KiB blocks are skipped), apply
    ``patch`` to the first 0x10200+ bytes, cut at ``limit``, append ``extend`` zeros."""
    size = src.stat().st_size if limit is None else limit
    first = 0x20000
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        headbuf = bytearray(fi.read(min(first, size)))
        if patch is not None:
            patch(headbuf)
            headbuf = headbuf[: min(first, size)]
        fo.write(headbuf)
        pos = len(headbuf)
        block = 1 << 16
        zero = bytes(block)
        while pos < size:
            chunk = fi.read(min(block, size - pos))
            if not chunk:
                break
            if chunk == zero[: len(chunk)]:
                fo.seek(len(chunk), 1)
            else:
                fo.write(chunk)
            pos += len(chunk)
        fo.truncate(size + extend)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fetch_full_debian() -> dict[str, Path]:
    """Download the real Debian kernels behind corpus/real into the cache (apt-get
    download; sha256 checked against the excerpts). name -> path."""
    out = {}
    dest = CACHE / "kernels"
    for ex in excerpts():
        doc = json.loads(ex.read_text())
        src = doc["source"]
        name = ex.parent.name
        target = dest / name
        if target.is_file() and _sha256(target) == src["sha256"]:
            out[name] = target
            continue
        debdir = dest / "debs"
        debdir.mkdir(parents=True, exist_ok=True)
        spec = f"{src['package']}:{src['architecture']}={src['version']}"
        subprocess.run(["apt-get", "download", "-q", spec], cwd=debdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deb = next(debdir.glob(f"{src['package']}_*_{src['architecture']}.deb"))
        tmp = dest / (name + ".x")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
        (tmp / src["path"]).rename(target)
        shutil.rmtree(tmp)
        if _sha256(target) != src["sha256"]:
            raise ValueError(f"{target}: sha256 differs from the corpus excerpt")
        out[name] = target
    return out


def _kernels_bases(kbuild: Path | None, scratch: Path) -> Iterator[Base]:
    """corpus/kernels: cross-built 6.1 kernels. Image/vmlinux are stored as excerpts;
    the full file is taken from ``kbuild`` when it is there with the same sha256, else
    the excerpt is materialised (sparse). Image.gz and vmlinuz.efi are stored whole."""
    kernels = REPO / "corpus" / "kernels"
    if not kernels.is_dir():
        return
    for d in sorted(p for p in kernels.iterdir() if p.is_dir()):
        for ex in sorted(d.glob("*.excerpt.json")):
            fname = ex.name.removesuffix(".excerpt.json")
            if fname == "Image" and "zboot" in d.name:
                continue  # the zboot builds' inner Image is the EFI build's
            arch = "ppc64" if fname == "vmlinux" else "arm64"
            src = json.loads(ex.read_text())["source"]
            full = kbuild / d.name / fname if kbuild else None
            if full and full.is_file() and full.stat().st_size == src["size"] and (
                    _sha256(full) == src["sha256"]):
                yield Base(f"kernels-{d.name}", arch, full,
                           f"corpus/kernels/{d.name} {fname}, full file from {full}")
            else:
                scratch.mkdir(parents=True, exist_ok=True)
                p = materialise(ex, scratch / f"{d.name}-{fname}")
                yield Base(f"kernels-{d.name}", arch, p,
                           f"corpus/kernels/{d.name} {fname} excerpt, materialised (sparse)")
        gz = d / "Image.gz"
        if gz.is_file():
            yield Base(f"kernels-{d.name}-Image.gz", "arm64-wrapped", gz, str(gz.relative_to(REPO)))
        zb = d / "vmlinuz.efi"
        if zb.is_file():
            yield Base(f"kernels-{d.name}-vmlinuz.efi", "arm64-zboot", zb,
                       str(zb.relative_to(REPO)))


def bases(kbuild: Path | None, full_debian: bool, scratch: Path) -> Iterator[Base]:
    full = fetch_full_debian() if full_debian else {}
    for ex in excerpts():
        name = ex.parent.name
        arch = ("ppc64" if "powerpc" in name or "ppc64" in name
                else "arm64" if "arm64" in name else None)
        if arch is None:  # an x86 or riscv64 kernel: the variants here are arm64's and
            continue  # ppc64's (kexec_x86.py and kexec_riscv.py run those kernels)
        if name in full:
            yield Base(name, arch, full[name], "Debian package, downloaded (full file)")
        else:
            scratch.mkdir(parents=True, exist_ok=True)
            p = materialise(ex, scratch / name)
            yield Base(name, arch, p, "corpus/real excerpt, materialised (sparse)")
    yield from _kernels_bases(kbuild, scratch)


def generate(out: Path, kbuild: Path | None = KBUILD, full_debian: bool = False) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for base in bases(kbuild, full_debian, out / ".bases"):
        if base.arch == "arm64":
            variants = arm64_variants(base.path)
        elif base.arch == "arm64-zboot":
            variants = zboot_variants(base.path)
        elif base.arch == "ppc64":
            variants = ppc64_variants(base.path)
        else:
            variants = [Variant("as-is", "base", None, None)]
        arch = "ppc64" if base.arch == "ppc64" else "arm64"
        d = out / arch / base.name
        d.mkdir(parents=True, exist_ok=True)
        for v in variants:
            dst = d / v.name
            _copy_sparse(base.path, dst, v.truncate, v.patch, v.extend)
            manifest.append({
                "image": str(dst.relative_to(out)),
                "arch": arch,
                "base": base.name,
                "base_origin": base.origin,
                "class": v.cls,
                "variant": v.detail,
                "field": v.field,
                "value": v.value,
                "size": dst.stat().st_size,
                "sha256": _sha256(dst),
            })
    manifest.sort(key=lambda m: m["image"])
    (out / "manifest.json").write_text(json.dumps(
        {"format": "loadertruth-variants/1", "images": manifest}, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=CACHE / "variants")
    ap.add_argument("--kbuild", type=Path, default=KBUILD,
                    help="full cross-built kernels behind corpus/kernels (read only; "
                    "used when present and their sha256 matches)")
    ap.add_argument("--no-kbuild", action="store_true")
    ap.add_argument("--full-debian", action="store_true",
                    help="download the full Debian kernels instead of the sparse excerpts")
    a = ap.parse_args(argv)
    if a.out.exists():
        shutil.rmtree(a.out)
    m = generate(a.out, None if a.no_kbuild else a.kbuild, a.full_debian)
    counts: dict[str, int] = {}
    for e in m:
        counts[e["arch"]] = counts.get(e["arch"], 0) + 1
    per_arch = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    print(f"{len(m)} images in {a.out} ({per_arch})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
