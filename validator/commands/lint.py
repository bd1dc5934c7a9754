"""kimage lint PATH... : check every kernel image in trees, each with its own config and map.

Beside ``vmlinuz-V`` / ``vmlinux-V`` (the Debian and Fedora ``/boot`` layout) it takes
``config-V`` and ``System.map-V``; beside a build tree's ``vmlinux`` or
``arch/*/boot/Image*`` it takes the tree's ``.config`` and ``System.map``. Every image
found gets a result, in the order of discovery, whatever happens to the others: a path
that cannot be read (a FIFO, a dangling link, a subdirectory that cannot be listed) gets
a ``layer/unreadable`` result, an image whose worker process dies ``kimage/worker-died``.
A PATH that cannot be walked at all is a usage error (exit 2). See _lint_walk (what is
found), _lint_handover (when workers start, without ``-j``) and _lint_pool (how they
run).
"""

from __future__ import annotations

import os
import sys

from validator.commands import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from validator.commands._lint_walk import (  # noqa: F401  (public names of lint)
    IMAGE_PATTERNS,
    NOT_IMAGES,
    _existing,
    companions,
    generic_kind,
    is_image_name,
)
from validator.commands.check import WHOLE_RESULT, UsageError, add_check_options, build_options

ORDER = 30
PROGRESS_MIN = 50
#: Most worker processes ``-j`` may ask for.
MAX_JOBS = 1024


def register(sub) -> None:
    p = sub.add_parser("lint", help="check every kernel image under the given paths")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="a directory to walk, or a file to check whatever its name")
    p.add_argument("-j", "--jobs", default=None, metavar="N",
                   help="check N images at a time (0: one per CPU; default: one per CPU "
                        "once the images left are worth the workers; never more than there "
                        f"are images; at most {MAX_JOBS})")
    add_check_options(p)
    p.set_defaults(run=run)
    for action in p._actions:
        if action.dest == "format":
            action.choices = ("text", "json", "jsonl", "sarif", "github", "gitlab", "junit")


def cpus() -> int:
    """CPUs this process may run on (its affinity mask, as ruff counts them)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return count() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def jobs_option(text: str | None) -> int:
    """``-j N``: 0 or absent is one per CPU; raises UsageError (one line)."""
    if text is None:
        return cpus()
    try:
        value = int(text.strip(), 10)
    except ValueError:
        raise UsageError(f"-j {text}: not a number") from None
    if value < 0:
        raise UsageError(f"-j {text}: must be 0 (one per CPU) or more")
    if value > MAX_JOBS:
        raise UsageError(f"-j {text}: at most {MAX_JOBS}")
    return value or cpus()


#: The worker's command line and the options it implies without companions: set once
#: per process (``_start``), not sent and rebuilt with every image.
_WORKER: dict = {}


def _start(args, render=None) -> None:
    """Set up a process that checks images: ``render`` (format, fail_on) when its results
    are rendered where they are made (``_rendered``)."""
    _WORKER.clear()
    _WORKER["args"] = args
    if render is not None:
        _WORKER["render"] = render


class Skipped:
    """A file the walk found by a generic name alone (``*.efi``, ``boot*.img``) that is
    not what lint checks: an EFI application without a kernel, a boot sector. Reported
    on stderr, not checked."""

    __slots__ = ("path", "why")

    def __init__(self, path: str, why: str) -> None:
        self.path, self.why = path, why


def not_an_image(path: str, kind: str) -> str | None:
    """Why a file that only a generic pattern of ``kind`` names is not an image lint
    checks, or None when it is one. "efi": an EFI application ("MZ", "PE\\0\\0" at
    e_lfanew) with no header format's own magic (an arm64 or riscv64 Image's, a
    bzImage's), no zboot header and no UKI ``.linux``. "android": a file without an
    Android boot or vendor_boot magic."""
    from validator.io.source import InputError, Source
    from validator.io.views import View

    try:
        with Source(path) as source:
            view = View.whole(source)
            if kind == "android":
                from validator.formats.android import MAGIC, VENDOR_MAGIC

                return None if view.read(0, 8) in (MAGIC, VENDOR_MAGIC) else (
                    "no Android boot image (no ANDROID! or VNDRBOOT magic)")
            return None if _kernel_in_pe(view) else (
                "an EFI application that holds no kernel (no kernel header, zboot or UKI "
                ".linux)")
    except InputError:  # check says why it cannot be read
        return None
    except Exception:  # never raises (_check_one): check reports what it makes of the file
        return None


def _kernel_in_pe(view) -> bool:
    """True unless ``view`` is a PE file holding no kernel."""
    from validator import formats
    from validator.formats import zboot
    from validator.formats.uki import LINUX
    from validator.formats.uki.decoder import section_names

    names = section_names(view)  # None: no PE file
    return names is None or bool(formats.own_magic(view) or zboot.probe(view)
                                 or LINUX.encode() in names)


def _check_one(entry):
    """Worker: a _lint_walk.Entry -> an ImageResult, or with ``_WORKER["render"]`` what
    the report prints of it (see ``_rendered``), or ``Skipped``. Never raises: an
    unreadable path or companion is ``layer/unreadable``, a bug ``kimage/internal-error``."""
    kind = entry.name and entry.problem is None and generic_kind(entry.name)
    if kind and (why := not_an_image(entry.path, kind)):
        return Skipped(entry.path, why)
    result = _result(entry)
    render = _WORKER.get("render")
    if render is not None:
        from validator import checker
        from validator.commands._ci import streamed

        fmt, fail_on = render
        return streamed(result, fmt), checker.exceeds(result, fail_on)
    result.companions = {}  # not reported; not worth sending back
    if _WORKER["args"].format not in WHOLE_RESULT:
        # what only the JSON reports print: a worker's result crosses a pipe, and these
        # were half its pickle and nine tenths of its (un)pickling time
        result.header, result.derived, result.fields = {}, {}, []
    return result


def _result(entry):
    from validator import checker
    from validator.io.source import InputError

    path, pair_base = entry.path, entry.pair_base
    if entry.problem is not None:  # the walk found why it cannot be checked
        return checker.unreadable(path, entry.problem)
    args = _WORKER["args"]
    try:
        config, symbols = ((None, None) if args.config or args.system_map
                           else companions(pair_base))
        try:
            if config or symbols or "options" not in _WORKER:
                options, _ = build_options(args, config_path=config, symbols_path=symbols)
                if not (config or symbols):
                    _WORKER["options"] = options
            else:
                options = _WORKER["options"]
        except UsageError as exc:  # a paired file that cannot be read
            return checker.unreadable(path, InputError(str(exc)))
        if not (args.config or args.system_map):
            options = _split_package(pair_base, options)
        try:
            return checker.check_image(path, options)
        except InputError as exc:
            return checker.unreadable(path, exc)
    except Exception as exc:  # a bug: this image's result says so, the run goes on
        return checker.unreadable(
            path, f"{path}: kimage failed on this image: {type(exc).__name__}: {exc}",
            rule="kimage/internal-error")


def _rendered(args, fail_on: str):
    """(format, fail_on) when workers may render their results themselves: the text and
    jsonl reports printed on standard output, with no baseline to take findings out and
    none to record (``Output.each`` then prints each result as it is, rendered alone).
    A worker then sends back the report's text of an image, not the image's result."""
    if args.format not in ("text", "jsonl") or args.output or args.baseline or \
            args.write_baseline:
        return None
    return args.format, fail_on


def _split_package(path: str, options):
    """Options with the config and System.map of ``linux-base-V_*.deb`` beside a
    ``linux-binary-V_*.deb`` (Debian's Linux 7.x split: the image in one package, its
    config and map in the other), as a package's own companions are used; else
    ``options`` unchanged. A sibling that cannot be read pairs nothing."""
    parent, name = os.path.split(path)
    if not (name.startswith("linux-binary-") and name.endswith(".deb") and "_" in name):
        return options
    import glob  # only now: the readers bring dataclasses (and inspect) with them

    from validator import checker, kconfig, sysmap
    from validator.io.source import InputError

    version = name[len("linux-binary-"):].split("_", 1)[0]
    siblings = sorted(glob.glob(os.path.join(glob.escape(parent),
                                             f"linux-base-{glob.escape(version)}_*.deb")))
    base = next((s for s in reversed(siblings) if _existing(s)), None)
    if base is None:
        return options
    try:
        held = checker.analyse(base, options.limits).companions
    except InputError:
        return options
    config = symbols = None
    if "config" in held:
        config = kconfig.parse(held["config"].decode("utf-8", "replace"),
                               f"{base}:usr/lib/modules/{version}/config")
    if "system_map" in held:
        try:
            symbols = sysmap.from_bytes(held["system_map"],
                                        f"{base}:usr/lib/modules/{version}/System.map")
        except sysmap.SymbolsError:
            symbols = None
        if symbols is not None and not (symbols.count or symbols.comments):
            symbols = None
    if config is None and symbols is None:
        return options
    return checker.Options(config or options.config, symbols or options.symbols,
                           options.target, options.loaders, options.selection,
                           options.limits, options.fields)



def _died(entry):
    from validator import checker

    return checker.unreadable(
        entry.path, f"{entry.path}: the worker process checking this image ended abruptly (a "
                 f"crash, a signal or the out-of-memory killer), twice: no result",
        rule="kimage/worker-died")


def run(args) -> int:
    from validator import checker
    from validator.commands._ci import Output
    from validator.commands._lint_walk import WalkError, discover
    from validator.textsafe import escape_text

    try:
        _, fail_on = build_options(args)  # validate shared options once, up front
        jobs = jobs_option(args.jobs)
        found = discover(args.paths)
        out = Output(args, roots=args.paths, inputs=args.paths, error=UsageError,
                     fail_on=fail_on)
    except (UsageError, WalkError) as exc:
        print(f"kimage lint: {escape_text(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    for note in found.notes:
        print(f"kimage lint: {escape_text(note)}", file=sys.stderr)
    entries = found.entries
    del found
    jobs = min(jobs, len(entries) - entries.problems)
    progress = _progress(len(entries))
    results = _results(entries, jobs, args, progress, _rendered(args, fail_on),
                       adaptive=args.jobs is None)
    failed = False
    skipped = 0
    try:
        for result in results:
            if type(result) is Skipped:
                skipped += 1
                print(f"kimage lint: {escape_text(result.path)}: {result.why}: not checked",
                      file=sys.stderr)
                continue
            if type(result) is tuple:  # a worker's rendering (_rendered): print it as is
                text, exceeded = result
                failed |= exceeded
                sys.stdout.write(text)
                sys.stdout.flush()
                continue
            result = out.keep(result)  # --baseline: what it holds is not reported
            failed |= checker.exceeds(result, fail_on)
            out.each(result)  # streamed (text, jsonl) or kept for the report
    except BaseException:
        out.abandon()
        raise
    finally:
        results.close()
        if progress is not None:
            progress.close()
    if args.format == "text" and len(entries) == skipped:
        sys.stdout.write("no kernel images\n")
    return out.finish(EXIT_FINDINGS if failed else EXIT_OK, fail_on)


def _results(entries, jobs: int, args, progress, render=None, adaptive=False):
    """Every entry's result in order (an entry the walk could not check is
    ``layer/unreadable``), in worker processes, rendered there when ``render``; with
    ``adaptive``, in this process until the images left are worth the workers:
    _lint_handover."""
    import gc

    tick = progress.update if progress is not None else (lambda n: None)
    if jobs > 1 and adaptive:
        from validator.commands._lint_handover import handing_over

        _start(args)
        gc.freeze()
        checked = handing_over(_check_one, entries, jobs, initializer=_start,
                               initargs=(args, render), died=_died, tick=tick)
    elif jobs > 1:
        from validator.commands._lint_pool import ordered

        _preload()
        gc.freeze()  # what is imported now is shared with the workers, and never collected
        checked = ordered(_check_one, entries, jobs, initializer=_start,
                          initargs=(args, render), died=_died, tick=tick)
    else:  # one image, or one CPU: in this process
        _start(args)
        gc.freeze()
        checked = _ticking(map(_check_one, entries), tick)
    try:
        yield from checked
    finally:
        close = getattr(checked, "close", None)
        if close is not None:
            close()


def _ticking(results, tick):
    for result in results:
        tick(1)
        yield result


def _preload() -> None:
    """Import, before the workers are forked, what checking and rendering images needs
    (the loader models, the rules engine, the report, every format's decoder and
    generated parser): once for all of them, not once in each (a wrapper's decoder is
    needed only for a wrapped image, but a tree of them would have each worker import
    it). What cannot be imported here is left to the workers (they import it when an
    image needs it, as before)."""
    from validator import formats, import_module, loaders
    from validator.rules import engine

    try:
        import_module("validator.report")
        loaders.modules()
        engine.load_checks()
        for package in formats.packages():
            formats.part(package, "decoder")
        list(formats.unwraps())
        from validator import _kaitai

        for name in sorted(os.listdir(os.path.dirname(_kaitai.__file__))):
            if name.endswith(".py") and name != "__init__.py":
                import_module(f"validator._kaitai.{name[:-3]}")
    except ImportError:
        pass


def _progress(total: int):
    if total < PROGRESS_MIN or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    tqdm.monitor_interval = 0  # no monitor thread: the workers are forked after this
    return tqdm(total=total, unit="image", file=sys.stderr, leave=False)
