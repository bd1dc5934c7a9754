"""What corpus/real's excerpt makers share: the independent tools they run and the
evidence they record (``Evidence``), the byte ranges kept (``add_range``,
``finish_ranges``, ``dump_excerpt``), the banner and symbol searches, and
``expected.json`` (``expected_json``). Only the Python standard library is used; nothing
here uses kimage."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
from pathlib import Path

FORMAT = "kimage-excerpt/1"

SYMBOLS = [
    "_text", "_stext", "_end", "_etext", "__run_at_load", "__secondary_hold",
    "__secondary_hold_spinloop", "__secondary_hold_acknowledge", "__start", "primary_entry",
    "__efistub_efi_pe_entry", "efi_pe_entry", "_edata", "__bss_start", "__bss_stop",
    "__start_interrupts",
]

STUB_MAP_MARK = "The real System.map is in"
CERT_KEEP_MAX = 16 * 1024
BANNER_RE = re.compile(rb"^Linux version (\S+) \(.*\) #\S* .*\n$", re.S)

# Facts every kernel gets (None = not defined for that image type; see "fact_notes").
FACT_KEYS = [
    "arch", "endianness", "page_size", "placement", "text_offset", "image_size", "efi_stub",
    "relocatable", "run_at_load", "kernel_version",
]


class ToolError(RuntimeError):
    pass


def sh(cmd: str, cwd: Path) -> str:
    """Run a shell command with a C locale; return stdout (raise on failure)."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    res = subprocess.run(
        cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True, errors="replace"
    )
    if res.returncode != 0:
        raise ToolError(f"command failed ({res.returncode}): {cmd}\n{res.stderr}")
    return res.stdout


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def py1(code: str) -> str:
    """A ``python3 -c`` one-liner as a shell command (code must not contain double quotes)."""
    assert '"' not in code and "$" not in code and "`" not in code
    return f'python3 -c "{code}"'


class Evidence:
    """Runs the independent tools in the unpacked package root and records what they said."""

    def __init__(self, root: Path):
        self.root = root
        self.items: list[dict] = []

    def run(self, fact: str | list[str], cmd: str, keep: str | None = None) -> str:
        """Run ``cmd``; record it (lines matching ``keep`` only) for each fact in ``fact``."""
        out = sh(cmd, self.root)
        lines = out.rstrip("\n").splitlines()
        if keep is not None:
            lines = [ln for ln in lines if re.search(keep, ln)]
            if not lines:
                raise ToolError(f"no line matching {keep!r} in output of: {cmd}\n{out}")
        for f in [fact] if isinstance(fact, str) else fact:
            self.items.append({"fact": f, "command": cmd, "output": "\n".join(lines)})
        return out

    def add(self, fact: str | list[str], cmd: str, output: str) -> None:
        """Record the output of a command that was already run."""
        for f in [fact] if isinstance(fact, str) else fact:
            self.items.append({"fact": f, "command": cmd, "output": output})

    def kv(self, fact: str | list[str], cmd: str) -> dict[str, str]:
        """Run a one-liner printing ``key=value`` pairs; return them."""
        out = self.run(fact, cmd)
        return dict(tok.split("=", 1) for tok in out.split() if "=" in tok)


# --------------------------------------------------------------------------------------------
# byte ranges


def add_range(ranges: list[dict], data_path: Path, offset: int, length: int, why: str) -> None:
    with data_path.open("rb") as f:
        f.seek(offset)
        blob = f.read(length)
    if len(blob) != length:
        raise ValueError(f"range {offset:#x}+{length:#x} runs past the end of {data_path}")
    ranges.append({"offset": offset, "length": length, "why": why, "hex": blob.hex()})


def finish_ranges(ranges: list[dict]) -> list[dict]:
    ranges = sorted(ranges, key=lambda r: (r["offset"], r["length"]))
    out: list[dict] = []
    for r in ranges:
        if out and r["offset"] < out[-1]["offset"] + out[-1]["length"]:
            prev = out[-1]
            a = bytes.fromhex(prev["hex"])
            b = bytes.fromhex(r["hex"])
            start = prev["offset"]
            end = max(start + len(a), r["offset"] + len(b))
            merged = bytearray(end - start)
            merged[: len(a)] = a
            merged[r["offset"] - start : r["offset"] - start + len(b)] = b
            prev.update(
                length=len(merged), why=prev["why"] + "; " + r["why"], hex=merged.hex()
            )
        else:
            out.append(dict(r))
    for a, b in zip(out, out[1:], strict=False):
        assert a["offset"] + a["length"] <= b["offset"]
    return out


def find_banners(ev: Evidence, rel: str, data_path: Path) -> list[dict]:
    """All full ``Linux version`` banners (grep -boa), each read up to and including its NUL."""
    out = ev.run("kernel_version", f"grep -boa 'Linux version [0-9]' {rel}")
    banners = []
    with data_path.open("rb") as f:
        for line in out.splitlines():
            off = int(line.split(":", 1)[0])
            f.seek(off)
            chunk = f.read(1024)
            nul = chunk.find(b"\0")
            if nul < 0:
                continue
            text = chunk[: nul + 1]
            m = BANNER_RE.match(text[:-1])
            if not m or b"%" in text:  # a printk format or a fragment, not the banner
                continue
            build = re.search(rb"\) #(\S*) ", text)
            banners.append(
                {
                    "offset": off,
                    "length": len(text),
                    "text": text[:-1].decode("ascii", "replace"),
                    "version": m.group(1).decode(),
                    "build": build.group(1).decode() if build else "",
                }
            )
    if not banners:
        raise ToolError("no full 'Linux version' banner found")
    return banners


# --------------------------------------------------------------------------------------------
# config / symbols helpers


def symbols_from_nm(ev: Evidence, rel: str) -> list[str]:
    names = "|".join(re.escape(s) for s in SYMBOLS)
    out = ev.run(
        "symbols", f"nm -n {rel} | grep -E ' ({names})$'", keep=r"."
    )
    return out.rstrip("\n").splitlines()


def system_map_lines(root: Path, abi: str) -> tuple[list[str], bool]:
    """(subset lines, is_stub) from the package's own System.map."""
    path = root / "boot" / f"System.map-{abi}"
    if not path.exists():
        return [], True
    text = path.read_text(errors="replace")
    if STUB_MAP_MARK in text and len(text.splitlines()) <= 2:
        return [], True
    want = set(SYMBOLS)
    return [ln for ln in text.splitlines() if ln.split()[-1:] and ln.split()[-1] in want], False


Result = tuple[list[dict], dict, dict, list[str], str]


def u32_at(path: Path, off: int, endianness: str) -> int:
    with path.open("rb") as f:
        f.seek(off)
        return struct.unpack(("<" if endianness == "little" else ">") + "I", f.read(4))[0]


FACT_NOTES = {
    "arm64": {
        "run_at_load": "null: ppc64-only field",
        "relocatable": "from CONFIG_RELOCATABLE in the package config (not visible in the header)",
        "size_of_image": "python struct on the PE optional header (objdump -p shown as a check)",
        "pe_machine": "python struct on the COFF header",
    },
    "ppc64": {
        "placement": "null: arm64-only field",
        "text_offset": "null: arm64-only field",
        "image_size": "null: no such header field in a ppc64 vmlinux "
        "(see observations.pt_load_memsz)",
        "elf_machine": "e_machine number (readelf name in observations.elf_machine_name)",
        "elf_type": "e_type number (readelf name in observations.elf_type_name)",
        "page_size": "from CONFIG_PPC_*K_PAGES in the package config",
        "relocatable": "from CONFIG_RELOCATABLE in the package config",
    },
}


def grep_lines(text: str, pat: str) -> str:
    return "\n".join(ln for ln in text.splitlines() if re.search(pat, ln))


def expected_json(ev: Evidence, facts: dict, obs: dict, extra: list[str]) -> str:
    keys = FACT_KEYS + extra
    missing = set(facts) - set(keys)
    assert not missing, missing
    ordered = {k: facts.get(k) for k in keys}
    arch = ordered["arch"]
    for k in keys:
        if not any(it["fact"] == k for it in ev.items):
            if ordered[k] is None:
                continue
            raise AssertionError(f"fact {k} has no evidence")
    tools = {}
    for name, cmd in (("file", "file --version"), ("readelf", "readelf --version"),
                      ("nm", "nm --version"), ("od", "od --version"),
                      ("python3", "python3 --version")):
        try:
            tools[name] = sh(cmd, ev.root).splitlines()[0]
        except (ToolError, IndexError):
            tools[name] = "unknown"
    doc = {
        "facts": ordered,
        "fact_notes": FACT_NOTES[arch],
        "observations": obs,
        "evidence": ev.items,
        "tools": tools,
        "cwd": "root of the unpacked package (dpkg-deb -x PACKAGE.deb DIR; cd DIR)",
    }
    return json.dumps(doc, indent=1) + "\n"


def deb_field(deb: Path, field: str) -> str:
    return sh(f"dpkg-deb -f '{deb}' {field}", deb.parent).strip()


def dump_excerpt(excerpt: dict) -> str:
    """JSON with one range per line (stable, diff-friendly)."""
    head = json.dumps({"format": excerpt["format"], "source": excerpt["source"]}, indent=1)
    body = ",\n".join("  " + json.dumps(r) for r in excerpt["ranges"])
    return head[:-2] + ',\n "ranges": [\n' + body + "\n ]\n}\n"
