#!/usr/bin/env bash
# Run HERE (Debian 12, with network to Debian's mirror), before a GPU run:
# collects what the GPU machine lacks into .gpudeps/ (git-ignored through
# .git/info/exclude, ~6 MB), which the device call carries.
#
# The GPU machine has the CUDA toolkit, a host compiler, CMake and ninja but
# none of the Debian libraries and no network: sentencepiece and zstd travel
# as the Debian packages' files (headers, shared and static libraries,
# pkg-config files), with nlohmann-json and doctest (headers, CMake configs)
# and pkgconf itself. tests/gpu/run.sh points CMake and pkg-config at them.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.gpudeps"
grep -qx '/.gpudeps/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpudeps/' >>"$root/.git/info/exclude"
rm -rf "$out" && mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download libsentencepiece0 libsentencepiece-dev libzstd1 libzstd-dev \
  nlohmann-json3-dev doctest-dev pkgconf-bin libpkgconf3 2>/dev/null)
for f in "$out"/debs/*.deb; do dpkg -x "$f" "$out/root"; done
rm -rf "$out/debs" "$out/root/usr/share/doc" "$out/root/usr/share/man"
du -sh "$out"
