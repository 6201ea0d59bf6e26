"""The latent pad's runtime and decoders: served precompressed, cached for good, revalidated for free, and nothing
outside their folders (seqgen.ui.assets)."""
from __future__ import annotations

import gzip

import brotli
import pytest
from starlette.requests import Request

from seqgen.ui import assets

RUNTIME = assets.STATIC / "vendor" / "onnxruntime-web"
RUNTIME_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")


def request(path: str, **headers) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "query_string": b"",
                    "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]})


def served(folder, relative: str, **headers):
    return assets.file_response(request("/x", **headers), folder, relative)


@pytest.mark.parametrize("name", RUNTIME_FILES)
def test_the_vendored_compressed_copies_are_the_files_themselves(name):
    """A stale .br or .gz beside a re-vendored runtime would hand browsers the old one."""
    data = (RUNTIME / name).read_bytes()
    assert gzip.decompress((RUNTIME / f"{name}.gz").read_bytes()) == data
    assert brotli.decompress((RUNTIME / f"{name}.br").read_bytes()) == data


def test_brotli_first_then_gzip_then_the_file_itself():
    folder = assets.STATIC / "vendor"
    wasm = "onnxruntime-web/ort-wasm-simd-threaded.wasm"
    r = served(folder, wasm, accept_encoding="gzip, deflate, br")
    assert r.headers["content-encoding"] == "br" and str(r.path).endswith(".wasm.br")
    assert r.media_type == "application/wasm"
    r = served(folder, wasm, accept_encoding="gzip")
    assert r.headers["content-encoding"] == "gzip" and str(r.path).endswith(".wasm.gz")
    r = served(folder, wasm)
    assert "content-encoding" not in r.headers and str(r.path).endswith(".wasm")
    assert r.headers["cache-control"] == assets.IMMUTABLE and r.headers["vary"] == "Accept-Encoding"


def test_a_revalidation_is_a_304_without_a_body():
    folder = assets.STATIC / "vendor"
    first = served(folder, "onnxruntime-web/ort.wasm.min.mjs", accept_encoding="br")
    again = served(folder, "onnxruntime-web/ort.wasm.min.mjs", accept_encoding="br", if_none_match=first.headers["etag"])
    assert again.status_code == 304 and again.body == b""


@pytest.mark.parametrize("relative", ["../../seqgen/__init__.py", "../decoders/../../app.py", "/etc/passwd",
                                      "onnxruntime-web/ort.wasm.min.mjs.br", "onnxruntime-web/missing.mjs",
                                      "onnxruntime-web"])
def test_nothing_outside_the_folder_and_no_compressed_copy_by_its_own_name(relative):
    assert served(assets.STATIC / "vendor", relative, accept_encoding="br").status_code == 404


def test_a_published_decoder_is_compressed_once_beside_it(tmp_path):
    decoder = tmp_path / "0123abcd.onnx"
    decoder.write_bytes(b"onnx bytes " * 500)
    assets.precompress(decoder)
    assert gzip.decompress((tmp_path / "0123abcd.onnx.gz").read_bytes()) == decoder.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0123abcd.onnx", "0123abcd.onnx.gz"]   # no temp left
    r = served(tmp_path, "0123abcd.onnx", accept_encoding="gzip, br")
    assert r.headers["content-encoding"] == "gzip" and r.media_type == "application/octet-stream"


@pytest.mark.parametrize("base, prefix", [("", "/app/static/"), ("/class/", "/class/app/static/"),
                                          ("class", "/class/app/static/")])
def test_routes_sit_under_the_base_url(base, prefix):
    paths = [r.path for r in assets.routes(base)]
    assert paths == [f"{prefix}vendor/{{path:path}}", f"{prefix}decoders/{{path:path}}"]
