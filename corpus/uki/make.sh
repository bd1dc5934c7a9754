#!/bin/sh
# UKIs made by the real tools from real kernels, for tests/test_uki_real.py.
#
#   corpus/uki/make.sh            # writes build/uki/out/*.efi and *.efi.inspect.json
#
# ukify and the arm64 systemd-stub come from Debian 13's systemd-ukify and
# systemd-boot-efi:arm64, downloaded through the private apt configuration of
# loadertruth/install.sh (`install.sh suite trixie` makes it) and unpacked with dpkg-deb
# into build/uki/root: nothing is installed. ukify runs with the system python3 and
# python3-pefile (Debian 12; loadertruth/install.sh kexec installs it), or with $PYTHON.
# Kernels: the Debian linux-image .deb in build/deb (a raw signed EFI-stub Image) and the
# cross-built zboot and Image.gz of corpus/kernels.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
B=$REPO/build/uki
LT=$REPO/build/loadertruth
mkdir -p "$B/debs" "$B/out" "$B/kernel"

apt_dir=$LT/apt-trixie
if [ ! -d "$apt_dir/lists" ]; then "$REPO/loadertruth/install.sh" suite trixie; fi
if [ ! -x "$B/root/usr/lib/systemd/ukify" ] || [ ! -f "$B/root/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" ]; then
    (cd "$B/debs" && apt-get -q -o "Dir::Etc::sourceparts=$apt_dir/sources" \
        -o Dir::Etc::sourcelist=/dev/null -o "Dir::State::Lists=$apt_dir/lists" \
        -o "Dir::Cache=$apt_dir/cache" -o APT::Architectures::=amd64 \
        -o APT::Architectures::=arm64 download systemd-ukify systemd-boot-efi:arm64)
    for deb in "$B"/debs/systemd-ukify_*.deb "$B"/debs/systemd-boot-efi_*_arm64.deb; do
        dpkg-deb -x "$deb" "$B/root"
    done
fi
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if /usr/bin/python3 -c 'import pefile' 2>/dev/null; then PYTHON=/usr/bin/python3
    else echo "make.sh: python3-pefile is not installed (apt-get install python3-pefile, or set PYTHON)" >&2; exit 1; fi
fi
# ukify writes a decompressed copy of an Image.gz it is given to a temporary file it
# never removes (tempfile.NamedTemporaryFile(prefix='linux-decompressed').name, then
# write_bytes): it runs with a TMPDIR of its own, removed when this script ends.
UKIFY_TMP=$(mktemp -d "$B/tmp.XXXXXX")
trap 'rm -rf "$UKIFY_TMP"' EXIT
UKIFY="env TMPDIR=$UKIFY_TMP $PYTHON $B/root/usr/lib/systemd/ukify"
STUB=$B/root/usr/lib/systemd/boot/efi/linuxaa64.efi.stub

deb=$(ls "$REPO"/build/deb/linux-image-*_arm64.deb | head -n1)
ver=$(basename "$deb" | sed 's/^linux-image-\([^_]*\)_.*/\1/')
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./boot/vmlinuz-$ver" >"$B/kernel/vmlinuz-$ver"

# an initrd: a newc cpio of one file, as any initramfs is
printf 'kimage uki test\n' >"$B/kernel/hello"
(cd "$B/kernel" && echo hello | cpio -o -H newc --quiet >"$B/kernel/initrd.img")
cat >"$B/kernel/os-release" <<'OSR'
PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
ID=debian
OSR
dtb=$LT/fixture-arm64.dtb
[ -f "$dtb" ] || dtb=

build() {  # OUT LINUX UNAME [extra ukify arguments]
    out=$1 linux=$2 uname=$3; shift 3
    $UKIFY build --efi-arch aa64 --stub "$STUB" --linux "$linux" \
        --initrd "$B/kernel/initrd.img" --cmdline "console=ttyAMA0 root=/dev/vda2 ro" \
        --os-release "@$B/kernel/os-release" --uname "$uname" "$@" --output "$B/out/$out"
}
build debian-image.efi "$B/kernel/vmlinuz-$ver" "$ver" ${dtb:+--devicetree "$dtb"}
# the cross-built kernels' release, from their banner (corpus/kernels/*/expected.json)
tiny=6.1.176
build zboot-gzip.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi" $tiny
build zboot-zstd.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-zstd/vmlinuz.efi" $tiny
build image-gz.efi "$REPO/corpus/kernels/arm64-4k-le-efi/Image.gz" $tiny
# a .uname that is not the kernel's release (uki/uname-mismatch)
build wrong-uname.efi "$REPO/corpus/kernels/arm64-4k-le-zboot-gzip/vmlinuz.efi" 6.1.0-99-arm64
for f in "$B"/out/*.efi; do
    $UKIFY --json=short inspect "$f" >"$f.inspect.json"
done
echo "make.sh: $(ls "$B"/out/*.efi | wc -l) UKIs in $B/out"

# systemd-stub by release, for tests/test_uki_efi.py: which of several sections of a name,
# and which profile, each boots. Debian 12's 252 (the system's own suites), bookworm-
# backports' 254, trixie's 257 (above) and unstable's (262 in December 2026), unpacked,
# each around the Debian kernel with
# .cmdline "base" and two joined profiles whose .cmdline is "zero" and "one". In
# stubs/NNN-dup.efi every .profile section is renamed (.notprof): three .cmdline sections
# and no profile; in stubs/NNN-zero.efi only the first, the base's own, so that profile 0
# is "zero"; stubs/NNN-prefix.efi is the -dup one with its .initrd (after .linux) renamed
# .linuxIN. Skipped, with the reason, where a stub cannot be fetched.
S=$B/stubs
mkdir -p "$S/debs"
: >"$S/build.log"
# fetch_stub SUITE DIR: that suite's systemd-boot-efi:arm64 unpacked into $S/DIR, through a
# private apt configuration ($B/apt-SUITE: the URIs and keyring of the machine's
# debian.sources); its Debian version in $S/DIR.version. Fails when it cannot.
fetch_stub() {
    a=$B/apt-$1
    mkdir -p "$a/sources" "$a/lists/partial" "$a/cache/archives/partial" "$S/debs-$1"
    sed -n '/^URIs:/p;/^Signed-By:/p' /etc/apt/sources.list.d/debian.sources | head -n 2 |
        { cat; echo "Types: deb"; echo "Suites: $1"; echo "Components: main"; } \
        >"$a/sources/debian.sources"
    o="-o Dir::Etc::sourceparts=$a/sources -o Dir::Etc::sourcelist=/dev/null -o Dir::State::Lists=$a/lists -o Dir::Cache=$a/cache -o APT::Architectures::=amd64 -o APT::Architectures::=arm64"
    apt-get -q $o update >"$a/update.log" 2>&1 &&
        (cd "$S/debs-$1" && apt-get -q $o download systemd-boot-efi:arm64 >/dev/null 2>&1) &&
        deb=$(ls "$S/debs-$1"/systemd-boot-efi_*_arm64.deb | head -n 1) &&
        dpkg-deb -x "$deb" "$S/$2" &&
        basename "$deb" | sed 's/^systemd-boot-efi_\([^_]*\)_.*/\1/' >"$S/$2.version"
}
if [ ! -f "$S/254/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" ]; then
    fetch_stub bookworm-backports 254 ||
        echo "make.sh: bookworm-backports' systemd-boot-efi 254 not fetched" >&2
fi
if [ ! -f "$S/252/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" ]; then
    { (cd "$S/debs" && apt-get -q -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 \
            download systemd-boot-efi:arm64/bookworm >/dev/null 2>&1) &&
      dpkg-deb -x "$(ls "$S"/debs/systemd-boot-efi_252*_arm64.deb | head -n 1)" "$S/252"; } ||
        echo "make.sh: Debian 12's systemd-boot-efi 252 not fetched" >&2
fi
# unstable's, whatever its release is today: its probes are named unstable-*.efi
if [ ! -f "$S/unstable/usr/lib/systemd/boot/efi/linuxaa64.efi.stub" ]; then
    fetch_stub unstable unstable || echo "make.sh: unstable's systemd-boot-efi not fetched" >&2
fi
ADDON=$B/root/usr/lib/systemd/boot/efi/addonaa64.efi.stub
for p in zero one; do
    $UKIFY build --efi-arch aa64 --stub "$ADDON" --profile "ID=$p" \
        --cmdline "console=ttyAMA0 kimage.cmdline=$p" --output "$S/profile-$p.efi" \
        >>"$S/build.log" 2>&1
done
for v in 252 254 257 unstable; do
    stub=$S/$v/usr/lib/systemd/boot/efi/linuxaa64.efi.stub
    [ "$v" = 257 ] && stub=$STUB
    [ -f "$stub" ] || continue
    $UKIFY build --efi-arch aa64 --stub "$stub" --linux "$B/kernel/vmlinuz-$ver" \
        --initrd "$B/kernel/initrd.img" --cmdline "console=ttyAMA0 kimage.cmdline=base" \
        --uname "$ver" --join-profile "$S/profile-zero.efi" --join-profile "$S/profile-one.efi" \
        --output "$S/$v-joined.efi" >>"$S/build.log" 2>&1 ||
        { echo "make.sh: stub probe $v not built (see $S/build.log)" >&2; continue; }
    $PYTHON - "$S/$v-joined.efi" "$S/$v" <<'PY'
import struct, sys
src, out = sys.argv[1:3]
data = open(src, "rb").read()
lfanew = struct.unpack_from("<I", data, 0x3C)[0]
count, opt = struct.unpack_from("<H", data, lfanew + 6)[0], struct.unpack_from("<H", data, lfanew + 20)[0]
table = lfanew + 24 + opt
marks = [table + 40 * i for i in range(count) if data[table + 40 * i:table + 40 * i + 8] == b".profile"]
for kind, renamed in (("dup", marks), ("zero", marks[:1])):
    d = bytearray(data)
    for at in renamed:
        d[at:at + 8] = b".notprof"
    open(f"{out}-{kind}.efi", "wb").write(bytes(d))
    if kind == "dup":  # and .initrd, after .linux, renamed .linuxIN
        initrd = next(table + 40 * i for i in range(count)
                      if data[table + 40 * i:table + 40 * i + 8] == b".initrd\0")
        d[initrd:initrd + 8] = b".linuxIN"
        open(f"{out}-prefix.efi", "wb").write(bytes(d))
PY
done
echo "make.sh: $(ls "$S"/*-dup.efi "$S"/*-zero.efi 2>/dev/null | wc -l) stub probes in $S"
