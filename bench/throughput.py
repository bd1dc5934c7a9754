"""Part 2, throughput: ``kimage lint`` over 1,000 and 10,000 image files against one
``file -b`` process over the same files, as a user would run each.

The files are the synthetic corpus (arm64 Images, ppc64 heads and ELF files) and header
variants of them (other text_offset, flags, image_size, run_at_load values, a broken
magic), named as in /boot so that lint finds them, plus one real-size sparse kernel in
a hundred (the Debian arm64 Image and ppc64el vmlinux materialised from their excerpts).
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

from bench.common import FILE, ROOT, VENV_BIN, interleave, ratio, summary

CORPUS = ROOT / "corpus"
REAL_EVERY = 100


def _bases() -> list[tuple[str, bytes]]:
    bases = []
    for path in sorted((CORPUS / "synthetic").glob("*/*")):
        bases.append((path.parent.name + "-" + path.suffix.lstrip("."), path.read_bytes()))
    return bases


def _variant(kind: str, data: bytes, rng: random.Random) -> bytes:
    """A header variant of ``data``: same format, other field values."""
    b = bytearray(data)
    if kind == "arm64-img" and len(b) >= 64:
        choice = rng.randrange(5)
        if choice == 0:
            struct.pack_into("<Q", b, 0x08, rng.choice((0, 0x80000, 0x1000 * rng.randrange(512))))
        elif choice == 1:
            struct.pack_into("<Q", b, 0x18, rng.randrange(16))  # be, page size, phys_base
        elif choice == 2:
            struct.pack_into("<Q", b, 0x10, rng.randrange(1 << 26))
        elif choice == 3:
            b[0x38:0x3C] = b"ARMD"  # broken magic
    elif kind == "ppc64-head" and len(b) >= 0x60:
        order = "<" if b[:4] == bytes.fromhex("48000008") else ">"
        value = rng.choice((0, 1, 0x72756E30, rng.randrange(1 << 32)))
        struct.pack_into(order + "I", b, 0x5C, value)
    return bytes(b)


def build_set(directory: Path, n: int, seed: int = 8) -> list[Path]:
    """``n`` image files in ``directory``; one in ``REAL_EVERY`` is real-size and sparse."""
    from corpus.materialise import excerpts, materialise

    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    bases = _bases()
    reals = excerpts()
    paths = []
    for i in range(n):
        if reals and i % REAL_EVERY == REAL_EVERY - 1:
            excerpt = reals[(i // REAL_EVERY) % len(reals)]
            path = directory / f"vmlinux-{i:05d}-{excerpt.parent.name}"
            materialise(excerpt, path)
        else:
            kind, data = bases[i % len(bases)]
            if i >= len(bases):
                data = _variant(kind, data, rng)
            path = directory / f"vmlinuz-{i:05d}-{kind}"
            path.write_bytes(data)
        paths.append(path)
    return paths


def measure(sizes: tuple[int, ...], workdir: Path, rounds: int = 3) -> dict:
    import os

    cores = os.cpu_count() or 1
    out: dict = {"rounds": rounds, "cores": cores, "real_size_every": REAL_EVERY, "sets": {}}
    for n in sizes:
        directory = workdir / f"set-{n}"
        paths = build_set(directory, n)
        set_rounds = 1 if n >= LARGE else rounds
        kimage = str(VENV_BIN / "kimage")
        commands = {
            f"kimage lint -j {cores}": [kimage, "lint", "-j", str(cores), str(directory)],
            "kimage lint -j 1": [kimage, "lint", "-j", "1", str(directory)],
            DEFAULT: [kimage, "lint", str(directory)],
        }
        if FILE and n >= LARGE:  # more names than an argument list holds (E2BIG): one
            names = workdir / f"set-{n}.names"  # file -b reads them from a list instead
            names.write_text("".join(f"{p}\n" for p in paths))
            commands["file -b"] = [FILE, "-b", "-f", str(names)]
        elif FILE:
            commands["file -b"] = [FILE, "-b", *map(str, paths)]
        runs = interleave(commands, set_rounds, cwd=workdir)
        table = {}
        for name, rs in runs.items():
            wall = summary([r.wall for r in rs], 1000)
            table[name] = {"wall_ms": wall, "cpu_ms": summary([r.cpu for r in rs], 1000),
                           "per_image_us": round(wall["median"] * 1000 / n, 1),
                           "maxrss_kib": max(r.maxrss for r in rs),
                           "exit": sorted({r.status for r in rs})}
        ratios = {}
        for key, unit in (("wall_ms", "wall"), ("cpu_ms", "cpu")):
            def med(name, key=key, table=table):
                return table[name][key]["median"]

            if FILE and table["file -b"]["exit"] == [0]:  # else no reference to divide by
                for name in commands:
                    if name != "file -b":
                        ratios[f"{name} / file -b ({unit})"] = ratio(med(name), med("file -b"))
            ratios[f"kimage lint -j {cores} / kimage lint -j 1 ({unit})"] = ratio(
                med(f"kimage lint -j {cores}"), med("kimage lint -j 1"))
            ratios[f"{DEFAULT} / kimage lint -j 1 ({unit})"] = ratio(
                med(DEFAULT), med("kimage lint -j 1"))
        entry = {"files": n, "bytes": sum(p.stat().st_size for p in paths),
                 "rounds": set_rounds, "commands": table, "ratios": ratios}
        if n == max(sizes) or n >= 10_000:  # every large set, so none loses its figures
            entry["maxrss_kib_by_format"] = _rss_by_format(kimage, directory, workdir, cores)
            entry["maxrss_target_kib"] = 64 * 1024
        out["sets"][str(n)] = entry
        del paths
        _remove(directory)  # the 100,000-file set is most of a gigabyte (sparse)
    return out


DEFAULT = "kimage lint (default -j)"
#: Small runs: a /boot's few kernels, a build's handful of packages.
SMALL = (2, 16, 64, 256)


def small_runs(workdir: Path, rounds: int = 15) -> dict:
    """lint's default -j against -j 1 and -j <cores> on small runs (where starting
    workers may cost more than they save): sets of ``SMALL`` synthetic files and two
    real-size arm64 Images (a /boot), wall and CPU, interleaved, median of ``rounds``."""
    import os

    from corpus.materialise import excerpts, materialise

    cores = os.cpu_count() or 1
    kimage = str(VENV_BIN / "kimage")
    sets: dict[str, Path] = {}
    for n in SMALL:
        sets[f"{n} synthetic files"] = directory = workdir / f"small-{n}"
        build_set(directory, n)
    arm64 = [e for e in excerpts() if "arm64" in e.parent.name]
    if arm64:
        sets["2 real-size arm64 Images"] = directory = workdir / "small-boot"
        directory.mkdir(parents=True, exist_ok=True)
        for abi in ("50", "51"):
            materialise(arm64[0], directory / f"vmlinuz-6.1.0-{abi}-arm64")
    out: dict = {"rounds": rounds, "cores": cores, "sets": {}}
    for label, directory in sets.items():
        commands = {"kimage lint -j 1": [kimage, "lint", "-j", "1", str(directory)],
                    DEFAULT: [kimage, "lint", str(directory)],
                    f"kimage lint -j {cores}": [kimage, "lint", "-j", str(cores),
                                                str(directory)]}
        runs = interleave(commands, rounds, cwd=workdir)
        table = {name: {"wall_ms": summary([r.wall for r in rs], 1000),
                        "cpu_ms": summary([r.cpu for r in rs], 1000),
                        "exit": sorted({r.status for r in rs})} for name, rs in runs.items()}
        ratios = {f"{name} / kimage lint -j 1 ({unit})": ratio(
            table[name][key]["median"], table["kimage lint -j 1"][key]["median"])
            for name in commands if name != "kimage lint -j 1"
            for key, unit in (("wall_ms", "wall"), ("cpu_ms", "cpu"))}
        out["sets"][label] = {"commands": table, "ratios": ratios}
        _remove(directory)
    return out


FORMATS = ("text", "jsonl", "json", "sarif", "github", "gitlab", "junit")


def _rss_by_format(kimage: str, directory: Path, workdir: Path, cores: int) -> dict:
    """Peak RSS (KiB) of ``kimage lint`` over the set in each report format, -j 1 and
    the default -j (the largest of the parent and its workers, as getrusage reports
    the children's)."""
    from bench.common import spawn

    out = {}
    for fmt in FORMATS:
        for jobs in ("1", str(cores)):
            r = spawn([kimage, "lint", "-j", jobs, "--format", fmt, str(directory)],
                      cwd=workdir)
            out[f"{fmt} -j {jobs}"] = r.maxrss
    return out


#: Sets of this many files or more are linted one round (each command takes a minute).
LARGE = 100_000


def _remove(directory: Path) -> None:
    import shutil

    shutil.rmtree(directory, ignore_errors=True)


def keep_sets(new: dict, old: dict, machine: dict) -> None:
    """Into ``new`` (this run's throughput part), the sets of the throughput part of
    ``old`` (the results file as it was) that this run did not measure, each with the
    machine description it was measured on (when the file says); this run's sets get
    this run's description."""
    for entry in new["sets"].values():
        entry["machine"], entry["measured_at"] = machine, machine["date"]
    part = old.get("throughput") or {}
    # a part written before sets carried their machine: the file's machine is theirs when
    # the part was measured in the run that wrote the file
    same_run = old.get("machine", {}).get("date") == part.get("measured_at")
    for n, entry in part.get("sets", {}).items():
        if n not in new["sets"]:
            kept = dict(entry)
            kept.setdefault("machine", old.get("machine") if same_run else None)
            kept.setdefault("measured_at", part.get("measured_at"))
            new["sets"][n] = kept
            new.setdefault("kept_from_earlier_run", []).append(n)
    new["sets"] = dict(sorted(new["sets"].items(), key=lambda item: int(item[0])))
