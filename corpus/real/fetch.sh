#!/bin/sh
# Download the two Debian bookworm kernel packages behind corpus/real/ and rebuild the excerpts.
# Needs: dpkg --add-architecture arm64 && dpkg --add-architecture ppc64el && apt-get update
# (old versions remain on snapshot.debian.org if the bookworm archive has moved on).
set -eu
DIR=${1:-/tmp/realk}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
(cd "$DIR" && apt-get download linux-image-6.1.0-50-arm64:arm64=6.1.176-1 linux-image-6.1.0-50-powerpc64le:ppc64el=6.1.176-1)
python3 "$HERE/make_excerpts.py" --deb-dir "$DIR"
