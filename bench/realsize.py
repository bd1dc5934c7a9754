"""Real-size inputs for the cold-start part: Debian's own kernel packages found under
build/ (each beside ``dpkg-deb --fsys-tarfile | tar -xO`` of its kernel member), and the
kernel of one of them compressed with ``gzip -9``, ``xz`` and ``zstd -19`` (each beside
its decoder writing to /dev/null: the decode floor).

Nothing here is downloaded: the packages are those ``loadertruth/install.sh`` and the
corpus scripts leave under build/. An input that is missing is skipped with the reason,
which the results keep (``coldstart.skipped``). A package's data.tar decodes to a few
hundred MiB (seconds of CPU per run), so these inputs run fewer rounds, and under
callgrind (50 times slower) only when asked.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

from bench.common import ROOT

#: Where the packages are looked for, in order: (label, glob under build/).
DEBS = (
    ("Debian 12 linux-image .deb (6.1, arm64)", "deb/linux-image-6.1.*_arm64.deb"),
    ("Debian 12 linux-image .deb (6.1, ppc64el)", "deb/linux-image-6.1.*_ppc64el.deb"),
    ("Debian 13 linux-image .deb (6.12, arm64)", "loadertruth/kdump-guest/debs/"
                                                 "linux-image-6.12.*_arm64.deb"),
    ("Debian 13 linux-image .deb (6.12, arm64)", "kdump-guest/debs/linux-image-6.12.*_arm64.deb"),
    ("Debian unstable linux-binary .deb (7.x split package, arm64)",
     "deb-unstable/linux-binary-*_arm64.deb"),
)
#: The kernel's path in a package's data.tar (as validator.formats.deb.decoder.KERNEL).
KERNEL = re.compile(r"^(?:\./)?(?:boot/vmlinu[xz]-|(?:usr/)?lib/modules/[^/]+/vmlinu[xz]$)")
#: The codecs, their compressing command and their decode floor.
CODECS = (("gzip", "gz", ["-9", "-c"]), ("xz", "xz", ["-c"]), ("zstd", "zst", ["-q", "-19", "-c"]))
#: Rounds for a package (a few seconds of CPU each); the compressed Images take the rest.
DEB_ROUNDS = 5


def kernel_member(deb: Path) -> str | None:
    """The first kernel path among the members of ``deb``'s data.tar (``dpkg-deb
    --fsys-tarfile | tar -t``), as tar names it, or None."""
    listing = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"dpkg-deb --fsys-tarfile {shlex.quote(str(deb))} | tar -t"],
        capture_output=True, text=True)
    if listing.returncode != 0:
        return None
    return next((name for name in listing.stdout.splitlines() if KERNEL.match(name)), None)


def deb_reference(deb: Path, member: str) -> list[str]:
    """``dpkg-deb --fsys-tarfile DEB | tar -xO MEMBER`` (to /dev/null), failing when either
    side fails (pipefail): the floor a package tool sets for reaching the kernel."""
    return [shutil.which("bash") or "bash", "-o", "pipefail", "-c",
            f"dpkg-deb --fsys-tarfile {shlex.quote(str(deb))} | "
            f"tar -xO {shlex.quote(member)}"]


def find_debs(build: Path = ROOT / "build") -> tuple[dict, dict]:
    """(label -> (deb, its kernel member), label -> why it is skipped)."""
    found: dict = {}
    skipped: dict = {}
    tools = [t for t in ("dpkg-deb", "tar", "bash") if shutil.which(t) is None]
    for label, pattern in DEBS:
        if label in found:
            continue
        debs = sorted(build.glob(pattern))
        if not debs:
            skipped.setdefault(label, f"no build/{pattern} (loadertruth/install.sh fetches "
                                      f"Debian's packages)")
            continue
        if tools:
            skipped[label] = f"{', '.join(tools)} not installed"
            continue
        member = kernel_member(debs[-1])
        if member is None:
            skipped[label] = f"{debs[-1].name}: no kernel member in its data.tar"
            continue
        found[label] = (debs[-1], member)
        skipped.pop(label, None)
    return found, skipped


def compressed_images(deb: Path, member: str, cache: Path) -> tuple[dict, dict]:
    """The kernel of ``deb`` compressed three ways, made once into ``cache`` (``zstd -19``
    of a 32 MB Image takes most of a minute): label -> (path, {decoder: argv})."""
    out: dict = {}
    skipped: dict = {}
    cache.mkdir(parents=True, exist_ok=True)
    raw = cache / "Image"
    if not raw.is_file():
        data = subprocess.run(deb_reference(deb, member), capture_output=True).stdout
        if not data:
            return {}, {"real-size compressed Images": f"{member} of {deb.name}: not read"}
        tmp = raw.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(raw)
    what = f"{member.rsplit('/', 1)[-1]} from {deb.name}, {raw.stat().st_size:,} bytes"
    # the Image itself, as it lies in /boot: no holes (the excerpts of corpus/real are
    # materialised sparse, and the banner search passes holes)
    out[f"real-size raw Image ({what})"] = (raw, {})
    out.update(with_companions(deb, raw, cache))
    for tool, ext, args in CODECS:
        label = f"real-size Image.{ext} ({' '.join([tool, *args[:-1]])}; {what})"
        path = shutil.which(tool)
        if path is None:
            skipped[label] = f"{tool} not installed"
            continue
        packed = cache / f"Image.{ext}"
        if not packed.is_file():
            with open(raw, "rb") as src, open(packed.with_suffix(".tmp"), "wb") as dst:
                subprocess.run([path, *args], stdin=src, stdout=dst, check=True)
            packed.with_suffix(".tmp").replace(packed)
        out[label] = (packed, {f"{tool} -dc": [path, "-dc", str(packed)]})
    return out, skipped


def inputs(cache: Path, instructions: bool = False) -> tuple[dict, dict]:
    """The real-size inputs for ``coldstart.measure`` (label -> (path, references,
    options)) and the skipped ones (label -> reason). ``instructions``: count the
    packages' instructions under callgrind too (minutes each)."""
    debs, skipped = find_debs()
    images: dict = {}
    for label, (deb, member) in debs.items():
        images[label] = (deb, {"dpkg-deb --fsys-tarfile | tar -xO": deb_reference(deb, member)},
                         {"rounds": DEB_ROUNDS, "instructions": instructions,
                          "note": f"kernel member {member}"})
    source = next((v for k, v in debs.items() if "arm64" in k and "split" not in k), None)
    if source is None:
        skipped["real-size compressed Images"] = "no Debian arm64 linux-image .deb under build/"
        return images, skipped
    packed, why = compressed_images(*source, cache / "realsize" / source[0].stem)
    images.update(packed)
    skipped.update(why)
    return images, skipped


#: Lines of the System.map ``with_companions`` writes: nm's form, addresses rising from
#: _text, names of 5 to 30 letters (a distribution kernel's has about this many).
MAP_LINES = 150_000


def with_companions(deb: Path, raw: Path, cache: Path) -> dict:
    """The raw Image checked with ``--config`` (the package's own ``boot/config-V``) and
    with ``--system-map`` (a System.map of ``MAP_LINES`` lines made here, seeded: Debian
    packages a one-line placeholder): label -> (path, {}, {"args": [...]}). Nothing when
    the package holds no config."""
    import random

    out: dict = {}
    config = cache / "config"
    if not config.is_file():
        listing = subprocess.run(["bash", "-o", "pipefail", "-c",
                                  f"dpkg-deb --fsys-tarfile {shlex.quote(str(deb))} | tar -t"],
                                 capture_output=True, text=True).stdout.splitlines()
        member = next((n for n in listing if re.match(r"^(?:\./)?boot/config-", n)), None)
        data = b"" if member is None else subprocess.run(
            deb_reference(deb, member), capture_output=True).stdout
        if data:
            config.with_suffix(".tmp").write_bytes(data)
            config.with_suffix(".tmp").replace(config)
    if config.is_file():
        lines = config.read_bytes().count(b"\n")
        out[f"real-size raw Image --config (its package's config, {lines:,} lines)"] = (
            raw, {}, {"args": ["--config", str(config)]})
    smap = cache / "System.map"
    if not smap.is_file():
        rng, address = random.Random(13), 0xFFFF800008000000
        rows = [f"{address:016x} T _text"]
        for i in range(MAP_LINES - 2):
            address += rng.randint(4, 200)
            name = "".join(rng.choice("abcdefghijklmnop_") for _ in range(rng.randint(5, 30)))
            rows.append(f"{address:016x} {rng.choice('TtDdBbRrWwVA')} "
                        f"{'_etext' if i == MAP_LINES // 2 else name}")
        rows.append(f"{address + 8:016x} B _end")
        smap.with_suffix(".tmp").write_text("\n".join(rows) + "\n")
        smap.with_suffix(".tmp").replace(smap)
    out[f"real-size raw Image --system-map ({MAP_LINES:,} lines in nm's form, made here)"] = (
        raw, {}, {"args": ["--system-map", str(smap)]})
    return out

