"""preflight's text report: the image, the host, each step with its evidence, the verdict."""

from __future__ import annotations

from validator.kdump.report import PreflightReport
from validator.units import human_size

_MARK = {"pass": "pass", "warn": "warn", "fail": "FAIL", "skip": "skip"}


def render_preflight(report: PreflightReport) -> str:
    r, h = report.image, report.host
    host_desc = f"{h.machine or 'unknown arch'}"
    if h.osrelease:
        host_desc += f" {h.osrelease}"
    lines = [f"{r.path}",
             f"  image    {r.format}"
             + (f", {r.facts['arch']} {r.facts.get('endianness') or '?'}-endian"
                if r.facts.get("arch") else "")
             + (f", {r.facts['kernel_version']}" if r.facts.get("kernel_version") else ""),
             f"  host     {h.root} ({host_desc})",
             f"  loader   {report.command}"]
    if report.initrd:
        lines.append(f"  initrd   {report.initrd['path']} ({human_size(report.initrd['size'])}"
                     f", {report.initrd['format']})")
    width = max(len(s.step) for s in report.steps)
    for s in report.steps:
        ids = f"{' '.join(s.rules)}  " if s.status in ("warn", "fail") and s.rules else ""
        lines.append(f"  {_MARK[s.status]:<4}  {s.step:<{width}}  {ids}{s.message}")
        for e in s.evidence:
            note = f"  ({e.note})" if e.note else ""
            lines.append(f"  {'':4}  {'':<{width}}    {e.file}: {e.value}{note}")
    d = report.discovery
    if d is not None:
        lines.append(f"  command  {d.command()}")
    rec = report.recommendation
    if rec is not None:
        have = (f"reserved {human_size(h.crash.size)}; " if h.crash else "")
        lines.append(f"  reserve  {have}recommend {rec.option}:")
        for what, size, why in rec.lines:
            lines.append(f"             {human_size(size):>10}  {what} ({why})")
    if len(report.decisions) > 1:
        parts = []
        for name, d in report.decisions.items():
            why = ", ".join(s.step for s in d.reasons() if s.status == d.verdict)
            parts.append(f"{name} {d.verdict}" + (f" ({why})" if why else ""))
        lines.append("  loaders  " + "; ".join(parts))
    verdict, command = report.verdict, report.command
    tail = {"pass": f"{command} would load it, and it would run",
            "warn": f"{command} would load it; see the warnings",
            "fail": "it would not load, or not run"}[verdict]
    lines.append(f"  verdict  {verdict}: {tail}")
    from validator.textsafe import escape_text  # names: no newline or escape reaches a tty
    return "\n".join(escape_text(line) for line in lines) + "\n"


def render_brief(report: PreflightReport) -> str:
    """One line for cron or a unit: verdict, loader, the deciding steps and rule IDs, and
    the recommended crashkernel= (the exit code says the rest)."""
    bad = [s for s in report.steps if s.status == report.verdict and s.status != "pass"]
    why = "; ".join(f"{s.step} {' '.join(s.rules)}".strip() for s in bad)
    rec = report.recommendation
    parts = [f"kimage preflight: {report.verdict}", report.image.path, report.command]
    if why:
        parts.append(why)
    if rec is not None:
        parts.append(f"recommend {rec.option}")
    from validator.textsafe import escape_text

    return escape_text(" | ".join(parts)) + "\n"
