"""One model per loader: preflight's image step is ``kimage check``'s loader verdict.

For every image of the corpus (corpus/synthetic, corpus/kernels materialised and
assembled, corpus/real materialised), the image step of ``kimage preflight --loader L``
passes exactly when ``kimage check --format json`` says L accepts the file, for L in
kexec-tools and kexec-file. Both sides are the CLI's JSON; the expected side is the
check command, run separately. The one difference, stated: a package (.deb) is refused by
preflight whatever check says of the kernel inside, because ``kexec -p`` reads the file
it is named, and check judges the kernel a package carries.
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
    checked = {d["path"]: d.get("loaders") or {} for d in json.loads(check.stdout)["images"]}
    pre = subprocess.run([sys.executable, "-c", _PREFLIGHT_ALL, str(SYSROOT),
                          *map(str, images)], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    assert pre.returncode == 0, pre.stderr[-2000:]
    return images, checked, json.loads(pre.stdout)


def test_the_corpus_is_all_there(verdicts):
    images, checked, pre = verdicts
    assert len(images) >= 90
    assert set(pre) == {str(p) for p in images}
    assert any(p.name.endswith(".deb") for p in images)
    assert any(str(p).endswith("uImage.gz") for p in images)


def test_image_step_is_checks_loader_verdict(verdicts):
    images, checked, pre = verdicts
    differ = []
    for path in map(str, images):
        for loader in LOADERS:
            said = checked.get(path, {}).get(loader, {}).get("verdict")
            want = ("fail" if path.endswith(PACKAGE_SUFFIXES) or said != "accept"
                    else "pass")
            if said is None:
                want = "unreadable"
            if pre[path][loader] != want:
                differ.append((path, loader, said, pre[path][loader]))
    assert differ == []


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
    for loader in LOADERS:
        want = "pass" if loaders[loader]["verdict"] == "accept" else "fail"
        assert got[loader] == want, (loader, loaders[loader], got)
    if codec != "none":  # arm64 kexec_file_load takes only an uncompressed Image
        assert got["kexec-file"] == "fail"  # (Linux 6.1 arch/arm64/kernel/kexec_image.c)
