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
from collections.abc import Callable
from contextlib import suppress
from typing import BinaryIO

from .errors import KlcodeError, OutputError


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(file)`` on a new file beside ``path``, then rename it to ``path``; remove it on failure.

    The file gets the permissions of any new file (0666 less the umask).
    Failures to write raise :class:`OutputError` naming ``path``.
    """
    path = os.fspath(path)
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
