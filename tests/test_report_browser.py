"""The HTML report in a real browser: headless Chromium renders it, the screenshot is not blank,
and the tables and figures are in the DOM.

Chromium is Debian's package, installed by ``make test`` (the README's test command, which CI runs)
when missing and running as root; elsewhere this test is skipped with the reason.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
UDHR = ROOT / "corpora" / "udhr"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,2400"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it as root)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    html = folder / "report.html"
    paths = [str(UDHR / f"{name}.txt") for name in ("dan", "nob", "swe", "spa", "glg")]
    result = subprocess.run([sys.executable, "-m", "klcode", "report", *paths, "-o", str(html),
                             "--tokens", "bytes,chars", "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return html


def chromium(*args, profile: Path, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_the_report_renders_and_is_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", report.as_uri(), profile=tmp_path / "profile")
    assert shot.exists() and shot.stat().st_size > 10_000
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    colours = np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 50  # text, table rules and figures, not one flat colour
    assert pixels.std() > 0.05


def test_tables_and_figures_are_in_the_dom(report, tmp_path):
    dom = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile").stdout
    assert dom.count("<table") >= 3
    assert dom.count("<svg") >= 3 and dom.count("<figure") >= 3
    for section in ("corpora", "matrix", "trees", "convergence", "reproducibility"):
        assert f'id="{section}"' in dom
    for name in ("dan", "nob", "glg"):
        assert name in dom
