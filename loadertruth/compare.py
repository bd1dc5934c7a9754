"""kimage's per-loader verdicts against what the real loaders did.

    python -m loadertruth.compare --images build/loadertruth/variants \\
        --results build/loadertruth/results.json [--show-disagreements]

Joins ``results.json`` (written by ``loadertruth.run``; several may be given, one per
Debian suite) with ``kimage check`` of the same images on ``(image, loader@version)``
and prints an agreement table, loader@version x variant class. The version is the
upstream release in the record's ``loader_version`` (Debian's "1:2.0.29-2+b1" is
kexec-tools 2.0.29); kimage's verdict at it is the newest release's or, where the
release falls in one of the entry's ``by_version`` ranges, that range's. A real loader
that is one distribution's build of a loader kimage models by build (``BUILD``: the
kexec-tools loadertruth runs are Debian's packages) is judged as that build,
``kexec-tools@2.0.32+debian``.
The real loaders map onto kimage's as follows: ``kexec-tools`` (``kexec -l``) and
``kexec-tools-crash`` (``kexec -p``) onto kimage's ``kexec-tools``; ``u-boot``, ``efi``,
``grub`` and ``qemu`` onto themselves. ``kexec-tools-file`` (``kexec -s``) runs only the
userspace magic probe of kexec_file_load, not the kernel's loader, so it has no kimage
counterpart.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

#: real loader name -> kimage loader name
KIMAGE_LOADER = {
    "kexec-tools": "kexec-tools",
    "kexec-tools-crash": "kexec-tools",
    "u-boot": "u-boot",
    "efi": "efi",
    "grub": "grub",
    "qemu": "qemu",
    # the kernel's own kexec_file_load in an arm64 guest (normal and KEXEC_FILE_ON_CRASH)
    "kexec-file-kernel": "kexec-file",
    "kexec-file-kernel-crash": "kexec-file",
}

#: real loader name -> the build of kimage's loader it is (``NAME@VERSION+BUILD``): every
#: kexec-tools and GRUB loadertruth runs is Debian's package (loadertruth/kexec.py, grub.py)
BUILD = {"kexec-tools": "debian", "kexec-tools-crash": "debian", "grub": "debian"}


#: Differences that are a documented, version- or machine-specific loader behaviour, not a
#: kimage error: (real loader name, predicate over (record, kimage loaders), explanation).
EXPLAINED = (
    *((name, lambda r, k: r["accept"] is True and _at_least(release(r) or "0", "2.0.28")
       and "zboot/compression-mismatch" in _reasons(k, "kexec-tools"),
       "kexec-tools undoes a zboot payload by its content (pez_prepare -> "
       "slurp_decompress_file sniffs the magic); the name only has to start with one it "
       "takes, so a gzip payload named lzma loads; kimage decodes by the name and finds no "
       "kernel (zboot/compression-mismatch), see validator/loaders/kexec_tools.py")
      for name in ("kexec-tools", "kexec-tools-crash")),
    ("kexec-tools-crash", lambda r, k: r["accept"] is False
     and ("not allocated" in (r["message"] or "") or "free area" in (r["message"] or "")),
     "kexec -p must fit the kernel into the host's crash region (256 MiB in the fixture); "
     "kimage check has no host, kimage preflight judges the fit"),
    ("kexec-tools-crash", lambda r, k: r["accept"] is True and r["class"] == "text-offset",
     "kexec-tools -p (2.0.25 to 2.0.32) does not range-check text_offset and places the "
     "kernel outside "
     "the crash region; the kernel refuses that segment at the system call"),
    ("kexec-file-kernel-crash", lambda r, k: r["accept"] is False
     and (r.get("observed") or {}).get("errno") == "EADDRNOTAVAIL"
     and any("suitable kernel location" in m for m in (r.get("observed") or {}).get("kmsg", ())),
     "the guest reserves 256 MiB for crash kernels (crashkernel=256M): a crash load must fit "
     "image_size + text_offset, the ELF core header and the DTB into it (Linux 6.1 "
     "arch/arm64/kernel/kexec_image.c image_load: 'Could not find any suitable kernel "
     "location', -EADDRNOTAVAIL); kimage check has no host, kimage preflight judges the fit"),
    ("kexec-file-kernel-crash", lambda r, k: r["accept"] is False and r["class"] == "text-offset"
     and (r.get("observed") or {}).get("errno") == "EADDRNOTAVAIL"
     and "kernel_mem" in (r.get("observed") or {}),
     "a crash load only: Linux 6.1 kernel/kexec_core.c sanity_check_segment_list refuses a "
     "segment outside crashk_res, and a text_offset that wraps with image_size puts the "
     "kernel segment below the region; kimage's kexec-file verdict is the normal load, "
     "which takes it (validator/loaders/kexec_file.py _text_offset)"),
    ("u-boot", lambda r, k: r["accept"] is True and r["variant"] == "max-64k",
     "U-Boot (2023.01 and 2025.01) adds image_size to the load address without an "
     "overflow check: "
     "0xffffffffffff0000 wraps around and booti starts the kernel"),
)


def _has_layer(loaders_and_layers, kind: str) -> bool:
    return kind in (loaders_and_layers or {}).get("_layers", ())


def _reasons(loaders_and_layers, loader: str) -> list[str]:
    return ((loaders_and_layers or {}).get(loader) or {}).get("reasons") or []


def _at_least(version: str, first: str) -> bool:
    from validator.loaders import at_least

    return at_least(version, first)


def release(record: dict) -> str | None:
    """The upstream release in a record's ``loader_version``: "kexec-tools 1:2.0.29-2+b1
    (arm64, Debian trixie)" -> "2.0.29"; None when there is none."""
    m = re.search(r"(?:\d+:)?(\d+(?:\.\d+)+)", record.get("loader_version") or "")
    return m.group(1) if m else None


def verdict_at(entry: dict, version: str | None) -> str:
    """kimage's verdict at ``version`` from a loaders entry: its ``by_version`` range
    holding the release, else the newest release's."""
    from validator.loaders import version_key

    if version:
        for r in entry.get("by_version") or ():
            if version_key(r["from"]) <= version_key(version) <= version_key(r["to"]):
                return r["verdict"]
    return entry["verdict"]


def kimage_verdicts(images: Path, names: set[str]) -> dict[str, dict]:
    """image (relative path) -> kimage's loaders dict, or None when kimage cannot read it.

    The dict's ``_judge`` judges one ``NAME@VERSION+BUILD`` spec of the same image (the
    image is read and checked once)."""
    from validator import checker
    from validator.source import InputError

    out = {}
    options = checker.Options()
    for name in sorted(names):
        try:
            result = checker.check_image(images / name, options)
        except InputError:
            out[name] = None
            continue
        out[name] = dict(result.loaders, _layers=[layer.kind for layer in result.layers],
                         _compression=result.facts.get("compression"),
                         _judge=functools.partial(_judge_spec, result, {}))
    return out


def _judge_spec(result, cache: dict, spec: str) -> dict:
    """kimage's verdict for one ``NAME@VERSION+BUILD`` on a checked image (cached)."""
    from validator import loaders
    from validator.rules.engine import Context

    if spec not in cache:
        (v,) = loaders.judge(Context(result), result.findings, [spec]).values()
        cache[spec] = v.to_dict()
    return cache[spec]


def kimage_entry(loaders: dict, record: dict) -> dict:
    """kimage's entry for the real loader of ``record``: the build's verdict at the
    record's release where the real loader is a build kimage models (``BUILD``), else
    the plain entry (read at the release with ``verdict_at``)."""
    ours, at, build = KIMAGE_LOADER[record["loader"]], release(record), BUILD.get(
        record["loader"])
    if build and at and "_judge" in loaders:
        return loaders["_judge"](f"{ours}@{at}+{build}")
    return loaders[ours]


def compare(records: list[dict], verdicts: dict[str, dict]):
    """(table {(loader@version, class): [agree, explained, total]}, disagreements,
    explained)."""
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    disagreements, explained = [], []
    for r in records:
        ours = KIMAGE_LOADER.get(r["loader"])
        if ours is None or r["accept"] is None:
            continue
        loaders = verdicts.get(r["image"])
        if loaders is None:
            predicted = False  # kimage cannot read it: no loader can
        else:
            entry = kimage_entry(loaders, r)
            v = verdict_at(entry, release(r)) if "by_version" in entry else entry["verdict"]
            if v == "n/a":
                continue
            predicted = v == "accept"
        at = release(r)
        cell = table[(f"{r['loader']}@{at}" if at else r["loader"], r["class"])]
        cell[2] += 1
        if predicted == r["accept"]:
            cell[0] += 1
            continue
        entry = {"image": r["image"], "loader": r["loader"], "version": at,
                 "real": r["accept"],
                 "kimage": predicted, "message": r["message"],
                 "reasons": None if loaders is None else entry["reasons"]}
        why = next((text for name, test, text in EXPLAINED
                    if name == r["loader"] and test(r, loaders)), None)
        if why:
            cell[1] += 1
            explained.append(dict(entry, explanation=why))
        else:
            disagreements.append(entry)
    return table, disagreements, explained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=Path("build/loadertruth/variants"))
    parser.add_argument("--results", type=Path, nargs="+",
                        default=[Path("build/loadertruth/results.json")])
    parser.add_argument("--show-disagreements", action="store_true")
    parser.add_argument("--json", type=Path, help="write the table and disagreements here")
    args = parser.parse_args(argv)
    records, seen = [], set()
    for path in args.results:  # a suite's run repeats Debian 12's ppc64el records
        for r in json.loads(path.read_text()):
            key = (r["image"], r["loader"], r.get("loader_version"))
            if key not in seen:
                seen.add(key)
                records.append(r)
    verdicts = kimage_verdicts(args.images, {r["image"] for r in records})
    table, disagreements, explained = compare(records, verdicts)
    print(f"{'loader':<26} {'class':<34} agree+explained/total")
    for (loader, cls), (a, e, t) in sorted(table.items()):
        mark = "" if a + e == t else "  <-- differs"
        print(f"{loader:<26} {cls:<34} {a:>4}+{e:<3}/{t:<4}{mark}")
    per_loader = defaultdict(lambda: [0, 0, 0])
    for (loader, _), cell in table.items():
        for i in range(3):
            per_loader[loader][i] += cell[i]
    print()
    for loader, (a, e, t) in sorted(per_loader.items()):
        print(f"{loader:<26} {a}/{t} agree ({100 * a / t:.1f} %), {e} explained, "
              f"{t - a - e} unexplained")
    if args.show_disagreements:
        for d in disagreements:
            print(json.dumps(d))
    if args.json:
        args.json.write_text(json.dumps({
            "table": [{"loader": k[0], "class": k[1], "agree": v[0], "explained": v[1],
                       "total": v[2]} for k, v in sorted(table.items())],
            "explained": explained, "disagreements": disagreements}, indent=1))
    return 0 if not disagreements else 1


if __name__ == "__main__":
    sys.exit(main())
