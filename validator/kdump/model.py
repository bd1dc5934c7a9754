"""A preflight step and one loader's decision, and the evidence helpers the steps share."""

from __future__ import annotations

from dataclasses import dataclass, field

from validator.kdump.host import Evidence, Host
from validator.model import ImageResult

STATUSES = ("skip", "pass", "warn", "fail")
COMMAND = {"kexec-tools": "kexec -p (kexec_load)", "kexec-file": "kexec -p -s (kexec_file_load)"}


@dataclass
class Step:
    step: str
    status: str  # pass | warn | fail | skip
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    rule: str | None = None  # the finding that decides the status
    rules: list[str] = field(default_factory=list)  # every finding, when there are several

    def __post_init__(self):
        if self.rule and not self.rules:
            self.rules = [self.rule]

    def to_dict(self) -> dict:
        return {"step": self.step, "status": self.status, "message": self.message,
                "rule": self.rule, "rules": list(self.rules),
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass
class Decision:
    loader: str
    steps: list[Step]

    @property
    def verdict(self) -> str:
        worst = max((STATUSES.index(s.status) for s in self.steps), default=1)
        return {0: "pass", 1: "pass", 2: "warn", 3: "fail"}[worst]

    def reasons(self) -> list[Step]:
        return [s for s in self.steps if s.status in ("warn", "fail")]


def img_ev(name: str, value) -> Evidence:
    """An image fact as evidence; sizes and addresses in hex, page sizes in bytes."""
    big = isinstance(value, int) and not isinstance(value, bool) and value >= 0x1000
    shown = f"{value:#x}" if big and "page_size" not in name else str(value)
    return Evidence(f"image:{name}", shown)


def host_ev(host: Host, *topics: str) -> list[Evidence]:
    return [e for t in topics for e in host.evidence.get(t, [])]


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def align_down(value: int, align: int) -> int:
    return value // align * align


def elf_loads(result: ImageResult) -> list[dict]:
    for layer in result.layers:
        if layer.kind == "elf":
            return layer.details.get("loads") or []
    return []
