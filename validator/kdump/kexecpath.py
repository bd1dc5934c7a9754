"""The path the host's ``kexec -p`` takes: which syscall it tries, what each returns, the end.

``plan`` fixes, before the steps run, the kexec-tools release (``--kexec-tools``, else the
host's: validator.kdump.toolsread), the mode (``-s``/``-c``/``-a`` among the kdump tool's
arguments, else the release's default) and the image verdict each syscall's decision is
given: kexec-tools' at that release (the kexec_load path) and, for kexec_file_load, the
kernel's verdict on what kexec-tools hands it (the decompressed or unwrapped Image; or
kexec-tools refuses before the call). Both come from validator.loaders (``judge`` at the
release; validator.loaders.kexec_fallback for what joins the two calls).

``walk`` then reads the two decisions (validator.kdump.report) in the order kexec runs
them: kexec_file_load first in "auto" and "file" mode, with the errno the kernel returns
for the first refusal (ENOSYS when the running kernel lacks CONFIG_KEXEC_FILE); a
fallback to kexec_load only in "auto" mode and only for ENOSYS, EINVAL, ENOEXEC, ENOTSUP.
The last attempt's syscall is the loader preflight reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from validator.kdump.host import Evidence, Host
from validator.kdump.model import Decision, Step
from validator.kdump.rules import NO_FALLBACK
from validator.loaders import kexec_fallback as kf
from validator.loaders import kexec_tools as kt
from validator.model import ImageResult

SYSCALL = {"kexec-tools": "kexec_load", "kexec-file": "kexec_file_load"}
LOADER = {v: k for k, v in SYSCALL.items()}
MODE_LOADERS = {"load": ("kexec-tools",), "file": ("kexec-file",),
                "auto": ("kexec-file", "kexec-tools"), None: ("kexec-tools", "kexec-file")}




def build_for_distro(os_id: str | None) -> str | None:
    """The kexec-tools build the host's distribution ships (``/etc/os-release`` ID)."""
    return kt.build_for_distro(os_id) if os_id else None


@dataclass
class Tools:
    version: str | None  # upstream release
    source: str | None  # the file that told it, or "--kexec-tools"
    package: str | None = None
    build: str | None = None

    def text(self) -> str:
        if self.version is None:
            return "kexec-tools version unknown"
        said = f"{self.source}: {self.package}" if self.package else self.source
        return f"kexec-tools {self.version}" + (f" ({said})" if said else "")


@dataclass
class Attempt:
    syscall: str
    available: bool | None  # the running kernel has the syscall (None: config unknown)
    errno: str | None  # None: the call returns 0, or it was never made ("refused")
    outcome: str  # loads | fallback | final | refused
    why: str

    def to_dict(self) -> dict:
        return {"syscall": self.syscall, "available": self.available, "errno": self.errno,
                "fallback": self.outcome == "fallback", "outcome": self.outcome,
                "why": self.why}


@dataclass
class KexecPath:
    tools: Tools
    mode: str | None
    mode_why: str
    kernel: str | None
    option: str = ""  # the -s/-c/-a given, if any
    arch: str | None = None  # the image's
    verdicts: dict[str, dict] = field(default_factory=dict)  # loader -> image verdict
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def loaders(self) -> tuple[str, ...]:
        return MODE_LOADERS[self.mode]

    @property
    def loader(self) -> str | None:
        return LOADER[self.attempts[-1].syscall] if self.attempts else None

    @property
    def loads(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].outcome == "loads"

    def command(self, fallback: str) -> str:
        if not self.attempts:
            return fallback
        chain = " → ".join(f"{a.syscall}" + (f" {a.errno}" if a.errno else "")
                           for a in self.attempts[:-1])
        last = self.attempts[-1].syscall
        flag = f" {self.option}" if self.option else ""
        return (f"kexec -p{flag} ({self.tools.text().split(' (')[0]}: "
                + (f"{chain} → " if chain else "") + f"{last})")

    def to_dict(self) -> dict:
        return {"kexec_tools": {"version": self.tools.version, "source": self.tools.source,
                                "package": self.tools.package, "build": self.tools.build},
                "mode": self.mode, "mode_why": self.mode_why, "kernel": self.kernel,
                "steps": [a.to_dict() for a in self.attempts], "loader": self.loader,
                "loads": self.loads if self.attempts else None}


def plan(result: ImageResult, host: Host, tools: Tools, args: list[str]) -> KexecPath:
    """The release, the mode and the image verdict each syscall is judged with."""
    given = [a for a in args if a in kf.MODE_OPTIONS]
    if tools.version is None and not given:
        return KexecPath(tools, None, "", host.osrelease)
    version = tools.version or kt.RELEASES[-1][0]
    mode, why = kf.mode_of(version, args)
    path = KexecPath(tools, mode, why, host.osrelease, given[-1] if given else "",
                     result.facts.get("arch"))
    if tools.version is None:
        path.mode_why += f"; the release is unknown: judged as {version}, the newest modelled"
    spec = f"kexec-tools@{version}" + (f"+{tools.build}" if tools.build else "")
    load = _verdict_at(result, spec) or (result.loaders or {}).get("kexec-tools")
    if load is not None:
        path.verdicts["kexec-tools"] = load
    file_verdict = _file_verdict_at_host(result, host.osrelease)
    if file_verdict is not None and load is not None:
        layers = [layer.kind for layer in result.layers]
        zboot = next((layer.details for layer in result.layers if layer.kind == "zboot"), {})
        stop = kf.file_half(layers, result.facts.get("arch"), version, load,
                            zboot.get("compression"))
        if stop is not None:
            path.verdicts["kexec-file"] = {"verdict": "reject", "reasons": [],
                                           "notes": [stop], "before_call": True}
        else:
            reasons = kf.kernel_reasons(file_verdict, unwrapped=True)
            unwrapped = [r for r in file_verdict.get("reasons") or [] if r in kf.UNWRAPPED]
            notes = list(file_verdict.get("notes") or [])
            if unwrapped:
                notes.append(f"kexec-tools {version} unwraps it and passes the Image inside "
                             f"(the kernel alone refuses the file: {', '.join(unwrapped)})")
            path.verdicts["kexec-file"] = {"verdict": "reject" if reasons else "accept",
                                           "reasons": reasons, "notes": notes,
                                           "unwrapped": bool(unwrapped)}
    return path


def _file_verdict_at_host(result: ImageResult, osrelease: str | None) -> dict | None:
    """The kexec-file verdict for the running kernel's release where it differs from the
    newest modelled one (riscv64: no Image loader before 6.16), else the newest's."""
    import re

    newest = (result.loaders or {}).get("kexec-file")
    m = re.match(r"(\d+)\.(\d+)", osrelease or "")
    if newest is None or m is None:
        return newest
    at_host = _verdict_at(result, f"kexec-file@{m.group(1)}.{m.group(2)}")
    if at_host is None or (at_host.get("verdict"), at_host.get("reasons")) == (
            newest.get("verdict"), newest.get("reasons")):
        return newest
    return at_host


def _verdict_at(result: ImageResult, spec: str) -> dict | None:
    from validator.loaders import LoaderSpecError, judge
    from validator.rules.engine import Context

    for each in (spec, spec.partition("+")[0]):
        try:
            verdicts = judge(Context(result), result.findings, only=[each])
        except LoaderSpecError:
            continue
        v = verdicts.get(spec.partition("@")[0])
        return v.to_dict() if v is not None else None
    return None


def walk(path: KexecPath, decisions: dict[str, Decision], host: Host) -> None:
    """Fill ``path.attempts`` from the decisions, in the order kexec makes the calls."""
    if path.mode is None:
        return
    for loader in path.loaders:
        d = decisions[loader]
        steps = {s.step: s for s in d.steps}
        attempt = (_file if loader == "kexec-file" else _load)(steps, host, path)
        path.attempts.append(attempt)
        if attempt.outcome != "fallback" or path.mode != "auto":
            if attempt.outcome == "fallback":
                attempt.outcome = "final"
                attempt.why += "; -s: no fallback ('syscall kexec_file_load not available.')"
            return


def _failed(steps: dict[str, Step], name: str) -> Step | None:
    s = steps.get(name)
    return s if s is not None and s.status == "fail" else None


def _avail(host: Host, option: str) -> bool | None:
    value = host.config_value(option)
    return None if value is None else value != "n"


def _file(steps: dict[str, Step], host: Host, path: KexecPath) -> Attempt:
    avail = _avail(host, "CONFIG_KEXEC_FILE")
    verdict = path.verdicts.get("kexec-file") or {}

    def end(errno: str | None, why: str, outcome: str | None = None) -> Attempt:
        out = outcome or ("loads" if errno is None else
                          "fallback" if kf.falls_back(errno) else "final")
        return Attempt("kexec_file_load", avail, errno, out, why)

    if _failed(steps, "crash-region"):
        return end(None, "kexec dies before either call: 'Memory for crashkernel is not "
                   "reserved'", "refused")
    if verdict.get("before_call"):
        return end(None, verdict["notes"][0] + " (EFAILED: no fallback)", "refused")
    if avail is False:
        return end("ENOSYS", f"Linux {path.kernel or '?'} has no CONFIG_KEXEC_FILE")
    if host.kexec_load_disabled:
        return end("EPERM", "kexec_load_disabled is 1 (kexec_load_permitted)")
    if _failed(steps, "image"):
        errno, where = kf.errno_for(verdict.get("reasons") or [], path.arch)
        return end(errno, f"the kernel refuses the Image: {', '.join(verdict['reasons'])} "
                   f"({where})")
    for name in ("arch", "page-size"):
        if _failed(steps, name):
            return end("EINVAL", f"image_load refuses it ({name}: {steps[name].message})")
    load = steps.get("load-path")
    rules = set(load.rules) if load is not None and load.status == "fail" else set()
    if "preflight/kexec-load-limit" in rules:
        return end("EPERM", "kexec_load_limit_panic is 0 (kexec_load_permitted)")
    if "preflight/lockdown-unsigned" in rules:
        locked = host.lockdown in ("integrity", "confidentiality")
        force = host.config_value("CONFIG_KEXEC_SIG_FORCE") == "y"
        errno = ("ENODATA" if force else "EPERM" if locked else "EACCES")
        why = ("CONFIG_KEXEC_SIG_FORCE: the verifier's error for an unsigned PE "
               "(verify_pefile.c)" if force else
               f"lockdown [{host.lockdown}]: kimage_validate_signature" if locked else
               "the IMA architecture policy appraises the kexec kernel")
        return end(errno, f"unsigned: {why}")
    if _failed(steps, "fit"):
        return end("EADDRNOTAVAIL", f"no hole in the crash region ({steps['fit'].message})")
    known = "" if avail else " (if it has CONFIG_KEXEC_FILE: no kernel config was read)"
    return end(None, f"the kernel takes the Image{known}")


def _load(steps: dict[str, Step], host: Host, path: KexecPath) -> Attempt:
    avail = _avail(host, "CONFIG_KEXEC")

    def end(errno: str | None, why: str, outcome: str | None = None) -> Attempt:
        return Attempt("kexec_load", avail, errno,
                       outcome or ("loads" if errno is None else "final"), why)

    if _failed(steps, "crash-region"):
        return end(None, "kexec dies before the call: 'Memory for crashkernel is not "
                   "reserved'", "refused")
    if _failed(steps, "image"):
        return end(None, f"kexec-tools {path.tools.version or ''} refuses the file before "
                   f"the call".replace("  ", " "), "refused")
    if _failed(steps, "fit"):
        return end(None, "kexec-tools cannot place the segments in the crash region",
                   "refused")
    if avail is False:
        return end("ENOSYS", f"Linux {path.kernel or '?'} has no CONFIG_KEXEC")
    if host.kexec_load_disabled:
        return end("EPERM", "kexec_load_disabled is 1")
    load = steps.get("load-path")
    rules = set(load.rules) if load is not None and load.status == "fail" else set()
    if rules & {"preflight/lockdown-kexec-load", "preflight/kexec-load-limit"}:
        return end("EPERM", load.message)
    return end(None, "the kernel takes the segments")


def step_path(path: KexecPath, decisions: dict[str, Decision], host: Host) -> Step:
    """The ``path`` step: which calls ``kexec -p`` makes, and how it ends."""
    from validator.kdump.model import host_ev

    ev = host_ev(host, "kexec-tools", "os")
    if path.tools.source == "--kexec-tools":
        ev.append(Evidence("--kexec-tools", path.tools.version or ""))
    ev += [e for e in host_ev(host, "config") if "KEXEC" in e.value or "=" not in e.value]
    if path.mode is None:
        return Step("path", "skip",
                    "kexec-tools version unknown (no dpkg entry, no kexec binary read): "
                    "which call plain kexec -p tries first depends on it; both judged, the "
                    "better reported (give --kexec-tools VERSION)", ev)
    ev.append(Evidence("kexec mode", path.mode, path.mode_why))
    first = "kexec_file_load" if path.mode in ("auto", "file") else "kexec_load"
    how = {"auto": f"tries {first} first", "file": f"calls {first} only",
           "load": f"calls {first}"}[path.mode]
    parts = [f"{path.tools.text()}: kexec -p {how} ({path.mode_why})"]
    for a in path.attempts:
        tail = {"loads": "loads", "fallback": f"{a.errno} → falls back to kexec_load",
                "final": f"{a.errno}, final", "refused": "not called"}[a.outcome]
        parts.append(f"{a.syscall}: {a.why} → {tail}")
    message = "; ".join(parts)
    if path.loads:
        return Step("path", "pass", message, ev)
    last = path.attempts[-1] if path.attempts else None
    other = decisions.get("kexec-tools")
    if (last is not None and last.syscall == "kexec_file_load" and path.mode == "auto"
            and other is not None and other.verdict != "fail"):
        return Step("path", "fail", message + "; kexec_load would take it (add -c)", ev,
                    NO_FALLBACK)
    deciding = decisions[path.loader].reasons() if path.loader in decisions else []
    rules = [r for s in deciding if s.status == "fail" for r in s.rules]
    return Step("path", "fail", message, ev, rules[0] if rules else None, rules)
