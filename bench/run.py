"""``make bench``: the five benchmarks in one run, printed as ratios and saved with the
machine's description to ``bench/results.json``.

    python -m bench.run [--only coldstart,throughput,inprocess,memory,startup] [--quick]
                        [--out bench/results.json] [--no-regular-install]
                        [--revisions REV,...] [--deb-instructions] [--sets N,...]

The cold-start part also measures, unless --quick, the real-size inputs of
``bench.realsize``: Debian's kernel packages found under build/ and a real kernel
compressed three ways (skipped with the reason when missing).

``--sets 100000`` measures lint over the 100,000-file set (one round; peak RSS in every
report format): about a quarter of an hour on two cores, so not in ``make bench``'s
default. Figures of the sets not measured this time are kept, each with the machine
description of the run that measured it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench import coldstart, common, inprocess, memory, realsize, startup, throughput

PARTS = ("coldstart", "throughput", "inprocess", "memory", "startup")
#: kimage's fixed cost: a 4 KiB header-only Image without EFI stub (no PE headers to
#: describe, no banner to find)
TINY = common.ROOT / "corpus/synthetic/arm64/v5.8-4k-le-anywhere-noefi.img"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description="kimage benchmarks against file(1) and "
                                                 "the struct.unpack floor")
    parser.add_argument("--only", default=",".join(PARTS),
                        help="comma-separated parts to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and only the 1,000-image set (a smoke run)")
    parser.add_argument("--rounds", type=int, default=coldstart.ROUNDS,
                        help="cold-start rounds (default: %(default)s)")
    parser.add_argument("--no-regular-install", action="store_true",
                        help="skip the pip install . venv in the cold-start part")
    parser.add_argument("--revisions", default="", metavar="REV,...",
                        help="also time kimage check as installed from these git "
                             "revisions (cold start only), e.g. to compare commits")
    parser.add_argument("--deb-instructions", action="store_true",
                        help="count the real Debian packages' instructions under callgrind "
                             "too (minutes per command)")
    parser.add_argument("--sets", default="", metavar="N,...",
                        help="throughput: the sizes of the file sets to lint (default: "
                             "1000,10000; with --quick 1000); a set of 100,000 or more "
                             "gets one round")
    parser.add_argument("--out", type=Path, default=common.ROOT / "bench" / "results.json")
    parser.add_argument("--build", type=Path, default=common.ROOT / "build" / "bench",
                        help="where the pip install venvs go (default: %(default)s)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    results: dict = {"schema": "kimage-bench/1", "machine": common.machine()}
    old = json.loads(args.out.read_text()) if args.out.is_file() else {}
    common.compile_bytecode(common.ROOT / "validator")
    with tempfile.TemporaryDirectory(prefix="kimage-bench-") as tmp:
        work = Path(tmp)
        if "coldstart" in parts:
            from corpus.materialise import excerpts, materialise

            images = {}
            for e in excerpts():
                label = ("raw arm64 Image" if "arm64" in e.parent.name
                         else "x86-64 bzImage" if "amd64" in e.parent.name
                         else "raw riscv64 Image" if "riscv64" in e.parent.name
                         else "ppc64 vmlinux")
                images[f"{label} ({e.parent.name})"] = materialise(e, work / e.parent.name)
            images["synthetic arm64 Image, no EFI stub (4 KiB)"] = TINY
            # the same with the report a CI job uploads: SARIF lists every rule
            images["synthetic arm64 Image, no EFI stub (4 KiB), --format sarif"] = (
                TINY, {}, {"args": ["--format", "sarif"]})
            images.update(coldstart.wrapped_images(work))
            build = args.build.resolve()
            skipped = {}
            if not args.quick:
                big, skipped = realsize.inputs(build, args.deb_instructions)
                images.update(big)
            regular = None
            if not args.no_regular_install:
                regular = coldstart.install(build / "venv-worktree", common.ROOT)
            revisions = {}
            for rev in filter(None, (r.strip() for r in args.revisions.split(","))):
                short, bin_dir = coldstart.install_revision(rev, build)
                if bin_dir is not None:
                    revisions[short] = bin_dir
            rounds = 5 if args.quick else args.rounds
            results["coldstart"] = coldstart.measure(images, work, rounds, regular,
                                                     revisions)
            results["coldstart"]["skipped"] = skipped
            _print_coldstart(results["coldstart"])
        if "throughput" in parts:
            try:
                sizes = tuple(int(n) for n in args.sets.split(",") if n.strip()) or (
                    (1000,) if args.quick else (1000, 10000))
            except ValueError:
                parser.error(f"--sets {args.sets}: expected sizes such as 1000,10000")
            results["throughput"] = throughput.measure(sizes, work, 1 if args.quick else 3)
            throughput.keep_sets(results["throughput"], old, results["machine"])
            results["throughput"]["small_runs"] = throughput.small_runs(
                work, 5 if args.quick else 15)
            _print_throughput(results["throughput"])
        if "inprocess" in parts:
            results["inprocess"] = inprocess.measure()
            _print_inprocess(results["inprocess"])
        if "memory" in parts:
            results["memory"] = memory.measure(work, 1 if args.quick else 3)
            _print_memory(results["memory"])
        if "startup" in parts:
            results["startup"] = _startup(args.build.resolve(), work)
            startup.show(results["startup"])
    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    for part in PARTS:
        if part in results:
            results[part]["measured_at"] = results["machine"]["date"]
    for part in PARTS:  # keep the parts not run this time
        if part not in results and part in old:
            results[part] = old[part]
            results.setdefault("kept_from_earlier_run", []).append(part)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwritten {args.out}")
    return 0


def _startup(build: Path, work: Path) -> dict:
    """Where a cold check goes (bench.startup), in the regular install, for the 4 KiB
    Image, Debian's arm64 Image (EFI stub) and ppc64 vmlinux (their excerpts)."""
    from corpus.materialise import excerpts, materialise

    bin_dir = coldstart.install(build / "venv-worktree", common.ROOT)
    if bin_dir is None:
        return {"note": "pip install . failed"}
    images = {"synthetic arm64 Image, no EFI stub (4 KiB)": TINY}
    for e in excerpts():
        if e.parent.name in ("debian-6.1.0-50-arm64", "debian-6.1.0-50-powerpc64le"):
            images[e.parent.name] = materialise(e, work / f"startup-{e.parent.name}")
    return startup.measure(bin_dir, images, work)


def _print_coldstart(r: dict) -> None:
    print(f"\n== cold start (median of {r['rounds']} interleaved runs, wall ms; cpu ms)")
    for label, img in r["images"].items():
        print(f"-- {label}, {img['size']:,} bytes")
        for name, t in img["commands"].items():
            w, c = t["wall_ms"], t["cpu_ms"]
            ins = f"; {t['instructions'] / 1e6:.0f} M instr" if t.get("instructions") else ""
            print(f"  {name:38s} {w['median']:7.1f}  (IQR {w['q1']:.1f}-{w['q3']:.1f}; "
                  f"cpu {c['median']:.1f}{ins})")
        for name, v in img["ratios"].items():
            print(f"  {name:50s} {v}")
        for name, why in img.get("refused", {}).items():
            print(f"  REFUSED {name}: {why}")
    for label, why in r.get("skipped", {}).items():
        print(f"-- skipped: {label}: {why}")


def _print_throughput(r: dict) -> None:
    print(f"\n== throughput (median of {r['rounds']} interleaved runs)")
    for n, s in r["sets"].items():
        print(f"-- {int(n):,} files, {s['bytes']:,} bytes")
        for name, t in s["commands"].items():
            print(f"  {name:24s} {t['wall_ms']['median']:9.0f} ms  "
                  f"{t['per_image_us']:8.1f} us/image  (cpu {t['cpu_ms']['median']:.0f} ms)")
        for name, v in s["ratios"].items():
            print(f"  {name:36s} {v}")
        for name, kib in s.get("maxrss_kib_by_format", {}).items():
            print(f"  peak RSS, lint --format {name:14s} {kib / 1024:6.1f} MiB")
    small = r.get("small_runs")
    if small:
        print(f"-- small runs (median of {small['rounds']}, wall)")
        for label, s in small["sets"].items():
            times = "  ".join(f"{name.removeprefix('kimage lint ')} "
                              f"{t['wall_ms']['median']:.1f} ms"
                              for name, t in s["commands"].items())
            print(f"  {label:26s} {times}")


def _print_inprocess(r: dict) -> None:
    print("\n== in-process, per header (best of 7; x struct.unpack)")
    for fmt, rows in r["headers"].items():
        print(f"-- {fmt}")
        for name, row in rows.items():
            ins = (f"  {row['instructions']:8,d} instr  {row['x_struct_instructions']:6.1f}x"
                   if row.get("x_struct_instructions") else "")
            print(f"  {name:28s} {row['best_us']:8.2f} us  {row['x_struct']:6.1f}x{ins}")


def _print_memory(r: dict) -> None:
    print(f"\n== memory: peak RSS of kimage check (target {r['target_mib']} MiB)")
    for name, kib in r["baseline_kib"].items():
        print(f"  {name:40s} {kib / 1024:6.1f} MiB")
    for name, row in r["images"].items():
        print(f"  {name:40s} {row['maxrss_mib']:6.1f} MiB  (+{row['over_tiny_image_mib']} "
              f"over a 4 KiB image; {row['wall_ms']} ms)")
    for note in r["notes"]:
        print(f"  note: {note}")


if __name__ == "__main__":
    sys.exit(main())
