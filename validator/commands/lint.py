"""kimage lint PATH... : check every kernel image in trees, each with its own config and map.

Beside ``vmlinuz-V`` / ``vmlinux-V`` (the Debian and Fedora ``/boot`` layout) it takes
``config-V`` and ``System.map-V``; beside a build tree's ``vmlinux`` or
``arch/*/boot/Image*`` it takes the tree's ``.config`` and ``System.map``. A path that
cannot be read gets a ``layer/unreadable`` result; nothing stops the run.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from validator.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from validator.commands.check import UsageError, add_check_options, build_options

ORDER = 30

#: File names lint treats as kernel images when it walks a directory.
IMAGE_PATTERNS = ("vmlinuz*", "vmlinux*", "Image", "Image.*", "zImage*", "uImage*",
                  "*.efi", "linux-image-*.deb")
NOT_IMAGES = ("*.sig", "*.sha256", "*.asc", "*.old", "vmlinux.o", "vmlinux.a",
              "vmlinux.symvers", "vmlinux.lds", "vmlinux-gdb.py")
PROGRESS_MIN = 50


def register(sub) -> None:
    p = sub.add_parser("lint", help="check every kernel image under the given paths")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="check N images at a time (0: one per CPU)")
    add_check_options(p)
    p.set_defaults(run=run)
    for action in p._actions:
        if action.dest == "format":
            action.choices = ("text", "json", "jsonl", "sarif")


def is_image_name(name: str) -> bool:
    if any(fnmatch.fnmatch(name, pattern) for pattern in NOT_IMAGES):
        return False
    return any(fnmatch.fnmatch(name, pattern) for pattern in IMAGE_PATTERNS)


def discover(paths: list[str]):
    """Every image path: given files as they are, directories walked (sorted)."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if is_image_name(name):
                        yield os.path.join(root, name)
        else:
            yield path


def companions(image: str) -> tuple[str | None, str | None]:
    """(config, System.map) that belong to ``image``, when they exist beside it."""
    p = Path(image)
    name = p.name
    for prefix in ("vmlinuz-", "vmlinux-"):
        if name.startswith(prefix):
            version = name[len(prefix):]
            return (_existing(p.parent / f"config-{version}"),
                    _existing(p.parent / f"System.map-{version}"))
    if p.parent.name == "boot" and len(p.parents) >= 4 and p.parents[2].name == "arch":
        root = p.parents[3]  # <tree>/arch/<arch>/boot/Image
    else:
        root = p.parent
    return _existing(root / ".config"), _existing(root / "System.map")


def _existing(path: Path) -> str | None:
    return str(path) if path.is_file() else None


def _check_one(item):
    """Worker: (path, args) -> an ImageResult (unreadable paths included)."""
    path, args = item
    from validator import checker
    from validator.source import InputError

    config, symbols = (None, None) if args.config or args.system_map else companions(path)
    try:
        options, _ = build_options(args, config_path=config, symbols_path=symbols)
    except UsageError as exc:  # a paired file that cannot be read
        return checker.unreadable(path, InputError(str(exc)))
    try:
        return checker.check_image(path, options)
    except InputError as exc:
        return checker.unreadable(path, exc)


def run(args) -> int:
    from validator import checker, report

    try:
        _, fail_on = build_options(args)  # validate shared options once, up front
    except UsageError as exc:
        print(f"kimage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    images = list(discover(args.paths))
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    items = [(path, args) for path in images]
    if jobs > 1 and len(items) > 1:
        pool = ProcessPoolExecutor(max_workers=jobs)
        results_iter = pool.map(_check_one, items, chunksize=max(1, len(items) // (jobs * 8)))
    else:
        pool = None
        results_iter = map(_check_one, items)
    results_iter = _progress(results_iter, len(items))
    failed = False
    results = []
    try:
        for result in results_iter:
            failed |= checker.exceeds(result, fail_on)
            if args.format == "jsonl":
                sys.stdout.write(json.dumps(report.to_dict([result])["images"][0]) + "\n")
            else:
                results.append(result)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if args.format == "json":
        sys.stdout.write(report.render_json(results) + "\n")
    elif args.format == "sarif":
        sys.stdout.write(report.render_sarif(results) + "\n")
    elif args.format == "text":
        sys.stdout.write(report.render_check_text(results) if results else "no kernel images\n")
    return EXIT_FINDINGS if failed else EXIT_OK


def _progress(iterable, total: int):
    if total < PROGRESS_MIN or not sys.stderr.isatty():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, unit="image", file=sys.stderr, leave=False)
