"""One image on one host: every loader decided step by step, the better one reported.

``run(result, host)`` takes a checked image (``validator.checker.check_image``: its
``loaders`` are the verdicts the image step reports) and the host
(``validator.kdump.host.read_host``). A step passes, warns, fails or is skipped; the
verdict is the worst status. Without ``--loader`` both loaders are decided and the better
one is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from validator import __version__
from validator.kdump import steps as S
from validator.kdump.cmdline import step_command, step_discovery, step_fadump
from validator.kdump.discover import Discovery
from validator.kdump.host import Host
from validator.kdump.hostcheck import apply_malformed, initrd_step
from validator.kdump.kexecpath import KexecPath, Tools, plan, step_path, walk
from validator.kdump.model import COMMAND, Decision, Step
from validator.kdump.placement import step_fit
from validator.kdump.reserve import Recommendation, recommend, step_reservation
from validator.kdump.rules import LOADERS
from validator.kdump.signature import image_signature
from validator.model import ImageResult

SCHEMA_ID = "kimage-preflight/1"


@dataclass
class PreflightReport:
    image: ImageResult
    host: Host
    decisions: dict[str, Decision]
    chosen: str
    signature: dict
    initrd: dict | None = None
    discovery: Discovery | None = None
    recommendation: Recommendation | None = None
    path: KexecPath | None = None

    @property
    def command(self) -> str:
        """The command judged: ``kexec -p (kexec-tools 2.0.29: kexec_file_load ENOSYS →
        kexec_load)`` when the path is modelled, else the chosen loader's."""
        default = COMMAND[self.chosen]
        return self.path.command(default) if self.path is not None else default

    @property
    def verdict(self) -> str:
        return self.decisions[self.chosen].verdict

    @property
    def steps(self) -> list[Step]:
        return self.decisions[self.chosen].steps

    def to_dict(self) -> dict:
        r = self.image
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "kimage", "version": __version__},
            "image": {
                "path": r.path, "format": r.format,
                "layers": [layer.to_dict() for layer in r.layers],
                "file_size": r.file_size, "payload_size": r.payload_size,
                "facts": r.facts, "findings": [f.to_dict() for f in r.findings],
                "signature": self.signature,
            },
            "initrd": self.initrd,
            "host": self.host.to_dict(),
            "loader": self.chosen,
            "command": self.command,
            "kexec_path": self.path.to_dict() if self.path is not None else None,
            "steps": [s.to_dict() for s in self.steps],
            "loaders": {name: {"verdict": d.verdict,
                               "reasons": [{"step": s.step, "status": s.status, "rules": s.rules}
                                           for s in d.reasons()]}
                        for name, d in self.decisions.items()},
            "discovery": self.discovery.to_dict() if self.discovery else None,
            "reservation": self.recommendation.to_dict() if self.recommendation else None,
            "verdict": self.verdict,
        }


def run(result: ImageResult, host: Host, loaders: tuple[str, ...] = LOADERS,
        initrd: dict | None = None, discovery: Discovery | None = None,
        host_cpus: int | None = None, tools: Tools | None = None,
        kexec_args: list[str] | None = None) -> PreflightReport:
    """Decide for each loader the path of ``kexec -p`` needs, and report the loader of the
    call it ends with (validator.kdump.kexecpath); when the kexec-tools release and the
    mode are both unknown, decide ``loaders`` and report the best (kexec-tools first on a
    tie). ``initrd``: ``validator.kdump.initrd.probe``'s summary (with
    validator.kdump.initramfs' ``unpacked`` and ``dump_tool`` when decoded);
    ``discovery``: what the host's kdump configuration named (validator.kdump.discover),
    without IMAGE; ``tools``: the kexec-tools release; ``kexec_args``: kexec's options."""
    signature = image_signature(result)
    cmdline = discovery.cmdline if discovery else None
    path = plan(result, host, tools or Tools(None, None), list(kexec_args or ()))
    if path.mode is not None:
        loaders = path.loaders
    decisions, recs = {}, {}
    for name in loaders:
        recs[name] = recommend(result, host, name, initrd, cmdline, host_cpus)
        sig = signature
        if (path.verdicts.get(name) or {}).get("unwrapped"):
            sig = image_signature(result, unwrapped=True)
        decisions[name] = decide(result, host, name, signature=sig, initrd=initrd,
                                 discovery=discovery, recommendation=recs[name],
                                 verdict=path.verdicts.get(name))
    unjudged = discovery is not None and (discovery.kernel is None or not discovery.readable
                                         or discovery.fadump)
    if not unjudged:
        walk(path, decisions, host)
    rank = {"pass": 0, "warn": 1, "fail": 2}
    chosen = path.loader or min(
        loaders, key=lambda n: (rank[decisions[n].verdict], loaders.index(n)))
    steps = decisions[chosen].steps
    at = next((i for i, s in enumerate(steps) if s.step not in ("discovery", "command",
                                                                "fadump")), len(steps))
    step = step_path(path, decisions, host)
    if unjudged:
        step = Step("path", "skip", "fadump: kexec -p is not used" if discovery.fadump
                    else "no capture kernel to judge", step.evidence)
    apply_malformed(step, host)
    steps.insert(at, step)
    return PreflightReport(result, host, decisions, chosen, signature, initrd, discovery,
                           recs[chosen], path)


#: Steps that load with kexec -p: skipped, with the reason, when fadump is the path.
KEXEC_STEPS = ("crash-region", "fit", "reservation", "load-path", "crash-loaded")


def decide(result: ImageResult, host: Host, loader: str, initrd_size: int = 0,
           signature: dict | None = None, initrd: dict | None = None,
           discovery: Discovery | None = None,
           recommendation: Recommendation | None = None,
           verdict: dict | None = None) -> Decision:
    if signature is None:
        signature = image_signature(result)
    initrd_size = initrd["size"] if initrd else initrd_size
    steps = []
    if discovery is not None:
        steps += [step_discovery(discovery), step_command(discovery, host)]
        fadump = step_fadump(discovery)
        if fadump is not None:
            steps.append(fadump)
    steps += [
        S.step_image(result, loader, verdict),
        *([Step("initrd", *initrd_step(initrd))] if initrd else []),
        S.step_crash_region(host),
        S.step_arch(result, host, loader),
        S.step_page_size(result, host),
    ]
    if result.facts.get("arch") == "ppc64":
        steps.append(S.step_relocatable(result, host, loader))
    elif result.facts.get("arch") in ("x86_64", "x86"):
        from validator.kdump import x86

        steps.append(x86.step_relocatable(result, host, loader))
    steps += [
        step_fit(result, host, loader, initrd_size),
        step_reservation(recommendation, host),
        S.step_load_path(host, loader, signature),
        S.step_crash_loaded(host),
    ]
    for step in steps:
        apply_malformed(step, host)
    if discovery is not None and (discovery.kernel is None or not discovery.readable):
        # what the host alone decides still counts: a missing reservation, a loaded crash
        # kernel are the admin's first facts, capture kernel found or not
        keep = ("discovery", "command", "crash-region", "crash-loaded")
        steps = [s if s.step in keep else Step(s.step, "skip", "no capture kernel to judge")
                 for s in steps]
    if discovery is not None and discovery.fadump:
        steps = [Step(s.step, "skip", "fadump: kexec -p is not used", s.evidence)
                 if s.step in KEXEC_STEPS else s for s in steps]
    return Decision(loader, steps)
