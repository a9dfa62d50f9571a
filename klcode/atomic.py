"""Writing a file atomically: all of it, or nothing (and an existing file left as it was).

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_atomically(os.path.join(folder, "a.txt"), lambda out: out.write(b"hello"))
>>> open(os.path.join(folder, "a.txt")).read(), os.listdir(folder)
('hello', ['a.txt'])
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from .errors import KlcodeError, OutputError

#: (device, inode) of each file read while :func:`guard_inputs` is active; None when it is not.
_inputs: set[tuple[int, int]] | None = None


def _identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def note_input(path: str | os.PathLike[str]) -> None:
    """Remember that ``path`` was read as an input (the readers of klcode.text call this); a no-op unguarded."""
    if _inputs is not None:
        identity = _identity(path)
        if identity is not None:
            _inputs.add(identity)


@contextmanager
def guard_inputs() -> Iterator[None]:
    """While active, :func:`write_atomically` refuses to replace a file that was read as an input (one run of the CLI).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "p.json")
    >>> _ = open(path, "w").write("{}")
    >>> with guard_inputs():
    ...     note_input(path)
    ...     write_atomically(path, lambda out: out.write(b"x"))
    Traceback (most recent call last):
    ...
    klcode.errors.OutputError: refusing to write '...p.json': it is an input of this command (klcode never overwrites its inputs); choose another output file
    """
    global _inputs
    previous, _inputs = _inputs, set()
    try:
        yield
    finally:
        _inputs = previous


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a new file beside ``path``, then rename it to ``path``; remove it on failure.

    The file gets the permissions of any new file (0666 less the umask).
    Failures to write raise :class:`OutputError` naming ``path``.
    """
    path = os.fspath(path)
    if _inputs is not None and _identity(path) in _inputs:
        raise OutputError(f"refusing to write {path!r}: it is an input of this command (klcode never overwrites its "
                          "inputs); choose another output file")
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise OutputError(f"cannot write {path!r}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException as error:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError) and not isinstance(error, KlcodeError):
            raise OutputError(f"cannot write {path!r}: {error.strerror or error}") from None
        raise
