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
# device-tree-compiler and the foreign roots): the subset `make test` runs.
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

ALL_HOST_PKGS="qemu-user-static qemu-system-arm qemu-efi-aarch64 u-boot-qemu device-tree-compiler"
HOST_PKGS=$ALL_HOST_PKGS
case "${1:-all}" in
    all) ;;
    kexec) HOST_PKGS="qemu-user-static device-tree-compiler" ;;
    *) echo "usage: install.sh [all|kexec]" >&2; exit 2 ;;
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
for a in $ARCHES; do
    apt-cache show "kexec-tools:$a" >/dev/null 2>&1 || need_update=1
done
[ "$need_update" = 0 ] || apt_update

missing=
for p in $HOST_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    $SUDO apt-get install -y -q --no-install-recommends $missing >"$CACHE/apt-install.log" 2>&1 || {
        apt_update
        $SUDO apt-get install -y -q --no-install-recommends $missing >"$CACHE/apt-install.log" 2>&1
    }
fi

# The foreign packages: kexec-tools and the closure of its library dependencies
# (packages named lib*, zlib*, gcc-*-base; debconf and friends are not needed to run
# the binary).
closure() {
    # One recursive apt-cache call gives the whole graph; walk it from kexec-tools,
    # following library edges only.
    arch=$1
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
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
    pkgs=$(closure "$a")
    want=""
    for p in $pkgs; do
        v=$(apt-cache policy "$p:$a" | sed -n 's/^ *Candidate: //p')
        [ -n "$v" ] && [ "$v" != "(none)" ] || { echo "install.sh: no candidate for $p:$a" >&2; exit 1; }
        want="$want $p:$a=$v"
    done
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        continue
    fi
    rm -rf "$root" "$CACHE/debs/$a"
    mkdir -p "$root" "$CACHE/debs/$a"
    (cd "$CACHE/debs/$a" && apt-get download -q $want >"$CACHE/apt-download-$a.log" 2>&1)
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
    printf '\n}\n'
} >"$CACHE/versions.json.tmp"
mv "$CACHE/versions.json.tmp" "$CACHE/versions.json"
echo "install.sh: loaders ready in $CACHE (versions in $CACHE/versions.json)"
