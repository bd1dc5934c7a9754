"""The seed corpus's RPMs (``validator.formats.rpm.samples``) are packages rpm reads: the
real ``rpm -qp`` (header tags) and ``rpm2cpio | cpio`` (the payload) are the oracles; and
kimage reports, on each sample and on hostile headers and payloads, the finding the
manifest promises, as one finding, never a traceback or a hang."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from validator import checker, seedcorpus
from validator.formats.rpm import writer
from validator.formats.rpm.files import GHOST
from validator.formats.rpm.header import MAX_STORE
from validator.formats.rpm.samples import RPM_MUTATIONS

HAVE_RPM = shutil.which("rpm") and shutil.which("rpm2cpio") and shutil.which("cpio")


def check(tmp_path, data: bytes, name: str = "k.rpm"):
    path = tmp_path / name
    path.write_bytes(data)
    return checker.check_image(path, checker.Options())


def rules(result) -> set[str]:
    return {f.rule for f in result.findings}


@pytest.mark.skipif(not HAVE_RPM, reason="rpm, rpm2cpio or cpio not installed "
                    "(apt-get install rpm cpio)")
@pytest.mark.parametrize("seed", range(6))
def test_a_valid_sample_is_a_package_rpm_reads(seed, tmp_path):
    sample = seedcorpus.generate("rpm", seedcorpus.RandomChooser(seed), valid=True)
    path = tmp_path / "k.rpm"
    path.write_bytes(sample.data)
    q = subprocess.run(["rpm", "-qp", "--qf", "%{NAME}|%{ARCH}|%{PAYLOADCOMPRESSOR}",
                        str(path)], capture_output=True, text=True, timeout=60)
    assert q.returncode == 0, q.stderr
    name, arch, codec = q.stdout.split("|")
    assert (arch, codec) == (sample.params["arch"], sample.params["codec"])
    verify = subprocess.run(["rpm", "-Kv", "--nosignature", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert "SHA256 digest: OK" in verify.stdout and "MD5 digest: OK" in verify.stdout
    listing = subprocess.run(f"rpm2cpio '{path}' | cpio -it --quiet", shell=True,
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    kernel = "./" + sample.params["kernel_path"]
    assert kernel in listing.stdout.split()
    # kimage: the layers rpm, the codec, cpio; the member rpm2cpio lists; the package's
    # name and architecture as rpm -qp reads them
    result = checker.check_image(path, checker.Options())
    kinds = [layer.kind for layer in result.layers]
    assert kinds[:3] == ["rpm", codec, "cpio"], kinds
    assert result.layers[0].details["package"] == name
    assert result.layers[0].details["architecture"] == arch
    assert "./" + result.layers[2].details["member"] == kernel
    assert "config" in result.companions
    assert rules(result) <= set(sample.expect) | {"layer/not-unwrapped"}, rules(result)


@pytest.mark.parametrize("mutation", sorted(RPM_MUTATIONS))
def test_each_mutation_gets_its_finding(mutation, tmp_path):
    for seed in range(3):
        sample = seedcorpus.KINDS["rpm"][0](seedcorpus.RandomChooser(seed), mutation)
        found = rules(check(tmp_path, sample.data))
        assert set(RPM_MUTATIONS[mutation][0]) <= found, (mutation, seed, found)


def _kernel_rpm(**kw) -> bytes:
    files = [("lib/modules/6.1/vmlinuz", b"\0" * 64, 0), ("boot/vmlinuz-6.1", b"", GHOST)]
    return writer.package("kernel-core", "6.1", "1", "x86_64", files, "gzip", **kw)


def test_a_ghost_kernel_alone_is_no_kernel(tmp_path):
    files = [("boot/vmlinuz-6.1", b"", GHOST), ("lib/modules/6.1/config", b"x\n", 0)]
    data = writer.package("kernel-core", "6.1", "1", "x86_64", files, "xz")
    assert "rpm/no-kernel" in rules(check(tmp_path, data))


def test_a_store_larger_than_kimage_reads_is_refused_before_reading(tmp_path):
    data = bytearray(_kernel_rpm())
    sig_end = 96 + 16 + struct.unpack_from(">I", data, 104)[0] * 16 + struct.unpack_from(
        ">I", data, 108)[0]
    sig_end += -sig_end % 8
    struct.pack_into(">I", data, sig_end + 12, MAX_STORE + 1)
    result = check(tmp_path, bytes(data))
    assert [f.rule for f in result.findings if f.rule.startswith("rpm/")] == [
        "rpm/header-limit"]


@pytest.mark.parametrize("cut", [80, 96, 120, 400])
def test_a_cut_package_gives_one_finding(cut, tmp_path):
    result = check(tmp_path, _kernel_rpm()[:cut])
    assert rules(result) & {"layer/truncated", "rpm/bad-header"}, rules(result)


def test_an_entry_outside_the_store_is_a_bad_header(tmp_path):
    data = bytearray(_kernel_rpm())
    sig_end = 96 + 16 + 5 * 16 + struct.unpack_from(">I", data, 108)[0]
    sig_end += -sig_end % 8
    struct.pack_into(">i", data, sig_end + 16 + 16 + 8, 0x7FFFFFF0)  # entry 1's offset
    assert "rpm/bad-header" in rules(check(tmp_path, bytes(data)))


def test_a_hostile_cpio_name_size_is_corrupt_not_a_read(tmp_path):
    archive = bytearray(writer.cpio([("lib/modules/6.1/vmlinuz", 0o100644, b"\0" * 64)]))
    archive[6 + 8 * 11:6 + 8 * 12] = b"7FFFFFFF"  # the first member's namesize
    from validator.formats.compression.writer import compress

    data = _kernel_rpm(stream=compress("gzip", bytes(archive)))
    assert "layer/corrupt" in rules(check(tmp_path, data))


def test_a_kernel_member_of_another_size_than_the_header_lists(tmp_path):
    files = [("lib/modules/6.1/vmlinuz", b"\0" * 64, 0)]
    data = writer.package("kernel-core", "6.1", "1", "x86_64", files, "zstd",
                          payload_files=[("lib/modules/6.1/vmlinuz", b"\0" * 128)])
    assert "rpm/payload-mismatch" in rules(check(tmp_path, data))


def test_an_unknown_compressor_is_unsupported(tmp_path):
    files = [("lib/modules/6.1/vmlinuz", b"\0" * 64, 0)]
    data = writer.package("kernel-core", "6.1", "1", "x86_64", files, "gzip")
    data = data.replace(b"gzip\0", b"lzip\0", 1)
    found = rules(check(tmp_path, data))
    assert "layer/unsupported-compression" in found, found


def test_a_stripped_payload_is_read_through_the_header_file_list(tmp_path):
    """rpm's stripped archive (07070X + the file's index; sizes in LONGFILESIZES): the
    kernel is found by its index in the header's file list."""
    kernel = b"\x4d\x5a" + b"\x11" * 4094
    files = [("boot/vmlinuz-6.1", b"", GHOST), ("lib/modules/6.1/config", b"CONFIG_X=y\n", 0),
             ("lib/modules/6.1/vmlinuz", kernel, 0)]
    data = writer.package("kernel-core", "6.1", "1", "x86_64", files, "zstd", stripped=True)
    result = check(tmp_path, data)
    cpio = result.layers[2]
    assert (cpio.kind, cpio.details["member"], cpio.details["member_size"]) == (
        "cpio", "lib/modules/6.1/vmlinuz", len(kernel))
    assert result.companions["config"] == b"CONFIG_X=y\n"
    if HAVE_RPM:  # rpm reads the header it names the files by
        q = subprocess.run(["rpm", "-qpl", str(tmp_path / "k.rpm")], capture_output=True,
                           text=True, timeout=60)
        assert "/lib/modules/6.1/vmlinuz" in q.stdout.split()


def test_a_stripped_member_naming_no_file_is_corrupt(tmp_path):
    from validator.formats.compression.writer import compress

    files = [("lib/modules/6.1/vmlinuz", b"\0" * 64, 0)]
    stream = compress("zstd", writer.stripped_cpio([(7, b"\0" * 64)]))
    data = writer.package("kernel-core", "6.1", "1", "x86_64", files, "zstd", stripped=True,
                          stream=stream)
    assert "layer/corrupt" in rules(check(tmp_path, data))


def test_a_package_cut_at_its_payload_is_truncated(tmp_path):
    data = _kernel_rpm()
    payload = check(tmp_path, data).layers[0].details["payload_offset"]
    found = rules(check(tmp_path, data[:payload], "cut.rpm"))
    assert {"layer/truncated", "layer/lying-size"} <= found, found


def test_the_largest_header_kimage_reads_stays_under_64_mib(tmp_path):
    """A header whose store is just under the 8 MiB kimage reads (one BIN entry):
    read, parsed and judged with peak memory under 64 MiB (GNU time)."""
    import sys

    from validator.formats.rpm import BIN

    main = writer.header([(1000, 6, "kernel-core"), (5999, BIN, b"\xaa" * (MAX_STORE - 64))])
    sig = writer.header([(1000, 4, [len(main)])], 62)
    sig += b"\0" * (-(96 + len(sig)) % 8)
    path = tmp_path / "big.rpm"
    path.write_bytes(writer.lead("kernel-core", "x86_64") + sig + main)
    if not shutil.which("/usr/bin/time"):
        pytest.skip("GNU time not installed")
    run = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "validator",
                          "check", str(path)], capture_output=True, text=True, timeout=120)
    assert "rpm/no-kernel" in run.stdout, run.stdout  # read whole, judged
    assert int(run.stderr.strip().splitlines()[-1]) < 64 * 1024
