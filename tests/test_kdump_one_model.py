"""One model per loader: preflight's image step is ``kimage check``'s loader verdict.

For every image of the corpus (corpus/synthetic, corpus/kernels materialised and
assembled, corpus/real materialised), the image step of ``kimage preflight --loader L``
passes exactly when ``kimage check --format json`` says L accepts the file, for L in
kexec-tools and kexec-file. Both sides are the CLI's JSON; the expected side is the
check command, run separately. The differences, stated:

- a package (.deb) is refused by preflight whatever check says of the kernel inside,
  because ``kexec -p`` reads the file it is named, and check judges the kernel a package
  carries;
- ``--loader kexec-file`` is ``kexec -p -s``: kexec-tools reads the file first and hands
  the kernel what is inside (horms/kexec-tools kexec/kexec.c ``do_kexec_file_load``:
  ``slurp_decompress_file``, the same ``file_type[]`` probes as kexec_load's path, a memfd
  of the result; a zboot's Image from ``pez_arm64_load``). So where check's kexec-file
  verdict refuses only the wrapper (layer/compressed, layer/zboot), preflight passes
  exactly when check's kexec-tools verdict accepts the file; on arm64 an ELF vmlinux or a
  uImage fails, whose file-mode loads refuse ("not supported in kexec_file",
  kexec-elf-arm64.c, kexec-uImage-arm64.c). The fixture host has no kexec-tools
  installed, so the newest release modelled is judged, as check's verdicts are.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus.kernels.parts import materialise_parts
from corpus.materialise import materialise
from tests.conftest import CORPUS, ROOT

SYSROOT = ROOT / "tests" / "sysroots" / "arm64-4k-crash512m"
LOADERS = ("kexec-tools", "kexec-file")
PACKAGE_SUFFIXES = (".deb",)
WRAPPERS = {"layer/compressed", "layer/zboot"}

#: Runs preflight's CLI in one process for every image and loader (as `kimage preflight
#: IMG --loader L --format json` would), printing {image: {loader: image-step status}}.
_PREFLIGHT_ALL = r"""
import contextlib, io, json, sys
from validator.cli import main
out = {}
for path in sys.argv[2:]:
    for loader in ("kexec-tools", "kexec-file"):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = main(["preflight", path, "--sysroot", sys.argv[1], "--loader", loader,
                       "--format", "json"])
        if rc == 2:
            out.setdefault(path, {})[loader] = "unreadable"
            continue
        doc = json.loads(buf.getvalue())
        step = next(s for s in doc["steps"] if s["step"] == "image")
        out.setdefault(path, {})[loader] = step["status"]
print(json.dumps(out))
"""


def _corpus_images(out: Path) -> list[Path]:
    paths = [p for p in sorted((CORPUS / "synthetic").rglob("*"))
             if p.is_file() and p.suffix not in (".json", ".md", ".py", ".txt")]
    for d in sorted((CORPUS / "kernels").iterdir()):
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            target = out / d.name / f.name.replace(".excerpt.json", "").replace(
                ".parts.json", "")
            if f.name.endswith(".excerpt.json"):
                target.parent.mkdir(parents=True, exist_ok=True)
                paths.append(materialise(f, target))
            elif f.name.endswith(".parts.json"):
                target.parent.mkdir(parents=True, exist_ok=True)
                paths.append(materialise_parts(f, target))
            elif f.name not in ("config", "symbols", "expected.json"):
                paths.append(f)
    return paths


@pytest.fixture(scope="module")
def verdicts(real_images, tmp_path_factory):
    images = _corpus_images(tmp_path_factory.mktemp("kernels")) + list(real_images.values())
    check = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "json",
                            *map(str, images)], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
    assert check.returncode in (0, 1), check.stderr
    docs = json.loads(check.stdout)["images"]
    checked = {d["path"]: d.get("loaders") or {} for d in docs}
    layers = {d["path"]: ([x["kind"] for x in d.get("layers") or []],
                          (d.get("facts") or {}).get("arch")) for d in docs}
    pre = subprocess.run([sys.executable, "-c", _PREFLIGHT_ALL, str(SYSROOT),
                          *map(str, images)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert pre.returncode == 0, pre.stderr[-2000:]
    return images, (checked, layers), json.loads(pre.stdout)


def test_the_corpus_is_all_there(verdicts):
    images, checked, pre = verdicts
    assert len(images) >= 90
    assert set(pre) == {str(p) for p in images}
    assert any(p.name.endswith(".deb") for p in images)
    assert any(str(p).endswith("uImage.gz") for p in images)


#: The release of the host's running kernel (SYSROOT/proc/sys/kernel/osrelease).
HOST_RELEASE = ".".join((SYSROOT / "proc/sys/kernel/osrelease").read_text().split(".")[:2])


def _at_release(verdict: dict, release: str, newest: str | None) -> str | None:
    """The verdict check gives for ``release``: a by_version range's when one holds it
    (kexec_file_load takes a riscv64 Image only from 6.16), else the newest's."""
    key = tuple(map(int, release.split(".")))
    for r in verdict.get("by_version") or ():
        if tuple(map(int, r["from"].split("."))) <= key <= tuple(map(int, r["to"].split("."))):
            return r["verdict"]
    return newest


def _kexec_s(loaders: dict, kinds: list[str], arch: str | None) -> str | None:
    """What ``kexec -p -s`` does where check's kexec-file verdict refuses only a wrapper
    kexec-tools takes off (see the module's docstring); None where it does not apply."""
    if arch == "arm64" and {"elf", "uimage"} & set(kinds):
        return "fail"
    reasons = set(loaders.get("kexec-file", {}).get("reasons") or ())
    if not reasons or not reasons <= WRAPPERS:
        return None
    return "pass" if loaders.get("kexec-tools", {}).get("verdict") == "accept" else "fail"


def test_image_step_is_checks_loader_verdict(verdicts):
    images, (checked, layers), pre = verdicts
    differ = []
    unwrapped = 0
    for path in map(str, images):
        for loader in LOADERS:
            said = checked.get(path, {}).get(loader, {}).get("verdict")
            if loader == "kexec-file":  # preflight judges the host kernel's release
                said = _at_release(checked.get(path, {}).get(loader, {}), HOST_RELEASE, said)
            want = ("fail" if path.endswith(PACKAGE_SUFFIXES) or said != "accept"
                    else "pass")
            if loader == "kexec-file" and not path.endswith(PACKAGE_SUFFIXES):
                via = _kexec_s(checked.get(path, {}), *layers.get(path, ([], None)))
                unwrapped += via == "pass"
                want = via or want
            if said is None:
                want = "unreadable"
            if pre[path][loader] != want:
                differ.append((path, loader, said, pre[path][loader]))
    assert differ == []
    assert unwrapped >= 3  # Image.gz and zboot files kexec -s unwraps for the kernel


def test_both_outcomes_occur_for_both_loaders(verdicts):
    """Not a vacuous equality: each loader both accepts and refuses some corpus file."""
    _, _, pre = verdicts
    for loader in LOADERS:
        seen = {v[loader] for v in pre.values()}
        assert {"pass", "fail"} <= seen, (loader, seen)


@pytest.mark.skipif(not (shutil.which("mkimage") and shutil.which("lzma")),
                    reason="needs mkimage (u-boot-tools) and lzma (xz-utils)")
@pytest.mark.parametrize("codec", ["lzma", "gzip", "none"])
def test_a_uimage_made_by_mkimage(codec, tmp_path):
    """The issue's case: a uImage with an lzma payload, made by the real tools; the two
    commands agree on it (whatever the model says), and kexec-tools' verdict is given."""
    raw = CORPUS / "synthetic/arm64/v5.8-4k-le-anywhere-efi.img"
    payload = tmp_path / "Image"
    payload.write_bytes(raw.read_bytes())
    if codec != "none":
        tool = {"lzma": ["lzma", "-k", "-f"], "gzip": ["gzip", "-k", "-f", "-n"]}[codec]
        subprocess.run([*tool, str(payload)], check=True)
        payload = Path(f"{payload}.{ {'lzma': 'lzma', 'gzip': 'gz'}[codec] }")
    image = tmp_path / f"uImage.{codec}"
    subprocess.run(["mkimage", "-A", "arm64", "-O", "linux", "-T", "kernel", "-C", codec,
                    "-a", "0x80000", "-e", "0x80000", "-n", "t", "-d", str(payload),
                    str(image)], check=True, capture_output=True)
    check = subprocess.run([sys.executable, "-m", "validator", "check", "--format", "json",
                            str(image)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    loaders = json.loads(check.stdout)["images"][0]["loaders"]
    pre = subprocess.run([sys.executable, "-c", _PREFLIGHT_ALL, str(SYSROOT), str(image)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    got = json.loads(pre.stdout)[str(image)]
    want = "pass" if loaders["kexec-tools"]["verdict"] == "accept" else "fail"
    assert got["kexec-tools"] == want, (loaders["kexec-tools"], got)
    # kexec -s: uImage_arm64_load refuses file mode ("uImage is not supported in
    # kexec_file", horms/kexec-tools kexec/arch/arm64/kexec-uImage-arm64.c, 2.0.25-2.0.32)
    assert got["kexec-file"] == "fail"
