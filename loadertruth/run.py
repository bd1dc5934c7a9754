"""Run the real loaders on a directory of images and write their verdicts.

    python -m loadertruth.run --images DIR --out results.json
        [--loaders kexec-tools,kexec-tools-file,kexec-tools-crash,u-boot,efi,qemu]
        [--jobs N] [--isolation prefix|mount] [--limit N]

``results.json`` is a JSON list, one object per (image, loader), sorted by both:
``image`` (path relative to DIR; the join key with kimage's verdicts, together with
``loader``), ``sha256``, ``loader``, ``loader_version``, ``arch``, ``accept`` (true,
false, or null when the harness could not decide), ``message`` (the deciding line),
``observed`` (what the loader computed on the way), ``log_tail``, and ``class`` /
``variant`` when DIR has a variants ``manifest.json``. Run times go to
``<out>.timings.json`` so that ``results.json`` is the same on every run.

Pairs a loader cannot take are not run: U-Boot ``booti``, EFI, GRUB and QEMU ``-kernel``
get arm64 images only;
kexec-tools runs the arm64 or the ppc64el build by the image's arch (manifest, else
ELF e_machine: EM_PPC64/EM_PPC -> ppc64, anything else -> arm64).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import LOADERS, efi, grub, kexec, kexec_file_kernel, qemu, uboot
from .common import Verdict, sha256_file, sniff_arch


def load_manifest(images: Path) -> dict[str, dict]:
    m = images / "manifest.json"
    if not m.is_file():
        return {}
    return {e["image"]: e for e in json.loads(m.read_text())["images"]}


def list_images(images: Path, manifest: dict[str, dict]) -> list[str]:
    if manifest:
        return sorted(manifest)
    return sorted(
        str(p.relative_to(images)) for p in images.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"
        and ".bases" not in p.parts
    )


def applicable(loader: str, arch: str) -> bool:
    if loader in kexec_file_kernel.NAMES:
        return arch in kexec_file_kernel.GUESTS
    if loader in ("u-boot", "efi", "grub", "qemu"):
        return arch == "arm64"
    return True


def run_one(loader: str, path: Path, rel: str, arch: str, sha: str, isolation: str) -> Verdict:
    if loader.startswith("kexec-tools"):
        return kexec.run(loader, path, rel, arch=arch, isolation=isolation, sha=sha)
    if loader == "u-boot":
        return uboot.run(path, rel, arch=arch, sha=sha)
    if loader == "efi":
        return efi.run(path, rel, arch=arch, sha=sha)
    if loader == "grub":
        return grub.run(path, rel, arch=arch, sha=sha)
    if loader == "qemu":
        return qemu.run(path, rel, arch=arch, sha=sha)
    if loader in kexec_file_kernel.NAMES:
        return kexec_file_kernel.run(loader, path, rel, arch=arch, sha=sha)
    raise ValueError(loader)


def run_batched(tasks: list[tuple], manifest: dict[str, dict], images: Path) -> list[Verdict]:
    """The kexec-file-kernel tasks (both modes) in ONE guest boot: each image is
    rebuilt in the guest from its manifest base (the base's ``as-is`` variant)."""
    asis = {e["base"]: images / e["image"] for e in manifest.values()
            if e.get("class") == "as-is"}
    seen: dict[str, kexec_file_kernel.Item] = {}
    for _, path, rel, arch, sha in tasks:
        if rel not in seen:
            base = asis.get(manifest.get(rel, {}).get("base"))
            seen[rel] = kexec_file_kernel.Item(path, rel, arch, sha, base)
    loaders = sorted({t[0] for t in tasks})
    wanted = {(t[2], t[0]) for t in tasks}
    return [v for v in kexec_file_kernel.run_batch(list(seen.values()), loaders)
            if (v.image, v.loader) in wanted]


def check_available(loaders: list[str]) -> list[str]:
    """Reasons the requested loaders cannot run here (empty when all can)."""
    problems = []
    for loader in loaders:
        if loader.startswith("kexec-tools"):
            for arch in ("arm64", "ppc64"):
                ok, why = kexec.available(arch)
                if not ok:
                    problems.append(f"{loader} ({arch}): {why}")
        elif loader == "u-boot":
            ok, why = uboot.available()
            if not ok:
                problems.append(f"u-boot: {why}")
        elif loader in ("efi", "grub"):
            ok, why = (efi if loader == "efi" else grub).available()
            if not ok:
                problems.append(f"{loader}: {why}")
        elif loader == "qemu":
            ok, why = qemu.available()
            if not ok:
                problems.append(f"qemu: {why}")
        elif loader in kexec_file_kernel.NAMES:
            for arch in kexec_file_kernel.GUESTS:
                ok, why = kexec_file_kernel.available(arch)
                if not ok:
                    problems.append(f"{loader} ({arch}): {why}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--loaders", default=",".join(LOADERS[:4]),
                    help=f"comma-separated, from {','.join(LOADERS)} (default: all but efi)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--isolation", choices=("prefix", "mount"), default="prefix",
                    help="how kexec-tools gets its /proc fixtures (see fixtures.py)")
    ap.add_argument("--limit", type=int, default=0, help="first N images only (0: all)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)

    loaders = [x.strip() for x in a.loaders.split(",") if x.strip()]
    unknown = [x for x in loaders if x not in LOADERS]
    if unknown:
        ap.error(f"unknown loader(s): {', '.join(unknown)}")
    problems = check_available(loaders)
    if problems:
        for p in problems:
            print(f"loadertruth: {p}", file=sys.stderr)
        print("loadertruth: affected runs are recorded with accept=null", file=sys.stderr)

    manifest = load_manifest(a.images)
    rels = list_images(a.images, manifest)
    if a.limit:
        rels = rels[: a.limit]
    tasks = []
    for rel in rels:
        path = a.images / rel
        arch = manifest.get(rel, {}).get("arch") or sniff_arch(path)
        sha = manifest.get(rel, {}).get("sha256") or sha256_file(path)
        for loader in loaders:
            if applicable(loader, arch):
                tasks.append((loader, path, rel, arch, sha))

    t0 = time.monotonic()
    done = 0
    results: list[Verdict] = []

    def work(t):
        return run_one(*t, a.isolation)

    batched = [t for t in tasks if t[0] in kexec_file_kernel.NAMES]
    tasks = [t for t in tasks if t[0] not in kexec_file_kernel.NAMES]
    if batched:
        results.extend(run_batched(batched, manifest, a.images))
        done += len(batched)
        if not a.quiet:
            print(f"loadertruth: {len(batched)} kexec-file-kernel runs in one guest boot, "
                  f"{time.monotonic() - t0:.0f} s", file=sys.stderr)
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        for v in pool.map(work, tasks):
            results.append(v)
            done += 1
            if not a.quiet and (done % 50 == 0 or done == len(tasks)):
                print(f"loadertruth: {done}/{len(tasks)} runs, {time.monotonic() - t0:.0f} s",
                      file=sys.stderr)

    records, timings = [], []
    for v in results:
        rec = v.to_json()
        timings.append({"image": v.image, "loader": v.loader, "seconds": rec.pop("seconds")})
        m = manifest.get(v.image)
        if m:
            rec["class"] = m["class"]
            rec["variant"] = m["variant"]
        records.append(rec)
    records.sort(key=lambda r: (r["image"], r["loader"]))
    timings.sort(key=lambda r: (r["image"], r["loader"]))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n")
    Path(str(a.out) + ".timings.json").write_text(json.dumps(
        {"wall_seconds": round(time.monotonic() - t0, 1), "jobs": a.jobs, "runs": timings},
        indent=1) + "\n")
    if not a.quiet:
        from .table import render
        print(render(records))
    undecided = sum(1 for r in records if r["accept"] is None)
    print(f"loadertruth: {len(records)} verdicts ({undecided} undecided) in {a.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
