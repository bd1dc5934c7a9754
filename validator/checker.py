"""decode → rules → loader verdicts → selection: one image, judged."""

from __future__ import annotations

import os

from validator import loaders
from validator.io.limits import Limits
from validator.model import ImageResult, severity_rank
from validator.pipeline import analyse
from validator.rules.engine import Context, run_checks
from validator.rules.registry import ALL_LOADERS, finding, rule

TYPE_CHECKING = False
if TYPE_CHECKING:
    from validator.io.source import InputError
    from validator.kconfig import KernelConfig
    from validator.model import Finding
    from validator.sysmap import SymbolMap
    from validator.targets import Target

rule("loader/rejects", "error",
     "a loader named with --loader would refuse the image",
     "You asked for this loader's verdict; it would not accept the image for the reasons "
     "listed (see `kimage rules` for each).",
     "validator/loaders/ (one module per loader, with the code each check mirrors)",
     ALL_LOADERS)
rule("layer/unreadable", "error",
     "the file cannot be read",
     "A missing, unreadable or too-short path cannot be a kernel image; neither can "
     "what is not a regular file (a FIFO, a device: refused before reading), a dangling "
     "symbolic link, or a directory lint cannot list.",
     "-",
     ())
rule("kimage/worker-died", "error",
     "the process checking this image ended abruptly, twice",
     "kimage lint -j N checks images in worker processes. One died while checking this "
     "image (a crash, a signal, the out-of-memory killer) and died again when the image "
     "was checked alone, in a fresh worker: the image has no result. The other images' "
     "results are complete. Check it alone with `kimage check` to see what happens.",
     "validator/commands/_lint_pool.py",
     ())


class Selection:
    """Which rules are reported (ruff-style: IDs or prefixes such as ``arm64`` or
    ``arm64/``), and per-rule severity overrides (rule ID -> severity)."""

    __slots__ = ("select", "ignore", "severity")

    def __init__(self, select: list[str] | None = None, ignore: list[str] | None = None,
                 severity: dict[str, str] | None = None) -> None:
        self.select = [] if select is None else select
        self.ignore = [] if ignore is None else ignore
        self.severity = {} if severity is None else severity

    def wants(self, rule_id: str) -> bool:
        if self.select and not any(_matches(rule_id, p) for p in self.select):
            return False
        return not any(_matches(rule_id, p) for p in self.ignore)

    def apply(self, findings: list[Finding]) -> list[Finding]:
        out = []
        for f in findings:
            if not self.wants(f.rule):
                continue
            if f.rule in self.severity:
                f.severity = self.severity[f.rule]
            out.append(f)
        return out


def _matches(rule_id: str, pattern: str) -> bool:
    pattern = pattern.strip()
    if pattern in ("ALL", "*"):
        return True
    return rule_id == pattern or rule_id.startswith(pattern.rstrip("/") + "/")


class Options:
    """What ``check_image`` is given beside the image. ``limits``: check decodes every
    stream to its end (bounded) to catch truncation and learn sizes. ``fields``: work out
    the header's fields for display (only the JSON reports show them)."""

    __slots__ = ("config", "symbols", "target", "loaders", "selection", "limits", "fields")

    def __init__(self, config: KernelConfig | None = None, symbols: SymbolMap | None = None,
                 target: Target | None = None, loaders: set[str] | None = None,
                 selection: Selection | None = None, limits: Limits | None = None,
                 fields: bool = True) -> None:
        self.config, self.symbols, self.target = config, symbols, target
        self.loaders = set() if loaders is None else loaders
        self.selection = Selection() if selection is None else selection
        self.limits = Limits(decode_all=True) if limits is None else limits
        self.fields = fields


def check_image(path: str | os.PathLike, options: Options) -> ImageResult:
    """Decode and judge one image. Raises ``InputError`` when it cannot be read."""
    result = analyse(path, options.limits, options.fields)
    config, symbols = options.config, options.symbols
    if config is None and "config" in result.companions:
        from validator import kconfig

        config = kconfig.parse(result.companions["config"].decode("utf-8", "replace"),
                               f"{result.path}:{_companion_name(result, 'config_member')}")
    if symbols is None and "system_map" in result.companions:
        symbols = _packaged_symbols(result)
    ctx = Context(result, config, symbols, options.target)
    result.findings += run_checks(ctx)
    verdicts = loaders.judge(ctx, result.findings, options.loaders or None)
    result.findings += loaders.unreported(verdicts, result.findings)
    result.loaders = {name: v.to_dict() for name, v in verdicts.items()}
    for name in sorted(options.loaders):
        v = verdicts.get(name.partition("@")[0])  # NAME or NAME@VERSION
        if v is not None and v.verdict == "reject":
            result.findings.append(finding(
                "loader/rejects", f"{name} would refuse the image: {', '.join(v.reasons)}"))
    result.findings = options.selection.apply(result.findings)
    return result


def _packaged_symbols(result: ImageResult) -> SymbolMap | None:
    """A package's System.map read as ``--system-map`` reads one (bounded;
    Debian's one-line placeholder is a map without symbols); None when it is no map."""
    from validator import sysmap

    name = f"{result.path}:{_companion_name(result, 'system_map_member')}"
    try:
        smap = sysmap.from_bytes(result.companions["system_map"], name)
    except sysmap.SymbolsError:
        return None
    return smap if smap.count or smap.comments else None


def _companion_name(result: ImageResult, key: str) -> str:
    for layer in result.layers:
        if key in layer.details:
            return layer.details[key]
    return key


def unreadable(path: str | os.PathLike, error: InputError | str,
               rule: str = "layer/unreadable") -> ImageResult:
    """The result for a path that cannot be read (lint, and check or inspect given several
    paths, report it and go on); ``rule`` says why when it is not ``layer/unreadable``."""
    return ImageResult(path=os.fspath(path), findings=[finding(rule, str(error))])


def exceeds(result: ImageResult, fail_on: str) -> bool:
    return any(severity_rank(f.severity) >= severity_rank(fail_on) for f in result.findings)
