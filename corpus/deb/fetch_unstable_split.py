"""Fetch Debian unstable's split kernel packages (linux-image-V, linux-binary-V and
linux-base-V of linux-image-arm64) into build/deb-unstable, for tests/test_deb_layouts.py.

    python3 corpus/deb/fetch_unstable_split.py

``apt-get download`` through the private apt configuration of ``loadertruth/install.sh
suite unstable`` (nothing installed, no root). Fetched once: a later call finds them.
``make test``'s set-up runs this beside its other downloads; the test's fixture calls
``fetch()`` too (a no-op then). Standard library only, so the set-up needs no venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APT = ROOT / "build/loadertruth/apt-unstable"  # loadertruth/install.sh suite unstable
CACHE = ROOT / "build/deb-unstable"


def _apt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [args[0], "-q", "-o", f"Dir::Etc::sourceparts={APT}/sources",
         "-o", "Dir::Etc::sourcelist=/dev/null", "-o", f"Dir::State::Lists={APT}/lists",
         "-o", f"Dir::Cache={APT}/cache", "-o", f"Dir::Cache::pkgcache={APT}/cache/pkgcache.bin",
         "-o", "APT::Architectures::=amd64", "-o", "APT::Architectures::=arm64", *args[1:]],
        capture_output=True, text=True, timeout=600, cwd=CACHE)


def fetch() -> dict[str, Path | str] | str:
    """{"image", "binary", "base": the .debs, "release": V}, or why they are not here."""
    if not (APT / "lists").is_dir():
        return "no private apt state for unstable (loadertruth/install.sh suite unstable)"
    CACHE.mkdir(parents=True, exist_ok=True)
    have = sorted(CACHE.glob("linux-binary-*_arm64.deb"))
    if have:  # fetched before: the newest, and its two siblings
        v = have[-1].name.split("_")[0].removeprefix("linux-binary-")
        names = {"image": f"linux-image-{v}", "binary": f"linux-binary-{v}",
                 "base": f"linux-base-{v}"}
        found = {k: sorted(CACHE.glob(f"{n}_*_arm64.deb")) for k, n in names.items()}
        if all(found.values()):
            return {**{k: p[-1] for k, p in found.items()}, "release": v}
    deps = _apt("apt-cache", "depends", "linux-image-arm64:arm64").stdout
    image = next((line.split(":", 1)[1].strip().removesuffix(":arm64")
                  for line in deps.splitlines()
                  if line.strip().startswith("Depends: linux-image-")), None)
    if image is None:
        return "unstable's linux-image-arm64 names no linux-image-V"
    v = image.removeprefix("linux-image-")
    names = {"image": image, "binary": f"linux-binary-{v}", "base": f"linux-base-{v}"}
    show = _apt("apt-cache", "show", f"{names['binary']}:arm64")
    if show.returncode != 0:
        return f"{image} has no linux-binary package: not the split layout"
    out: dict[str, Path | str] = {}
    for key, name in names.items():
        have = sorted(CACHE.glob(f"{name}_*_arm64.deb"))
        if not have:
            got = _apt("apt-get", "download", f"{name}:arm64")
            have = sorted(CACHE.glob(f"{name}_*_arm64.deb"))
            if not have:
                return f"apt-get download {name} failed: {got.stderr.strip()[-200:]}"
        out[key] = have[-1]
    out["release"] = v
    return out


if __name__ == "__main__":
    got = fetch()
    if isinstance(got, str):
        print(f"fetch_unstable_split: {got}", file=sys.stderr)
        sys.exit(1)
    print(f"fetch_unstable_split: {got['release']} in {CACHE}")
