"""Model folders on disk, safe when many sessions and processes read and write at once.

The machinery under seqgen.checkpoints (whose docstring tells the whole design): fsynced and atomic
writes, the per-name lock, the atomic exchange of two folders, the clean-up after saves that died, reading
files through one directory handle, and bounded parsing of JSON and safetensors headers. Nothing here knows
what a model is. `user_dir()` is the one folder every app process and the CLI share for what they save (the
models trained in the app, the class-mode store).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import shutil
import stat
import struct
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
STALE_SECONDS = 300                    # another name's temporary folder this old, and unlocked, is abandoned
MAX_JSON_DEPTH = 16
MAX_HEADER_BYTES = 1024 * 1024         # safetensors header: one short JSON entry per tensor


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged or does not fit its config. The message says which."""


class _Swapped(Exception):
    """The folder being read was replaced by a concurrent save; read the new one."""


def user_dir() -> Path:
    """The folder shared by every process of one deployment: models trained in the app are saved there, and
    class mode keeps its SQLite store there (SEQGEN_USER_MODELS overrides; scripts/serve.py --user-models sets
    it for all its processes)."""
    return Path(os.environ.get("SEQGEN_USER_MODELS", REPO_ROOT / "user_models"))


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------------------------- writing
def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a single file atomically (temp file in the same folder + rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        _fsync_write(Path(tmp), data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _NameLock:
    """Exclusive lock on one checkpoint name: `.NAME.lock` in the parent folder, held with flock.

    The file is unlinked by its holder before release, so no lock files are left behind. Whoever was waiting
    on the unlinked file then finds that the path no longer names the file it locked, and takes a fresh one."""

    def __init__(self, parent: Path, name: str, blocking: bool = True):
        self.path = Path(parent) / f".{name}.lock"
        self.blocking = blocking
        self.fd: int | None = None

    def acquire(self) -> bool:
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return True
            os.close(fd)   # the holder before us removed it: lock the file that is there now

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> _NameLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2
_AT_FDCWD = -100
_renameat2 = None
if sys.platform.startswith("linux"):
    try:
        _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
        _renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        _renameat2.restype = ctypes.c_int
    except (AttributeError, OSError):
        _renameat2 = None


def _rename2(src: Path, dst: Path, flags: int) -> bool:
    """renameat2(src, dst, flags) -> True; False where this OS or file system does not offer it."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _swap_in(tmp: Path, path: Path, replace: bool) -> Path | None:
    """Make `tmp` the folder at `path` in one step. -> where the previous version now is (to delete), or None.

    CheckpointError when `path` exists and replace is False."""
    exists = path.exists() or path.is_symlink()
    if exists and not replace:
        raise _Exists()
    if not exists:
        try:
            if _rename2(tmp, path, _RENAME_NOREPLACE):
                return None
        except FileExistsError:
            raise _Exists() from None
        os.rename(tmp, path)          # no renameat2: we hold the name's lock, so nothing else writes here
        return None
    if not path.is_dir() or path.is_symlink():
        raise CheckpointError(f"{path.name!r} exists and is not a model folder; pick another name")
    if _rename2(tmp, path, _RENAME_EXCHANGE):
        return tmp                    # the previous version, under the temporary name
    old = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(path, old)              # readers wait out this gap (see _resolve_in): the lock file is there
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old, path)
        raise
    return old


class _Exists(Exception):
    pass


def _clean_up(parent: Path, name: str) -> None:
    """Under `name`'s lock: finish or remove what earlier saves that died left behind."""
    path = parent / name
    leftovers = [p for p in parent.iterdir() if p.name.startswith(".") and (".tmp-" in p.name or ".old-" in p.name)]
    own = sorted(p for p in leftovers if p.name.startswith((f".{name}.tmp-", f".{name}.old-")))
    if not path.exists() and not path.is_symlink():
        for old in own:                # died between the two renames of the fallback swap
            if ".old-" in old.name and (old / "config.json").is_file():
                os.rename(old, path)
                own.remove(old)
                break
    for p in own:
        shutil.rmtree(p, ignore_errors=True)
    now = time.time()
    for p in leftovers:
        if p in own or ".tmp-" not in p.name:
            continue
        other = p.name[1:].rsplit(".tmp-", 1)[0]
        try:
            if now - p.lstat().st_mtime < STALE_SECONDS:
                continue
        except FileNotFoundError:
            continue
        lock = _NameLock(parent, other, blocking=False)
        if lock.acquire():             # its writer is gone
            try:
                shutil.rmtree(p, ignore_errors=True)
            finally:
                lock.release()


# --------------------------------------------------------------------------------------------- reading
def _parse_json(data: bytes, what: str):
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise CheckpointError(f"{what} is nested too deeply to be a seqgen file") from None
    except (ValueError, UnicodeDecodeError) as e:   # JSONDecodeError is a ValueError
        raise CheckpointError(f"{what} is not valid JSON ({_shorten(str(e))})") from None
    stack = [(doc, 1)]
    while stack:                       # iterative: a deep document cannot recurse away here either
        obj, depth = stack.pop()
        if isinstance(obj, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise CheckpointError(f"{what} is nested too deeply to be a seqgen file")
            stack.extend((v, depth + 1) for v in (obj.values() if isinstance(obj, dict) else obj))
    return doc


def _read_member(dfd: int, path: Path, member: str, limit: int) -> bytes | None:
    """One file of the folder opened as `dfd`, at most `limit` bytes; None when it is not there.

    Raises _Swapped when the file is gone because a save swapped the folder away while we read it."""
    try:
        # O_NONBLOCK: opening a FIFO put there in the file's place returns at once instead of waiting for a writer
        fd = os.open(member, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dfd)
    except FileNotFoundError:
        if _swapped(dfd, path):
            raise _Swapped() from None
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise CheckpointError(f"{path.name}: {member} is a link; seqgen only reads files saved in the "
                                  "model folder") from None
        raise CheckpointError(f"{path.name}: {member} cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(f"{path.name}: {member} is not a regular file")
        if st.st_size > limit:
            raise CheckpointError(f"{path.name}: {member} is {st.st_size / 1e6:.1f} MB, larger than any seqgen "
                                  "model's; refusing to read it")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise CheckpointError(f"{path.name}: {member} is larger than any seqgen model's; refusing to read it")
    return data


def _swapped(dfd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except OSError:
        return True
    there = os.fstat(dfd)
    return (here.st_ino, here.st_dev) != (there.st_ino, there.st_dev)


def _header(data: bytes, path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The safetensors header (name -> dtype, shape), read from the bytes without building any tensor."""
    bad = f"{path.name}: model.safetensors is not a readable safetensors file (truncated or another format?)"
    if len(data) < 8:
        raise CheckpointError(bad)
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise CheckpointError(bad)
    try:
        header = _parse_json(data[8:8 + n], f"{path.name}: the weights' header")
    except CheckpointError:
        raise CheckpointError(bad) from None
    if not isinstance(header, dict):
        raise CheckpointError(bad)
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        shape = v.get("shape") if isinstance(v, dict) else None
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
            raise CheckpointError(bad)
        out[k] = (v.get("dtype"), tuple(shape))
    return out
