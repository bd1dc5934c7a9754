"""Reports: the JSON document (``kimage-report/1``; its JSON Schema is in
validator.report_schema) and plain text; SARIF is validator.sarif's.

Paths and every string that comes from an input (names inside packages, banners,
messages that quote them) are untrusted: text reports escape control characters and
undecodable bytes (validator.textsafe.escape_text); JSON and SARIF carry every string as
valid UTF-8 and a name that is not UTF-8 also as its exact bytes (``path_bytes``).
"""

from __future__ import annotations

import sys

from validator import __version__
from validator.model import Field, ImageResult
from validator.textsafe import dumps, escape_text, json_name

SCHEMA_ID = "kimage-report/1"


def to_dict(results: list[ImageResult]) -> dict:
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "kimage", "version": __version__},
        "images": [_image(r) for r in results],
    }


def _image(r: ImageResult) -> dict:
    """One image's JSON object; strings are made UTF-8-safe when dumped (textsafe.dumps)."""
    return ({
        **json_name(r.path),
        "format": r.format,
        "layers": [layer.to_dict() for layer in r.layers],
        "header_offset": r.header_offset,
        "file_size": r.file_size,
        "payload_size": r.payload_size,
        "header": r.header,
        "derived": r.derived,
        "fields": [_field(f) for f in r.fields],
        "facts": r.facts,
        "findings": [f.to_dict() for f in r.findings],
        "loaders": r.loaders,
        "verdict": r.verdict,
    })


def _field(f: Field) -> dict:
    raw = f.raw.hex() if isinstance(f.raw, bytes) else f.raw
    out = {"name": f.name, "offset": f.offset, "size": f.size, "raw": raw,
           "value": f.value, "meaning": f.meaning}
    if f.bits is not None:
        out["bits"] = f.bits
    return out


def render_json(results: list[ImageResult]) -> str:
    return dumps(to_dict(results), indent=2, sort_keys=False)


# --- text -----------------------------------------------------------------------------

def render_text(results: list[ImageResult], color: bool | None = None) -> str:
    if color is None:
        color = sys.stdout.isatty()
    return "\n".join(_text_image(r, color) for r in results)


_COLORS = {"error": "31", "warning": "33", "info": "36", "pass": "32", "warn": "33", "fail": "31"}


def _paint(text: str, key: str, color: bool) -> str:
    return f"\x1b[{_COLORS[key]}m{text}\x1b[0m" if color else text


def _text_image(r: ImageResult, color: bool) -> str:
    e = escape_text
    lines = [e(r.path), f"  format   {e(r.format)}"]
    for layer in r.layers:
        lines.append(e(f"  layer    {_layer_line(layer.to_dict())}"))
    if r.fields:
        where = f" at file offset {r.header_offset:#x}" if r.header_offset else ""
        lines.append(f"  header{where}")
        width = max(len(f.name) for f in r.fields)
        for f in r.fields:
            lines.append(e("    " + _field_line(f, width)))
    if r.facts:
        lines.append("  facts")
        width = max(len(k) for k in r.facts)
        for key, value in r.facts.items():
            lines.append(e(f"    {key:<{width}}  {_fact(key, value)}"))
    lines.append("  findings" + ("" if r.findings else "  none"))
    for f in r.findings:
        where = f" at {f.offset:#x}" if f.offset is not None else ""
        lines.append(f"    {_paint(f'{f.severity:<7}', f.severity, color)} "
                     + e(f"{f.rule}{where}: {f.message}"))
        lines.extend(_consequences(f, " " * 12))
    lines.append(f"  verdict  {_paint(r.verdict, r.verdict, color)}")
    return "\n".join(lines) + "\n"


def _libraries(libraries: list[str]) -> str:
    """A build's optional libraries for the loaders line: "zlib only", "zlib, liblzma";
    a patch it applies (GRUB's: "NAME.patch") as "patched: NAME"."""
    patches = [x.removesuffix(".patch") for x in libraries if x.endswith(".patch")]
    libraries = [x for x in libraries if not x.endswith(".patch")]
    if patches:
        said = f"patched: {', '.join(patches)}"
        return f"{said}; {_libraries(libraries)}" if libraries else said
    if not libraries:
        return "no optional library"
    return f"{libraries[0]} only" if len(libraries) == 1 else ", ".join(libraries)


def _consequences(f, indent: str) -> list[str]:
    """What follows from a root-cause finding, one ``-> rule: message`` line each under
    the finding's message."""
    return [indent + escape_text(f"-> {c.get('rule')}: {c.get('message')}")
            for c in f.consequences]


def _layer_line(d: dict) -> str:
    kind = d.pop("kind")
    for bulky in ("loads", "pe", "members", "sections"):
        d.pop(bulky, None)
    parts = [f"{k}={_fact(k, v)}" for k, v in d.items()]
    return f"{kind}: " + " ".join(parts)


def _field_line(f: Field, width: int) -> str:
    where = f"{f.offset:#06x}" + (f" bit {f.bits}" if f.bits else "")
    if isinstance(f.raw, int) and not isinstance(f.raw, bool):
        raw = f"{f.raw:#0{2 + 2 * f.size}x}" if f.bits is None else str(f.raw)
    elif isinstance(f.raw, bytes):
        raw = f.raw.hex(" ")
    elif isinstance(f.value, str) and len(f.value) > 24:
        raw = f.value[:16] + "…"
    else:
        raw = "" if f.raw is None else str(f.raw)
    return f"{where:<16} {f.name:<{width}}  {raw:<18} {f.meaning}".rstrip()


def _fact(key: str, value) -> str:
    if value is None:
        return {"compression": "none", "convention": "none recognised"}.get(key, "unknown")
    if key in ("convention", "zboot_codec"):
        from validator.conventions import describe

        return describe(value)
    if key == "vendor_ramdisks" and isinstance(value, list):
        return ",".join(f"{v.get('name') or '-'}:{v.get('type')}@{v.get('offset', 0):#x}"
                        f"+{v.get('size', 0):#x}" for v in value if isinstance(v, dict))
    if key == "page_size" and isinstance(value, int):
        return f"{value} ({value // 1024} KiB)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:#x}" if value >= 0x1000 else str(value)
    return str(value)


def render_check_text(results: list[ImageResult], color: bool | None = None) -> str:
    """The short form for check and lint: findings, loader verdicts, verdict."""
    if color is None:
        color = sys.stdout.isatty()
    e = escape_text
    blocks = []
    for r in results:
        facts = r.facts
        summary = [r.format]
        for key in ("kernel_version", "endianness", "page_size", "compression"):
            value = facts.get(key)
            if value is None:
                continue
            if key == "endianness":
                summary.append(f"{value}-endian")
            elif key == "page_size":
                summary.append(f"{value // 1024} KiB pages")
            else:
                summary.append(str(value))
        summary += [f"in {d['package']} {d.get('package_version', '')}".rstrip()
                    for d in (layer.details for layer in r.layers) if d.get("package")]
        if facts.get("convention"):
            summary.append(f"{facts['convention']} convention")
        lines = [e(f"{r.path}: {', '.join(summary)}")]
        if facts.get("zboot_codec"):
            lines.append(e(f"  zboot    {_fact('zboot_codec', facts['zboot_codec'])}"))
        width = max((len(f.rule) for f in r.findings), default=0)
        for f in r.findings:
            where = f" @{f.offset:#x}" if f.offset is not None else ""
            lines.append(f"  {_paint(f'{f.severity:<7}', f.severity, color)} "
                         + e(f"{f.rule:<{width}}  {f.message}{where}"))
            lines.extend(_consequences(f, " " * (12 + width)))
        if r.loaders:
            parts = []
            for name, v in r.loaders.items():
                mark = {"accept": "accepts", "reject": "REJECTS", "n/a": "n/a"}[v["verdict"]]
                why = f" ({', '.join(v['reasons'])})" if v["reasons"] else ""
                # NAME@VERSION when one release was asked for; else the newest release
                # and the older ranges whose verdict differs
                at = f"@{v['version']}" if "by_version" not in v and v.get("version") else ""
                if at and v.get("build") and "by_build" not in v:
                    at += f"+{v['build']}"  # NAME@VERSION+BUILD asked for
                older = "; ".join(
                    (r["from"] if r["from"] == r["to"] else f"{r['from']}\u2013{r['to']}")
                    + (" accept" if r["verdict"] == "accept" else " REJECT")
                    + (f": {', '.join(r['reasons'])}" if r["reasons"] else "")
                    for r in v.get("by_version") or ())
                parts.append(f"{name}{at} {mark}{why}" + (
                    f" at {v['version']} ({older})" if older else "") + "".join(
                    f", but {b['title']} ({_libraries(b['libraries'])}) "
                    + ("accepts" if b["verdict"] == "accept" else "REJECTS")
                    + (f": {', '.join(b['reasons'])}" if b["reasons"] else "")
                    for b in v.get("by_build") or ()))
            lines.append(e("  loaders  " + "; ".join(parts)))
        lines.append(f"  verdict  {_paint(r.verdict, r.verdict, color)}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n"
