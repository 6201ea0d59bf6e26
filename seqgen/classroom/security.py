"""Everything class mode takes from a browser, checked before it is stored: codes, secrets, student ids,
nicknames, drawings; and the per-student rate limit.

- A class code is CODE_LENGTH characters of CODE_ALPHABET (no 0/O, 1/I: read aloud or off a projector, they are
  the ones people mix up). Typed codes are upper-cased and spaces and dashes dropped.
- The teacher secret is `secrets.token_urlsafe(32)`; the store keeps only its SHA-256 and compares digests with
  `hmac.compare_digest`. The secret carries 256 random bits, so a plain hash is enough: there is nothing to
  guess, and a slow password hash would only cost CPU on every teacher action.
- A student id is `secrets.token_urlsafe(16)`; the store keys students by its SHA-256 too, so a copy of the
  store holds no id that could act as a student.
- Nicknames: NFKC-normalised, control, format (bidi overrides, zero-width) and unassigned characters dropped,
  whitespace collapsed, at most 2 combining marks on one letter; then refused when longer than
  MAX_NICKNAME, when they hold a markup character (MARKUP), or when better_profanity's bundled list finds an
  offensive word in them (also with the spaces and dots between letters taken out).
- Drawings: a 28x28 uint8 numpy array, or PNG bytes no longer than MAX_DRAWING_BYTES whose header says 28x28
  greyscale before a pixel is decoded. Stored as the 784 raw bytes; nothing is ever unpickled.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import unicodedata
from functools import lru_cache

from ..locale import Sentence
from .errors import ClassError

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"    # 32 symbols: 0, O, 1 and I left out
CODE_LENGTH = 6                                      # 32**6 ≈ 10**9 codes
MAX_SECRET_CHARS = 128
STUDENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_NICKNAME = 20
MAX_NICKNAME_INPUT = 200         # longer input is refused before it is normalised (which can grow a string)
MARKUP = frozenset("<>&\"'`\\[]{}$|")   # HTML, Markdown links and code, Streamlit's LaTeX ($) and colour tags
MAX_COMBINING = 2
SIDE = 28                        # a drawing is SIDE x SIDE greyscale pixels
DRAWING_BYTES = SIDE * SIDE
MAX_DRAWING_BYTES = 16 * 1024    # a 28x28 greyscale PNG is under 1 kB; anything far larger is not one
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------------------ codes
def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text) -> str:
    """A code as typed ('k7qx-3m', ' K7QX3M ') -> 'K7QX3M'; ClassError when it cannot be a class code."""
    if isinstance(text, str) and len(text) <= 4 * CODE_LENGTH:
        code = re.sub(r"[\s-]", "", text).upper()
        if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code):
            return code
    shown = text[:12] if isinstance(text, str) else ""
    raise ClassError(Sentence("{code!r} is not a class code: a class code is 6 letters and digits, like K7QX3M.",
                              code=shown), reason="unknown_class")


# ------------------------------------------------------------------------------------------------ secrets
def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_student_id() -> str:
    return secrets.token_urlsafe(16)


def digest(token: str) -> str:
    """The SHA-256 of a secret or student id, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def secret_matches(secret, stored_digest: str | None) -> bool:
    """Whether `secret` is the one whose digest is stored; constant time in the secret's content."""
    if stored_digest is None or not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET_CHARS:
        return False
    return hmac.compare_digest(digest(secret), stored_digest)


def student_key(student_id) -> str:
    """The stored key of a student id; ClassError when it is not shaped like one."""
    if not isinstance(student_id, str) or not STUDENT_ID.match(student_id):
        raise ClassError(Sentence("You are not in this class. Join it again with its code."), reason="not_member")
    return digest(student_id)


# ------------------------------------------------------------------------------------------------ nicknames
@lru_cache(maxsize=1)
def _word_filter():
    """better_profanity's bundled word list (offline; MIT), loaded once per process."""
    from better_profanity import Profanity
    return Profanity()


def _drop_invisible(text: str) -> str:
    kept, marks = [], 0
    for ch in text:
        if ch.isspace():                # tabs and new lines are spacing here, not control characters
            kept.append(" ")
            marks = 0
            continue
        category = unicodedata.category(ch)
        if category[0] == "C":          # Cc control, Cf format (bidi, zero-width), Cs, Co, Cn
            continue
        if category[0] == "M":
            marks += 1
            if marks > MAX_COMBINING:   # a tower of accents drawn over its neighbours' names
                continue
        else:
            marks = 0
        kept.append(ch)
    return "".join(kept)


def clean_nickname(raw) -> str | None:
    """A nickname fit to show a class, or None (anonymous: the app shows "Student N"). ClassError says why a
    nickname is refused; it is never silently changed beyond invisible characters and spacing."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ClassError(Sentence("A nickname must be text."))
    if len(raw) > MAX_NICKNAME_INPUT:
        raise ClassError(Sentence("A nickname has at most {n} characters.", n=MAX_NICKNAME))
    text = " ".join(_drop_invisible(unicodedata.normalize("NFKC", raw)).split())
    if not text:
        return None
    bad = sorted({ch for ch in text if ch in MARKUP})
    if bad:
        raise ClassError(Sentence("A nickname cannot contain {chars}.", chars=" ".join(bad)))
    if len(text) > MAX_NICKNAME:
        raise ClassError(Sentence("A nickname has at most {n} characters.", n=MAX_NICKNAME))
    words = _word_filter()
    squeezed = re.sub(r"[\s._\-*+~]", "", text)
    if words.contains_profanity(text) or words.contains_profanity(squeezed):
        raise ClassError(Sentence("Please choose another nickname."))
    return text


# ------------------------------------------------------------------------------------------------ drawings
def drawing_pixels(image) -> bytes:
    """A student's drawing as its 784 raw bytes (row by row, 0 = black, 255 = white); ClassError otherwise.

    `image`: a numpy uint8 array of shape (28, 28), or the bytes of a 28x28 greyscale (mode L) PNG."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _png_pixels(image)
    import numpy as np

    if isinstance(image, np.ndarray):
        if image.shape != (SIDE, SIDE) or image.dtype != np.uint8:
            raise ClassError(Sentence("A drawing must be {side}x{side} greyscale pixels (uint8), not {shape} {dtype}.",
                                      side=SIDE, shape="x".join(map(str, image.shape[:4])), dtype=str(image.dtype)[:20]))
        return np.ascontiguousarray(image).tobytes()
    raise ClassError(Sentence("A drawing must be a 28x28 greyscale picture (a PNG or a uint8 array)."))


def _png_pixels(data) -> bytes:
    if len(data) > MAX_DRAWING_BYTES:          # before anything is copied or decoded
        raise ClassError(Sentence("That drawing file is {kib} kB; a 28x28 drawing is under {limit} kB.",
                                  kib=len(data) // 1024, limit=MAX_DRAWING_BYTES // 1024))
    data = bytes(data)
    if not data.startswith(PNG_SIGNATURE):
        raise ClassError(Sentence("A drawing must be a 28x28 greyscale picture (a PNG or a uint8 array)."))
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:     # reads the header only
            if im.size != (SIDE, SIDE) or im.mode != "L":
                raise ClassError(Sentence("A drawing must be {side}x{side} greyscale pixels, not {w}x{h} {mode}.",
                                          side=SIDE, w=im.size[0], h=im.size[1], mode=im.mode[:8]))
            im.load()
            pixels = im.tobytes()
    except ClassError:
        raise
    except Exception:  # noqa: BLE001 - any decoder failure on untrusted bytes is the same answer
        raise ClassError(Sentence("That drawing is not a readable PNG picture.")) from None
    if len(pixels) != DRAWING_BYTES:
        raise ClassError(Sentence("That drawing is not a readable PNG picture."))
    return pixels


def pixels_png(pixels: bytes) -> bytes:
    """784 stored bytes -> a PNG of the drawing (for st.image or a download)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.frombytes("L", (SIDE, SIDE), pixels).save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------ rate limit
def take_token(tokens: float | None, at: float | None, now: float, rate: float, burst: int) -> float | None:
    """One action from a token bucket: the tokens left after it, or None when the bucket is empty.

    A new student (tokens None) starts full. The Redis store runs the same arithmetic in Lua
    (redis_store.TAKE_TOKEN); tests check the two agree."""
    if tokens is None or at is None:
        tokens, at = float(burst), now
    tokens = min(float(burst), tokens + max(0.0, now - at) * rate)
    return tokens - 1.0 if tokens >= 1.0 else None
