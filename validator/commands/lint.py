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
import re
import sys
from concurrent.futures import ProcessPoolExecutor

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


def _one_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


_IMAGE = _one_pattern(IMAGE_PATTERNS)
_NOT_IMAGE = _one_pattern(NOT_IMAGES)


def is_image_name(name: str) -> bool:
    """Does a file of this name look like a kernel image (case-sensitive, as /boot is)?"""
    return _NOT_IMAGE.match(name) is None and _IMAGE.match(name) is not None


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
    parent, name = os.path.split(image)
    for prefix in ("vmlinuz-", "vmlinux-"):
        if name.startswith(prefix):
            version = name[len(prefix):]
            return (_existing(os.path.join(parent, f"config-{version}")),
                    _existing(os.path.join(parent, f"System.map-{version}")))
    root = parent
    if os.path.basename(parent) == "boot":
        arch = os.path.dirname(os.path.dirname(parent))
        if os.path.basename(arch) == "arch":
            root = os.path.dirname(arch)  # <tree>/arch/<arch>/boot/Image
    return (_existing(os.path.join(root, ".config")),
            _existing(os.path.join(root, "System.map")))


def _existing(path: str) -> str | None:
    return path if os.path.isfile(path) else None


#: The worker's command line and the options it implies without companions: set once
#: per process (``_start``), not sent and rebuilt with every image.
_WORKER: dict = {}


def _start(args) -> None:
    _WORKER.clear()
    _WORKER["args"] = args


def _check_one(path: str):
    """Worker: a path -> an ImageResult (unreadable paths included)."""
    from validator import checker
    from validator.source import InputError

    args = _WORKER["args"]
    config, symbols = (None, None) if args.config or args.system_map else companions(path)
    try:
        if config or symbols or "options" not in _WORKER:
            options, _ = build_options(args, config_path=config, symbols_path=symbols)
            if not (config or symbols):
                _WORKER["options"] = options
        else:
            options = _WORKER["options"]
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
    if jobs > 1 and len(images) > 1:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_start, initargs=(args,))
        results_iter = pool.map(_check_one, images,
                                chunksize=max(1, len(images) // (jobs * 8)))
    else:
        pool = None
        _start(args)
        results_iter = map(_check_one, images)
    results_iter = _progress(results_iter, len(images))
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
