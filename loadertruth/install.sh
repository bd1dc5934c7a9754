#!/bin/sh
# Install the real loaders that loadertruth runs, from Debian's archive. Idempotent.
#
#   host packages  qemu-user-static, qemu-system-arm, qemu-efi-aarch64, u-boot-qemu,
#                  device-tree-compiler (apt-get install; needs root)
#   foreign        kexec-tools:arm64 and kexec-tools:ppc64el plus the libraries they
#                  link against, fetched with `apt-get download` into $CACHE/debs and
#                  unpacked (dpkg-deb -x) into $CACHE/root-arm64 and $CACHE/root-ppc64el
#   record         $CACHE/versions.json: the exact version of every package used
#
# `install.sh kexec` installs only what kexec-tools needs (qemu-user-static,
# device-tree-compiler and the foreign roots), EDK2 for the UKI boots of make test
# (qemu-efi-aarch64; tests/test_uki_efi.py) and the test oracles (u-boot-tools,
# mkbootimg): what `make test` runs.
# `install.sh kexec-file` adds the kexec-file-kernel guest (optional, minutes): the
# aarch64 cross compiler (for the guest /init), Debian's arm64 kernel .deb (unpacked
# into $CACHE/kernel-arm64; it has no KEXEC_FILE) and a guest kernel built from
# Debian's linux-source-6.1 with KEXEC_FILE on ($CACHE/kernel-arm64-kexecfile/Image).
# `install.sh suite SUITE`: kexec-tools:arm64 of another Debian suite (see suite_root).
# `install.sh kdump-guest`: Debian 13's arm64 kernel and busybox-static for
# loadertruth/kdump_guest.py (see kdump_guest below).
# `install.sh mkbootimg`: Debian 13's mkbootimg for boot/vendor_boot v4 (see mkbootimg_root).
# `install.sh grub [SUITE]`: Debian's signed arm64 GRUB (see grub_root); `install.sh suite`
# and `install.sh` (all, kexec) unpack it too.
# CACHE defaults to build/loadertruth under the repository (git-ignored).
# REFRESH=1 re-resolves the foreign packages and re-unpacks them if a version changed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$HERE/../build/loadertruth}
mkdir -p "$CACHE/debs"
CACHE=$(cd "$CACHE" && pwd)
export DEBIAN_FRONTEND=noninteractive

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
# `make test` runs two install.sh at once (its set-up lanes): an apt-get install waits for
# the other's dpkg lock instead of failing
LOCKWAIT="-o DPkg::Lock::Timeout=600"

# `install.sh suite SUITE` (e.g. trixie, unstable): kexec-tools:arm64 of another Debian
# suite, with its library closure (and qemu-system-arm and u-boot-qemu, amd64, below), from the archive the machine's apt already uses but
# through a private apt configuration (sources, lists and cache under $CACHE/apt-SUITE;
# nothing is installed into the system, no root needed), unpacked with dpkg-deb -x into
# $CACHE/root-arm64-SUITE; versions in $CACHE/versions-SUITE.json.
# private_sources DIR SUITE: DIR/sources/debian.sources for SUITE of the archive this
# machine's apt uses (its URIs and keyring), and DIR's lists and cache directories.
private_sources() {
    mkdir -p "$1/sources" "$1/lists/partial" "$1/cache/archives/partial"
    uris=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    keyring=$(sed -n 's/^Signed-By: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
        "${uris:-http://deb.debian.org/debian}" "$2" \
        "${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}" >"$1/sources/debian.sources"
}

# pkgcache DIR: the apt option that keeps apt's package cache in DIR/pkgcache.bin. This
# machine's apt.conf.d/docker-clean sets Dir::Cache::pkgcache "", so that every apt-cache
# or apt-get call rebuilds the cache from all lists (2-5 s each here); with the file, a
# call after the first reads it (0.05 s), and apt rebuilds it whenever a list changes.
pkgcache() { echo "Dir::Cache::pkgcache=$1/pkgcache.bin"; }

# candidates SUFFIX [APT-OPTION...]: "PKG:SUFFIX=VERSION" (or "PKG=VERSION" for an empty
# SUFFIX) for every package of $PKGS, from one apt-cache policy call (each call reads the
# whole package cache: a few seconds on this machine, so never one call per package);
# exits 1 naming the first package without a candidate.
candidates() {
    sfx=$1; shift
    q=""
    for p in $PKGS; do q="$q $p${sfx:+:$sfx}"; done
    apt-cache "$@" policy $q 2>/dev/null | awk -v want="$PKGS" -v sfx="$sfx" '
        /^[^ ].*:$/ { pkg = $0; sub(/:$/, "", pkg); sub(/:.*/, "", pkg); next }
        /^ *Candidate: / { v[pkg] = $2 }
        END { n = split(want, ps, " "); out = ""
              for (i = 1; i <= n; i++) {
                  if (!(ps[i] in v) || v[ps[i]] == "(none)") {
                      printf "install.sh: no candidate for %s%s\n", ps[i], (sfx == "" ? "" : ":" sfx) > "/dev/stderr"
                      exit 1 }
                  out = out (out == "" ? "" : " ") ps[i] (sfx == "" ? "" : ":" sfx) "=" v[ps[i]] }
              print out }'
}

suite_root() {
    suite=$1
    case "$suite" in ''|*[!a-z0-9-]*) echo "install.sh suite: give a Debian suite name" >&2; exit 2 ;; esac
    d="$CACHE/apt-$suite"
    private_sources "$d" "$suite"
    set -- -o "Dir::Etc::sourceparts=$d/sources" -o Dir::Etc::sourcelist=/dev/null \
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "$(pkgcache "$d/cache")" \
        -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    root="$CACHE/root-arm64-$suite"
    qroot="$CACHE/root-amd64-$suite-qemu"
    if [ -f "$root/.installed" ] && [ -f "$qroot/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] &&
        [ "${REFRESH:-0}" != 1 ]; then grub_root "$suite"; return 0; fi
    apt-get -q "$@" update >"$d/update.log" 2>&1 || {
        echo "install.sh: apt-get update for $suite failed (see $d/update.log)" >&2; exit 1; }
    pkgs=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances kexec-tools:arm64 2>/dev/null |
        awk '/^[^ ]/ { pkg = $1; sub(/:.*/, "", pkg); next }
             /^ *\|?(Pre)?Depends: / { d = $2; sub(/:.*/, "", d)
                 if (d ~ /^(lib|zlib|gcc-.*-base)/) edges[pkg] = edges[pkg] " " d }
             END { n = 1; todo[1] = "kexec-tools"; seen["kexec-tools"] = 1; out = "kexec-tools"
                 for (i = 1; i <= n; i++) { m = split(edges[todo[i]], ds, " ")
                     for (j = 1; j <= m; j++) if (!(ds[j] in seen)) {
                         seen[ds[j]] = 1; todo[++n] = ds[j]; out = out " " ds[j] } }
                 print out }')
    want=$(PKGS=$pkgs candidates arm64 "$@") || { echo "install.sh: (in $suite)" >&2; exit 1; }
    json=""
    for pv in $want; do json="$json${json:+,}\"${pv%%:*}\": \"${pv#*=}\""; done
    rm -rf "$root" "$CACHE/debs/arm64-$suite"
    mkdir -p "$root" "$CACHE/debs/arm64-$suite"
    (cd "$CACHE/debs/arm64-$suite" && apt-get -q "$@" download $want >"$CACHE/apt-download-arm64-$suite.log" 2>&1)
    for deb in "$CACHE/debs/arm64-$suite"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    find "$root" -type l -lname '/*' | while read -r link; do
        target=$(readlink "$link")
        if [ -e "$root$target" ]; then ln -sfr "$root$target" "$link"; fi
    done
    # merged /usr (trixie on): the loader and kexec are found at /lib and /sbin
    for dir in lib sbin bin; do [ -e "$root/$dir" ] || ln -s "usr/$dir" "$root/$dir"; done
    # qemu-system-aarch64 (amd64), u-boot-qemu and qemu-efi-aarch64 (EDK2) of the suite,
    # with qemu's library closure, into root-amd64-SUITE-qemu: loadertruth starts that
    # qemu with the suite's own ld.so and libraries (loadertruth.common.qemu), for the
    # u-boot, qemu and efi loaders
    qpkgs=$(apt-cache "$@" depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances qemu-system-arm 2>/dev/null |
        awk '/^[^ ]/ { pkg = $1; sub(/:.*/, "", pkg); next }
             /^ *\|?(Pre)?Depends: / { d = $2; sub(/:.*/, "", d)
                 if (d ~ /^(lib|zlib|gcc-.*-base|qemu-system-(common|data))/) edges[pkg] = edges[pkg] " " d }
             END { n = 1; todo[1] = "qemu-system-arm"; seen["qemu-system-arm"] = 1; out = "qemu-system-arm"
                 for (i = 1; i <= n; i++) { m = split(edges[todo[i]], ds, " ")
                     for (j = 1; j <= m; j++) if (!(ds[j] in seen)) {
                         seen[ds[j]] = 1; todo[++n] = ds[j]; out = out " " ds[j] } }
                 print out }')
    host=""
    for pv in $(PKGS="qemu-system-arm u-boot-qemu qemu-efi-aarch64" candidates "" "$@"); do
        host="$host${host:+,}\"${pv%%=*}\": \"${pv#*=}\""
    done
    rm -rf "$qroot" "$CACHE/debs/qemu-$suite"
    mkdir -p "$qroot" "$CACHE/debs/qemu-$suite"
    (cd "$CACHE/debs/qemu-$suite" && apt-get -q "$@" download $qpkgs u-boot-qemu qemu-efi-aarch64 >"$CACHE/apt-download-qemu-$suite.log" 2>&1)
    for deb in "$CACHE/debs/qemu-$suite"/*.deb; do dpkg-deb -x "$deb" "$qroot"; done
    # loadertruth.efi runs QEMU_EFI.fd (-bios); the 64 MiB pflash images are not used
    rm -rf "$qroot/usr/share/AAVMF"
    printf '{"suite": "%s", "arm64": {%s}, "host": {%s}}\n' "$suite" "$json" "$host" >"$CACHE/versions-$suite.json"
    echo "$want" >"$root/.installed"
    echo "install.sh: kexec-tools, qemu-system-arm, u-boot-qemu and qemu-efi-aarch64 of $suite ready in $root, $qroot"
    grub_root "$suite"
}

# grub_root [SUITE]: Debian's signed monolithic GRUB (grub-efi-arm64-signed:arm64, the
# grubaa64.efi.signed distributions boot) of SUITE, or of the machine's own suite without
# one, unpacked (dpkg-deb -x, nothing installed) into $CACHE/root-grub[-SUITE], its
# version in .version there; loadertruth/grub.py starts it under that suite's EDK2.
grub_root() {
    gsuite=${1:-}
    groot="$CACHE/root-grub${gsuite:+-$gsuite}"
    [ -f "$groot/usr/lib/grub/arm64-efi-signed/grubaa64.efi.signed" ] && [ "${REFRESH:-0}" != 1 ] && return 0
    if [ -n "$gsuite" ]; then
        gd="$CACHE/apt-$gsuite"
        set -- -o "Dir::Etc::sourceparts=$gd/sources" -o Dir::Etc::sourcelist=/dev/null \
            -o "Dir::State::Lists=$gd/lists" -o "Dir::Cache=$gd/cache" -o "$(pkgcache "$gd/cache")" \
            -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    else
        set -- -o "$(pkgcache "$CACHE")"
    fi
    gv=$(apt-cache "$@" policy grub-efi-arm64-signed:arm64 2>/dev/null | sed -n 's/^ *Candidate: //p')
    [ -n "$gv" ] && [ "$gv" != "(none)" ] || { echo "install.sh: no grub-efi-arm64-signed:arm64 in ${gsuite:-the machine's suite}" >&2; return 1; }
    rm -rf "$groot" "$CACHE/debs/grub${gsuite:+-$gsuite}"
    mkdir -p "$groot" "$CACHE/debs/grub${gsuite:+-$gsuite}"
    (cd "$CACHE/debs/grub${gsuite:+-$gsuite}" && apt-get -q "$@" download "grub-efi-arm64-signed:arm64=$gv" >"$CACHE/apt-download-grub${gsuite:+-$gsuite}.log" 2>&1)
    dpkg-deb -x "$CACHE/debs/grub${gsuite:+-$gsuite}"/grub-efi-arm64-signed_*.deb "$groot"
    echo "$gv" >"$groot/.version"
    echo "install.sh: grub-efi-arm64-signed $gv ready in $groot"
}

# kexec-tools for amd64 (Debian's 2.0.25 on Debian 12) and the Xen libraries it links,
# unpacked into build/x86/root for loadertruth/kexec_x86.py (run under qemu-x86_64 user
# mode; these packages are only unpacked, never installed), and qemu-user-static and
# qemu-system-x86 (loadertruth/qemu_x86.py) installed when missing. A foreign host needs
# `dpkg --add-architecture amd64`.
x86_root() {
    x86="${LOADERTRUTH_X86:-$(cd "$(dirname "$0")/.." && pwd)/build/x86}"
    pkgs="kexec-tools:amd64 libxenmisc4.17:amd64 libxencall1:amd64 libxendevicemodel1:amd64 libxenevtchn1:amd64 libxenforeignmemory1:amd64 libxengnttab1:amd64 libxenhypfs1:amd64 libxenstore4:amd64 libxentoollog1:amd64 libxentoolcore1:amd64 libyajl2:amd64"
    command -v qemu-x86_64-static >/dev/null || command -v qemu-x86_64 >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y --no-install-recommends qemu-user-static
    command -v qemu-system-x86_64 >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y --no-install-recommends qemu-system-x86
    if [ -x "$x86/root/sbin/kexec" ] && [ -e "$x86/root/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17" ]; then
        echo "install.sh: kexec-tools:amd64 already in $x86/root"; return 0
    fi
    mkdir -p "$x86/debs" "$x86/root"
    (cd "$x86/debs" && apt-get -q -o "$(pkgcache "$CACHE")" download $pkgs >"$x86/apt-download.log" 2>&1)
    for deb in "$x86/debs"/*.deb; do dpkg-deb -x "$deb" "$x86/root"; done
    dpkg-deb -f "$x86"/debs/kexec-tools_*.deb Version >"$x86/kexec-tools.version"
    echo "install.sh: kexec-tools:amd64 $(cat "$x86/kexec-tools.version") ready in $x86/root"
}

# `install.sh kdump-guest`: the guest of loadertruth/kdump_guest.py, from Debian 13 (trixie)
# through the private apt configuration of `suite trixie` (which it runs first, for
# kexec-tools:arm64): linux-image-arm64's kernel (./boot only) into
# $CACHE/kdump-guest/kernel and busybox-static:arm64 into $CACHE/kdump-guest/busybox
# (dpkg-deb -x; the .debs stay in $CACHE/kdump-guest/debs for corpus/real/make_excerpts.py;
# nothing installed, no root needed); versions in
# $CACHE/kdump-guest/versions.json. qemu-system-aarch64 is the machine's.
kdump_guest() {
    suite_root trixie
    d="$CACHE/apt-trixie"
    set -- -o "Dir::Etc::sourceparts=$d/sources" -o Dir::Etc::sourcelist=/dev/null \
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "$(pkgcache "$d/cache")" \
        -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    w="$CACHE/kdump-guest"
    ls "$d"/lists/*arm64_Packages* >/dev/null 2>&1 || apt-get -q "$@" update >"$d/update.log" 2>&1
    kimg=$(apt-cache "$@" depends linux-image-arm64:arm64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-6\.[0-9.]*+deb13-arm64\).*/\1/p' | head -n1)
    [ -n "$kimg" ] || { echo "install.sh: no linux-image-arm64 in trixie" >&2; exit 1; }
    both=$(PKGS="$kimg busybox-static" candidates arm64 "$@") || exit 1
    kver=${both%% *}; kver=${kver#*=}
    bver=${both#* }; bver=${bver#*=}
    want="$kimg=$kver busybox-static=$bver"
    if [ -f "$w/.installed" ] && [ "$(cat "$w/.installed")" = "$want" ] && [ "${REFRESH:-0}" != 1 ]; then
        echo "install.sh: kdump guest ready in $w"; return 0
    fi
    rm -rf "$w/debs" "$w/kernel" "$w/busybox"
    mkdir -p "$w/debs" "$w/kernel" "$w/busybox"
    (cd "$w/debs" && apt-get -q "$@" download "$kimg:arm64=$kver" "busybox-static:arm64=$bver" \
        >"$w/apt-download.log" 2>&1)
    dpkg-deb --fsys-tarfile "$w"/debs/linux-image-*.deb | tar -x -C "$w/kernel" ./boot
    dpkg-deb -x "$w"/debs/busybox-static_*.deb "$w/busybox"
    printf '{"linux-image": "%s", "busybox-static": "%s"}\n' "$kimg $kver" "$bver" >"$w/versions.json"
    echo "$want" >"$w/.installed"
    echo "install.sh: kdump guest ($kimg $kver, busybox-static $bver) ready in $w"
}

# `install.sh riscv`: Debian's kexec-tools:riscv64 (unstable's: trixie's 2.0.29 has no
# riscv port, which came with 2.0.32) and the libc it links, fetched through a private apt
# configuration (sources, lists and cache under build/riscv/apt-unstable; nothing is
# installed into the system, no root needed for this part) and unpacked with dpkg-deb -x
# into build/riscv/root for loadertruth/kexec_riscv.py (run under qemu-riscv64 user mode);
# qemu-user-static, device-tree-compiler and qemu-system-misc (qemu-system-riscv64, for
# U-Boot booti: loadertruth/uboot_riscv.py) are installed when missing.
riscv_root() {
    rv="${LOADERTRUTH_RISCV:-$(cd "$(dirname "$0")/.." && pwd)/build/riscv}"
    command -v qemu-riscv64-static >/dev/null || command -v qemu-riscv64 >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y --no-install-recommends qemu-user-static
    command -v dtc >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y --no-install-recommends device-tree-compiler
    # U-Boot booti on riscv64 (loadertruth/uboot_riscv.py): Debian 12's qemu-system-riscv64
    # with its OpenSBI; the U-Boot itself is trixie's, from `install.sh suite trixie`
    command -v qemu-system-riscv64 >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y --no-install-recommends qemu-system-misc
    # Debian 12's u-boot-qemu (2023.01) for loadertruth/uboot_riscv.py, from the machine's
    # own archive (apt-get download; dpkg-deb -x into build/riscv/u-boot-bookworm/root)
    if [ ! -f "$rv/u-boot-bookworm/root/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin" ]; then
        mkdir -p "$rv/u-boot-bookworm"
        (cd "$rv/u-boot-bookworm" && apt-get -q -o "$(pkgcache "$CACHE")" download u-boot-qemu >download.log 2>&1) &&
            dpkg-deb -x "$rv"/u-boot-bookworm/u-boot-qemu_*.deb "$rv/u-boot-bookworm/root" ||
            echo "install.sh: u-boot-qemu (Debian 12) not unpacked; its riscv64 subset will be skipped" >&2
    fi
    if [ -x "$rv/root/usr/sbin/kexec" ] && [ "${REFRESH:-0}" != 1 ]; then
        echo "install.sh: kexec-tools:riscv64 already in $rv/root"; return 0
    fi
    d="$rv/apt-unstable"  # riscv64 lists: an architecture set of its own
    private_sources "$d" unstable
    set -- -o "Dir::Etc::sourceparts=$d/sources" -o Dir::Etc::sourcelist=/dev/null \
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "$(pkgcache "$d/cache")" \
        -o APT::Architectures::=amd64 -o APT::Architectures::=riscv64
    apt-get -q "$@" update >"$d/update.log" 2>&1 || {
        echo "install.sh: apt-get update for unstable failed (see $d/update.log)" >&2; exit 1; }
    want=$(PKGS="kexec-tools libc6 libgcc-s1" candidates riscv64 "$@") || {
        echo "install.sh: (in unstable)" >&2; exit 1; }
    rm -rf "$rv/root" "$rv/debs-kexec" "$rv/sysroot-normal" "$rv/sysroot-crash"
    mkdir -p "$rv/root" "$rv/debs-kexec"
    (cd "$rv/debs-kexec" && apt-get -q "$@" download $want >"$rv/apt-download.log" 2>&1)
    for deb in "$rv/debs-kexec"/*.deb; do dpkg-deb -x "$deb" "$rv/root"; done
    for dir in lib sbin bin; do [ -e "$rv/root/$dir" ] || ln -s "usr/$dir" "$rv/root/$dir"; done
    dpkg-deb -f "$rv"/debs-kexec/kexec-tools_*.deb Version >"$rv/kexec-tools.version"
    echo "install.sh: kexec-tools:riscv64 $(cat "$rv/kexec-tools.version") ready in $rv/root"
}

# `install.sh mkbootimg`: Debian 13's mkbootimg (1:34, writes boot image v4 and vendor_boot
# v4, which Debian 12's 1:29 cannot), apt-get download through a private apt configuration
# and dpkg-deb -x into build/android/mkbootimg-trixie (nothing installed into the system;
# it is a Python script run with the host's python3). corpus/android/make.sh uses it.
mkbootimg_root() {
    out="${ANDROID_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build/android}"
    if [ -f "$out/mkbootimg-trixie/usr/bin/mkbootimg" ] && [ "${REFRESH:-0}" != 1 ]; then return 0; fi
    # the private apt configuration of `install.sh suite trixie` (its amd64 lists, for
    # this architecture-independent package); suite_root sets d and root, so after it
    suite_root trixie
    d="$CACHE/apt-trixie"
    root="$out/mkbootimg-trixie"
    mkdir -p "$out/debs"
    set -- -o "Dir::Etc::sourceparts=$d/sources" -o Dir::Etc::sourcelist=/dev/null \
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "$(pkgcache "$d/cache")" \
        -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
    ls "$d"/lists/*amd64_Packages* >/dev/null 2>&1 || apt-get -q "$@" update >"$d/update.log" 2>&1 || {
        echo "install.sh: apt-get update for trixie failed (see $d/update.log)" >&2; exit 1; }
    v=$(apt-cache "$@" policy mkbootimg | sed -n 's/^ *Candidate: //p')
    [ -n "$v" ] && [ "$v" != "(none)" ] || { echo "install.sh: no mkbootimg in trixie" >&2; exit 1; }
    rm -f "$out"/debs/mkbootimg_*.deb
    (cd "$out/debs" && apt-get -q "$@" download "mkbootimg=$v" >"$out/apt-download.log" 2>&1)
    rm -rf "$root"
    mkdir -p "$root"
    dpkg-deb -x "$out"/debs/mkbootimg_*.deb "$root"
    echo "$v" >"$root/.version"
    echo "install.sh: mkbootimg $v of trixie ready in $root"
}

ALL_HOST_PKGS="qemu-user-static qemu-system-arm qemu-efi-aarch64 u-boot-qemu device-tree-compiler"
# kexec-file mode: the guest /init's cross compiler and the guest kernel's build
KFK_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-source-6.1 make flex bison bc qemu-system-ppc gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross"
# the independent tools the suite compares kimage with (mkimage/dumpimage, mkbootimg/
# unpack_bootimg; python3-pefile for the ukify that corpus/uki/make.sh runs); their tests
# are skipped where these are missing
ORACLE_PKGS="u-boot-tools mkbootimg python3-pefile"
HOST_PKGS=$ALL_HOST_PKGS
case "${1:-all}" in
    all) ;;
    kexec) HOST_PKGS="qemu-user-static qemu-efi-aarch64 device-tree-compiler $ORACLE_PKGS" ;;
    kexec-file) HOST_PKGS="qemu-system-arm $KFK_PKGS" ;;
    suite) suite_root "${2:-}"; exit 0 ;;
    x86) x86_root; exit 0 ;;
    kdump-guest) command -v qemu-system-aarch64 >/dev/null || $SUDO apt-get $LOCKWAIT -q install -y \
        --no-install-recommends qemu-system-arm >/dev/null; kdump_guest; exit 0 ;;
    riscv) riscv_root; exit 0 ;;
    mkbootimg) mkbootimg_root; exit 0 ;;
    grub) grub_root "${2:-}"; exit $? ;;
    *) echo "usage: install.sh [all|kexec|kexec-file|suite SUITE|x86|riscv|kdump-guest|mkbootimg|grub [SUITE]]" >&2; exit 2 ;;
esac
ARCHES="arm64 ppc64el"

apt_update() {
    # A mirror caught mid-sync answers with a hash-sum / size mismatch: retry once,
    # then go on with whatever lists we have (the checks below say if that is enough).
    $SUDO apt-get update -q >"$CACHE/apt-update.log" 2>&1 && return 0
    echo "install.sh: apt-get update failed, retrying once" >&2
    sleep 5
    $SUDO apt-get update -q >"$CACHE/apt-update.log" 2>&1 && return 0
    echo "install.sh: apt-get update failed twice (see $CACHE/apt-update.log); using the lists we have" >&2
}

need_update=0
for a in $ARCHES; do
    dpkg --print-foreign-architectures | grep -qx "$a" || { $SUDO dpkg --add-architecture "$a"; need_update=1; }
done
apt-cache -o "$(pkgcache "$CACHE")" show $(for a in $ARCHES; do printf 'kexec-tools:%s ' "$a"; done) >/dev/null 2>&1 || need_update=1
[ "$need_update" = 0 ] || apt_update

missing=
for p in $HOST_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    $SUDO apt-get $LOCKWAIT install -y -q --no-install-recommends $missing >"$CACHE/apt-install.log" 2>&1 || {
        apt_update
        $SUDO apt-get $LOCKWAIT install -y -q --no-install-recommends $missing >"$CACHE/apt-install.log" 2>&1
    }
fi

# The foreign packages: kexec-tools and the closure of its library dependencies
# (packages named lib*, zlib*, gcc-*-base; debconf and friends are not needed to run
# the binary).
closure() {
    # One recursive apt-cache call gives the whole graph; walk it from kexec-tools,
    # following library edges only.
    arch=$1
    apt-cache -o "$(pkgcache "$CACHE")" depends --recurse --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "kexec-tools:$arch" 2>/dev/null |
        awk -v want="kexec-tools" '
            /^[^ ]/ { pkg = $1; sub(/:.*/, "", pkg); next }
            /^ *\|?(Pre)?Depends: / {
                d = $2; sub(/:.*/, "", d)
                if (d ~ /^(lib|zlib|gcc-.*-base)/) edges[pkg] = edges[pkg] " " d
            }
            END {
                n = split(want, todo, " "); seen[want] = 1; out = want
                for (i = 1; i <= n; i++) {
                    m = split(edges[todo[i]], ds, " ")
                    for (j = 1; j <= m; j++)
                        if (!(ds[j] in seen)) { seen[ds[j]] = 1; todo[++n] = ds[j]; out = out " " ds[j] }
                }
                print out
            }'
}

for a in $ARCHES; do
    root="$CACHE/root-$a"
    stamp="$root/.installed"
    # already unpacked: keep it unless REFRESH=1 (resolving the closure takes a minute)
    if [ -f "$stamp" ] && [ "${REFRESH:-0}" != 1 ]; then
        continue
    fi
    want=$(PKGS=$(closure "$a") candidates "$a" -o "$(pkgcache "$CACHE")") || exit 1
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        continue
    fi
    rm -rf "$root" "$CACHE/debs/$a"
    mkdir -p "$root" "$CACHE/debs/$a"
    (cd "$CACHE/debs/$a" && apt-get -o "$(pkgcache "$CACHE")" download -q $want >"$CACHE/apt-download-$a.log" 2>&1)
    for deb in "$CACHE/debs/$a"/*.deb; do
        dpkg-deb -x "$deb" "$root"
    done
    # qemu-user resolves paths inside the -L prefix with access(), which follows an
    # absolute symlink out of the prefix (ppc64el: /lib64/ld64.so.2 ->
    # /lib/powerpc64le-linux-gnu/ld64.so.2). Make such links relative.
    find "$root" -type l -lname '/*' | while read -r link; do
        target=$(readlink "$link")
        if [ -e "$root$target" ]; then ln -sfr "$root$target" "$link"; fi
    done
    echo "$want" >"$stamp"
done

# the machine's own signed GRUB (loadertruth/grub.py; make test's GRUB subset)
grub_root || echo "install.sh: GRUB not unpacked; the grub loader will be skipped" >&2

# kexec-file mode: Debian's arm64 kernel (recorded, and runnable with
# LOADERTRUTH_KFK_KERNEL=debian: its kexec_file_load answers ENOSYS) and the guest
# kernel with KEXEC_FILE, built from Debian's source of the same upstream version.
if [ "${1:-all}" = kexec-file ]; then
    KFK_STAMP="$CACHE/kernel-arm64-kexecfile/.installed"
    kimg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-6\.1\.[^:]*-arm64\).*/\1/p' | head -n1)
    kver=$(apt-cache policy "$kimg:arm64" | sed -n 's/^ *Candidate: //p')
    srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
    want="debian-kernel=$kimg=$kver kbuild-source=linux-source-6.1=$srcver"
    if [ ! -f "$KFK_STAMP" ] || [ "$(head -n1 "$KFK_STAMP")" != "$want" ] || [ "${REFRESH:-0}" = 1 ]; then
        rm -rf "$CACHE/debs/kernel-arm64" "$CACHE/kernel-arm64" "$CACHE/kernel-arm64-kexecfile"
        mkdir -p "$CACHE/debs/kernel-arm64" "$CACHE/kernel-arm64" "$CACHE/kernel-arm64-kexecfile"
        (cd "$CACHE/debs/kernel-arm64" && apt-get download -q "$kimg:arm64=$kver" >"$CACHE/apt-download-kernel.log" 2>&1)
        dpkg-deb --fsys-tarfile "$CACHE/debs/kernel-arm64"/*.deb | tar -x -C "$CACHE/kernel-arm64" ./boot
        ksrc="$CACHE/kernel-src"
        rm -rf "$ksrc"
        mkdir -p "$ksrc"
        tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$ksrc"
        # allnoconfig plus what the guest needs: PL011 console, gzip initramfs, memfd,
        # kexec_file_load and crash dumps; no KEXEC_SIG, lockdown forced to none
        # (Debian's own: LOCK_DOWN_KERNEL_FORCE_NONE, lockdown only under EFI Secure Boot).
        cat >"$ksrc/kfk.config" <<'KCONFIG'
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_SERIAL_AMBA_PL011=y
CONFIG_SERIAL_AMBA_PL011_CONSOLE=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_DEVTMPFS=y
CONFIG_SHMEM=y
CONFIG_TMPFS=y
CONFIG_MEMFD_CREATE=y
CONFIG_KEXEC_FILE=y
CONFIG_CRASH_DUMP=y
CONFIG_DYNAMIC_DEBUG=y
CONFIG_ARM64_4K_PAGES=y
CONFIG_ARM64_VA_BITS_48=y
CONFIG_RELOCATABLE=y
CONFIG_RANDOMIZE_BASE=y
CONFIG_SECURITY=y
CONFIG_SECURITYFS=y
CONFIG_SECURITY_LOCKDOWN_LSM=y
CONFIG_SECURITY_LOCKDOWN_LSM_EARLY=y
CONFIG_LOCK_DOWN_KERNEL_FORCE_NONE=y
CONFIG_LSM="lockdown"
CONFIG_MULTIUSER=y
CONFIG_FUTEX=y
CONFIG_POSIX_TIMERS=y
KCONFIG
        (
            cd "$ksrc"/linux-source-6.1
            export ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
            make -s O=../out allnoconfig
            scripts/kconfig/merge_config.sh -m -O ../out ../out/.config ../kfk.config >/dev/null
            make -s O=../out olddefconfig
            make O=../out -j"$(nproc)" Image >"$CACHE/kernel-build.log" 2>&1
        )
        cp "$ksrc/out/arch/arm64/boot/Image" "$ksrc/out/.config" "$CACHE/kernel-arm64-kexecfile/"
        kbv=$(cat "$ksrc/out/include/config/kernel.release")
        rm -rf "$ksrc"
        printf '%s\nkbuild-kernel=%s\n' "$want" "$kbv" >"$KFK_STAMP"
    fi
    # The ppc64le pseries guest (Debian's powerpc64le kernel has no KEXEC_FILE either):
    # the same source, allnoconfig for Book3S-64 LE pseries with the hvc console.
    PPC_STAMP="$CACHE/kernel-ppc64le-kexecfile/.installed"
    want="kbuild-source-ppc64le=linux-source-6.1=$srcver"
    if [ ! -f "$PPC_STAMP" ] || [ "$(head -n1 "$PPC_STAMP")" != "$want" ] || [ "${REFRESH:-0}" = 1 ]; then
        rm -rf "$CACHE/kernel-ppc64le-kexecfile"
        mkdir -p "$CACHE/kernel-ppc64le-kexecfile"
        ksrc="$CACHE/kernel-src-ppc64le"
        rm -rf "$ksrc"
        mkdir -p "$ksrc"
        tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$ksrc"
        cat >"$ksrc/kfk.config" <<'KCONFIG'
CONFIG_PPC64=y
CONFIG_PPC_BOOK3S_64=y
CONFIG_CPU_LITTLE_ENDIAN=y
CONFIG_PPC_PSERIES=y
CONFIG_PPC_64K_PAGES=y
CONFIG_HVC_CONSOLE=y
CONFIG_PRINTK=y
CONFIG_TTY=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_BINFMT_ELF=y
CONFIG_PROC_FS=y
CONFIG_SYSFS=y
CONFIG_DEVTMPFS=y
CONFIG_SHMEM=y
CONFIG_TMPFS=y
CONFIG_MEMFD_CREATE=y
CONFIG_CRYPTO=y
CONFIG_CRYPTO_SHA256=y
CONFIG_KEXEC_FILE=y
CONFIG_CRASH_DUMP=y
CONFIG_RELOCATABLE=y
CONFIG_DYNAMIC_DEBUG=y
CONFIG_SECURITY=y
CONFIG_SECURITYFS=y
CONFIG_SECURITY_LOCKDOWN_LSM=y
CONFIG_SECURITY_LOCKDOWN_LSM_EARLY=y
CONFIG_LOCK_DOWN_KERNEL_FORCE_NONE=y
CONFIG_LSM="lockdown"
CONFIG_MULTIUSER=y
CONFIG_FUTEX=y
CONFIG_POSIX_TIMERS=y
CONFIG_PPC_DISABLE_WERROR=y
CONFIG_FRAME_WARN=2048
CONFIG_NR_CPUS=8
CONFIG_PPC_OF_BOOT_TRAMPOLINE=y
CONFIG_ALTIVEC=y
CONFIG_VSX=y
KCONFIG
        (
            cd "$ksrc"/linux-source-6.1
            export ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-
            make -s O=../out allnoconfig
            scripts/kconfig/merge_config.sh -m -O ../out ../out/.config ../kfk.config >/dev/null
            make -s O=../out olddefconfig
            make O=../out -j"$(nproc)" vmlinux >"$CACHE/kernel-build-ppc64le.log" 2>&1
        )
        cp "$ksrc/out/vmlinux" "$ksrc/out/.config" "$CACHE/kernel-ppc64le-kexecfile/"
        kbv=$(cat "$ksrc/out/include/config/kernel.release")
        rm -rf "$ksrc"
        printf '%s\nkbuild-kernel-ppc64le=%s\n' "$want" "$kbv" >"$PPC_STAMP"
    fi
fi

# versions.json: host packages (as installed) and foreign packages (as unpacked).
{
    printf '{\n  "host": {'
    sep=
    for p in $ALL_HOST_PKGS qemu-system-data; do
        v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
        [ -n "$v" ] || continue
        printf '%s\n    "%s": "%s"' "$sep" "$p" "$v"
        sep=,
    done
    printf '\n  }'
    for a in $ARCHES; do
        printf ',\n  "%s": {' "$a"
        sep=
        for pv in $(cat "$CACHE/root-$a/.installed"); do
            p=${pv%%:*}
            v=${pv#*=}
            printf '%s\n    "%s": "%s"' "$sep" "$p" "$v"
            sep=,
        done
        printf '\n  }'
    done
    if [ -f "$CACHE/kernel-arm64-kexecfile/.installed" ]; then
        printf ',\n  "kexec-file": {'
        sep=
        for kv in $(cat "$CACHE/kernel-arm64-kexecfile/.installed" "$CACHE/kernel-ppc64le-kexecfile/.installed" 2>/dev/null); do
            printf '%s\n    "%s": "%s"' "$sep" "${kv%%=*}" "${kv#*=}"
            sep=,
        done
        for p in $KFK_PKGS; do
            v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
            [ -n "$v" ] && printf ',\n    "%s": "%s"' "$p" "$v"
        done
        printf '\n  }'
    fi
    printf '\n}\n'
} >"$CACHE/versions.json.tmp"
mv "$CACHE/versions.json.tmp" "$CACHE/versions.json"
echo "install.sh: loaders ready in $CACHE (versions in $CACHE/versions.json)"
