"""numba re-compiles a cached kernel only when its own file changes, not when a function it inlines does.

Each kernel module that compiles in code from other files carries a digest of those files; this test fails
until the digest line is updated, and editing that line makes numba compile afresh.
"""

import hashlib
import importlib
from pathlib import Path

import pytest

KERNEL_MODULES = ("klcode.coders.cm_kernel", "klcode.models.ppm_kernels", "klcode.analysis.model_kernels")


@pytest.mark.parametrize("name", KERNEL_MODULES)
def test_kernel_cache_key_follows_the_sources_it_inlines(name: str) -> None:
    module = importlib.import_module(name)
    package = Path(module.__file__).resolve().parent.parent
    digest = hashlib.sha256(b"".join((package / source).read_bytes() for source in module.KERNEL_SOURCES))
    assert digest.hexdigest()[:16] == module.KERNEL_SOURCES_DIGEST, (
        f"set KERNEL_SOURCES_DIGEST = {digest.hexdigest()[:16]!r} in {module.__file__}")
