#!/usr/bin/env bash
# Regenerates static/vendor/onnxruntime-web/ from the pinned npm package, so the latent explorer's pad runs
# its decoder in the browser with nothing fetched from the internet at run time.
#   bash scripts/vendor_web_assets.sh            (needs npm and the npm registry, gzip, and Debian's brotli;
#                                                 writes into the repo)
# Only the WebAssembly-only build is kept: the ES module API, its Emscripten loader and the SIMD wasm. Each
# file also gets a gzip (-9) and a brotli (-q 11) copy beside it, so the app serves them compressed once
# (seqgen/ui/assets.py) instead of compressing 14 MB again for every student.
set -euo pipefail

VERSION=1.30.0
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$REPO/static/vendor/onnxruntime-web"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
PKG="$WORK/package"
test "$(node -p "require('$PKG/package.json').version")" = "$VERSION"
test "$(node -p "require('$PKG/package.json').license")" = "MIT"

rm -rf "$DEST" && mkdir -p "$DEST"
for f in ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  cp "$PKG/dist/$f" "$DEST/$f"
done
# The npm package ships no licence file; its package.json says MIT, which is onnxruntime's licence:
cat > "$DEST/LICENSE" <<'LICENCE'
onnxruntime-web (https://github.com/microsoft/onnxruntime), npm package onnxruntime-web, files from dist/.

MIT License

Copyright (c) Microsoft Corporation

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENCE
echo "$VERSION" > "$DEST/VERSION"
(cd "$DEST" && sha256sum ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm > SHA256SUMS)
for f in ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  gzip -9 -n -k -f "$DEST/$f"
  brotli -q 11 -k -f "$DEST/$f"
done
ls -l "$DEST"
