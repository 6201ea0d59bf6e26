"""The latent pad's browser files, served so that a class opening the pad costs the server almost nothing.

Streamlit serves app files (/app/static/...) as they are on disk, compressing each response anew and asking
browsers to revalidate it. The pad's in-browser runtime is 14 MB of WebAssembly, so 30 students opening the
pad at once cost the server seconds of CPU in gzip alone. These routes, given to st.App before Streamlit's own
(app.py), serve the same URLs from files compressed once, ahead of time (`<file>.br`, `<file>.gz` beside
each, written by scripts/vendor_web_assets.sh and when a decoder is published), with long-lived caching:

- the runtime (/app/static/vendor/...) is asked for with its version in the query string (`?v=...`), and the
  decoders (/app/static/decoders/<content hash>.onnx) are named by their content, so every response can be
  cached for a year as immutable, and a second visit fetches nothing;
- every response has an ETag, so a revalidation is a 304 with no body.

No compression happens per request: a browser that takes neither encoding gets the file itself.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parents[2] / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))          # preferred first
MEDIA_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
               ".onnx": "application/octet-stream"}


@lru_cache(maxsize=256)
def _etag(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return f'"{h.hexdigest()[:32]}"'


def _accepted(request: Request) -> set[str]:
    return {part.split(";")[0].strip().lower() for part in request.headers.get("accept-encoding", "").split(",")}


def file_response(request: Request, folder: Path, relative: str) -> Response:
    """One file under `folder`, precompressed where the browser takes it, cached as immutable."""
    root = folder.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file() or path.suffix in (".br", ".gz"):
        return Response("Not found", status_code=404, media_type="text/plain")
    stat = path.stat()
    etag = _etag(str(path), stat.st_size, stat.st_mtime_ns)
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    accepted = _accepted(request)
    for encoding, suffix in ENCODINGS:
        packed = path.with_name(path.name + suffix)
        if encoding in accepted and packed.is_file():
            return FileResponse(packed, media_type=media_type, headers={**headers, "Content-Encoding": encoding})
    return FileResponse(path, media_type=media_type, headers=headers)


async def _vendor(request: Request) -> Response:
    return file_response(request, STATIC / "vendor", request.path_params["path"])


async def _decoders(request: Request) -> Response:
    return file_response(request, STATIC / "decoders", request.path_params["path"])


def routes(base_url: str = "") -> list[Route]:
    """The routes app.py gives st.App (under `server.baseUrlPath` when one is set)."""
    base = "/" + base_url.strip("/") if base_url.strip("/") else ""
    return [Route(f"{base}/app/static/vendor/{{path:path}}", _vendor, methods=["GET", "HEAD"]),
            Route(f"{base}/app/static/decoders/{{path:path}}", _decoders, methods=["GET", "HEAD"])]


def precompress(path: Path) -> None:
    """Write `<path>.gz` beside a file (level 9), atomically; a decoder is compressed once, when published."""
    import gzip
    target = path.with_name(path.name + ".gz")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
    tmp.replace(target)
