"""kimage fuzz --format F --count N --out DIR [--seed S] [--from IMAGE]: a seed corpus.

Writes N files for AFL++/libFuzzer-style fuzzers (of loaders, or of kimage itself) and
``manifest.json`` saying what each file is and which findings kimage reports for it.
Deterministic: the same format, seed and image give byte-identical files, and file i
does not depend on --count (a longer run extends a shorter one).
"""

from __future__ import annotations

import sys

from validator.commands import EXIT_OK, EXIT_USAGE

ORDER = 60
MANIFEST = "manifest.json"
FORMATS = ("arm64-image", "ppc64-head", "ppc64-elf", "arm64-elf", "elf", "efi-stub", "zboot",
           "deb", "rpm", "archpkg", "uki", "fit", "gzip", "xz", "lzma", "bzip2", "zstd", "lz4",
           "lz4-frame", "uimage", "android-boot", "android-vendor-boot", "x86-bzimage", "x86",
           "riscv64-image", "riscv64-elf", "riscv64", "foreign", "all")


def register(sub) -> None:
    p = sub.add_parser(
        "fuzz", help="write a deterministic, structure-aware seed corpus with a manifest",
        description="Write N valid and near-valid kernel images (or, with --from, field-level "
                    "mutations of a real one) and a manifest.json naming, for each file, "
                    "what it is and which findings kimage reports for it.")
    p.add_argument("--format", required=True, choices=FORMATS, metavar="F",
                   help="what to generate: " + ", ".join(FORMATS) + " (with --from: a "
                        "label for the files)")
    p.add_argument("--count", required=True, type=_count, metavar="N",
                   help="how many files to write (file i is the same whatever N is)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="directory for the files and manifest.json (created if missing)")
    p.add_argument("--seed", default="0", metavar="S",
                   help="any string or number; the same seed gives the same bytes "
                        "(default 0)")
    p.add_argument("--from", dest="source", metavar="IMAGE",
                   help="mutate the header fields of this image (through every wrapper "
                        "kimage unwraps) instead of generating from scratch")
    p.add_argument("--only", choices=("valid", "near-valid"),
                   help="only valid images or only near-valid ones (default: both, one "
                        "in three valid)")
    p.add_argument("--force", action="store_true",
                   help="overwrite files of the same names already in DIR")
    p.set_defaults(run=run)


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1 or value > 10_000_000:
        raise argparse.ArgumentTypeError("must be between 1 and 10000000")
    return value


def run(args) -> int:
    import random

    from validator import seedcorpus

    source = targets = None
    if args.source is not None:
        from validator.io.source import InputError, Source

        try:
            with Source(args.source) as src:
                if src.size > seedcorpus.MAX_INNER:
                    return _usage(f"{args.source}: {src.size} bytes; --from takes images up "
                                  f"to {seedcorpus.MAX_INNER >> 20} MiB")
                source = src.read(0, src.size)
        except InputError as exc:
            return _usage(str(exc))
        if args.only == "valid":
            return _usage("--from writes near-valid variants only; drop --only valid")
        targets = seedcorpus.image_mutations(source)
        if not targets:
            return _usage(f"{args.source}: no header kimage can mutate (an arm64 Image, a "
                          f"ppc64 head or vmlinux, in zboot, uImage, Android boot or a "
                          f"compressed stream)")
    elif args.format in seedcorpus.KINDS and args.format not in seedcorpus.available_kinds():
        return _usage(f"--format {args.format} needs a codec package that is not "
                          f"installed (zstandard or lz4)")

    def chooser(i: int):
        # Seeded per file: file i is the same whatever --count is.
        return seedcorpus.RandomChooser(random.Random(
            f"kimage-fuzz/1/{args.seed}/{args.format}/{i}"))

    width = max(5, len(str(args.count - 1)))
    names = [f"{args.format}-{i:0{width}d}" for i in range(args.count)]
    out = args.out
    try:
        return _write(args, out, names, source, targets, chooser)
    except OSError as exc:  # --out unwritable, under /proc, a full disk: one line
        where = exc.filename if exc.filename else out
        return _usage(f"{where}: cannot write: {(exc.strerror or str(exc)).lower()}")


def _write(args, out, names, source, targets, chooser) -> int:
    import hashlib
    import json
    import os

    from validator import __version__, seedcorpus

    if os.path.exists(out) and not os.path.isdir(out):
        return _usage(f"{out}: exists and is not a directory")
    if not args.force and os.path.isdir(out):
        taken = sorted(n for n in os.listdir(out) if n == MANIFEST
                       or _index(n, args.format) in range(args.count))
        if taken:
            return _usage(f"{out}: would overwrite {taken[0]}"
                          f"{f' and {len(taken) - 1} more' if len(taken) > 1 else ''}; "
                          f"use --force or another directory")
    os.makedirs(out, exist_ok=True)

    entries = []
    valid = near = 0
    for i, stem in enumerate(names):
        c = chooser(i)
        try:
            if source is not None:
                sample = seedcorpus.from_image(source, c, kind=args.format, targets=targets)
            else:
                want = {None: None, "valid": True, "near-valid": False}[args.only]
                sample = seedcorpus.generate(args.format, c, valid=want)
        except ImportError as exc:
            return _usage(f"--format {args.format}: {exc}")
        name = f"{stem}-{sample.name}.bin"
        with _create(os.path.join(out, name)) as f:
            f.write(sample.data)
        valid += sample.valid
        near += not sample.valid
        entries.append({"path": name, "size": len(sample.data),
                        "sha256": hashlib.sha256(sample.data).hexdigest(),
                        **sample.describe()})
    manifest = {
        "format": "kimage-fuzz/1",
        "tool": {"name": "kimage", "version": __version__},
        "generator": {
            "format": args.format, "seed": str(args.seed), "count": args.count,
            "only": args.only,
            "from": os.path.basename(args.source) if args.source else None,
            "from_sha256": hashlib.sha256(source).hexdigest() if source is not None else None,
        },
        "files": entries,
    }
    with _create(os.path.join(out, MANIFEST)) as f:
        f.write(json.dumps(manifest, indent=1).encode() + b"\n")
    print(f"kimage fuzz: wrote {len(entries)} files ({valid} valid, {near} near-valid) "
          f"and {MANIFEST} to {out}", file=sys.stderr)
    return EXIT_OK


def _create(path: str):
    """``path`` opened to be written from its start, created if missing: never through a
    symbolic link, never a FIFO or a device (an OSError names it), never blocking."""
    import errno
    import os
    import stat

    flags = (os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
             | os.O_CLOEXEC)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a symlink; a FIFO with no reader
            raise OSError(exc.errno, "exists and is not a regular file", path) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EEXIST, "exists and is not a regular file", path)
        os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def _index(filename: str, fmt: str) -> int:
    """The index i of a file "{fmt}-{i}-{slug}.bin" this command writes, else -1."""
    if not filename.startswith(fmt + "-"):
        return -1
    index = filename[len(fmt) + 1:].split("-", 1)[0]
    return int(index) if index.isdigit() else -1


def _usage(message: str) -> int:
    from validator.textsafe import escape_text

    print(f"kimage fuzz: {escape_text(message)}", file=sys.stderr)
    return EXIT_USAGE
