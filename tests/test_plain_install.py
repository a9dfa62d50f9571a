"""The README's commands on a plain ``pip install .`` (no extras): demos, ANS, zstd, the report's inline figures.

``make test`` builds ``.venv-plain`` (a second virtual environment with ``pip install .`` and nothing
else) before it runs the suite; this module drives ``.venv-plain/bin/klcode``. Without that environment
the module fails under CI (``CI=true``) and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from klcode.demos import load_all

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PLAIN = ROOT / ".venv-plain"
PLAIN_KLCODE = PLAIN / "bin" / "klcode"
PLAIN_PYTHON = PLAIN / "bin" / "python"
#: The seven lessons of the README's teaching table (issue 9's acceptance); later lessons are run as well.
SEVEN = ("coin", "binomial", "worms", "recoding", "gaussians", "cross-entropy", "infinite")
#: Every demo of this checkout (the plain install is built from it), in lesson order.
DEMOS = tuple(load_all())
#: Generous per command; the slowest (the UDHR report) takes about half a minute here.
TIMEOUT_S = 600


@pytest.fixture(scope="module")
def plain_klcode() -> Path:
    """``.venv-plain/bin/klcode``; a failure under CI when it is missing, a skip with the reason elsewhere."""
    if not PLAIN_KLCODE.exists():
        reason = f"{PLAIN_KLCODE.relative_to(ROOT)} is missing: `make test` (or `make plain`) creates it with `pip install .`"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return PLAIN_KLCODE


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plain")


class Runner:
    """Runs the plain environment's klcode from the repository root; each distinct command line once."""

    def __init__(self, klcode: Path) -> None:
        self.klcode = klcode
        self.done: dict[tuple[str, ...], subprocess.CompletedProcess] = {}

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        key = tuple(args)
        if key not in self.done:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
            env["COLUMNS"] = "160"
            proc = subprocess.run([str(self.klcode), *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=TIMEOUT_S, env=env, stdin=subprocess.DEVNULL)
            self.done[key] = proc
        proc = self.done[key]
        assert proc.returncode == 0, f"klcode {shlex.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc


@pytest.fixture(scope="module")
def run(plain_klcode) -> Runner:
    return Runner(plain_klcode)


def test_the_plain_environment_has_no_extras_and_its_own_klcode(plain_klcode, tmp_path):
    script = (
        "import importlib.util, json, klcode\n"
        "names = ['constriction', 'matplotlib', 'zstandard', 'numba', 'pyppmd', 'dask', 'distributed', 'torch',"
        " 'transformers', 'pytest', 'hypothesis', 'scipy']\n"
        "print(json.dumps({'klcode': klcode.__file__,"
        " 'found': {n: importlib.util.find_spec(n) is not None for n in names}}))\n"
    )
    proc = subprocess.run([str(PLAIN_PYTHON), "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    # the installed copy, not this checkout
    assert "site-packages" in info["klcode"] and not info["klcode"].startswith(str(ROOT / "klcode"))
    found = info["found"]
    assert all(found[n] for n in ("constriction", "matplotlib", "zstandard", "numba", "pyppmd")), found
    assert not any(found[n] for n in ("dask", "distributed", "torch", "transformers", "pytest", "hypothesis", "scipy")), found


def test_demo_list_names_every_demo(run):
    listed = json.loads(run("demo", "--list", "--json").stdout)
    assert tuple(d["name"] for d in listed["demos"]) == DEMOS
    assert set(SEVEN) <= set(DEMOS)


@pytest.mark.parametrize("name", DEMOS)
def test_demo_runs_with_json_explain_and_plot(run, outputs, name):
    document = json.loads(run("demo", name, "--json").stdout)
    assert document, name
    explained = run("demo", name, "--explain").stdout
    assert len(explained.splitlines()) > 5
    figure = outputs / f"demo-{name}.png"
    run("demo", name, "--plot", str(figure))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_coder_ans_and_zstd_work(run, outputs):
    p = outputs / "p-coders.json"
    q = outputs / "q-coders.json"
    p.write_text(json.dumps({"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.125}))
    q.write_text(json.dumps({"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}))
    measured = json.loads(run("measure", "--p", str(p), "--q", str(q), "--samples", "20000", "--seed", "0",
                              "--coder", "ans", "--json").stdout)
    assert "ans" in json.dumps(measured)
    out = run("compare", "corpora/canterbury/alice29.txt", "corpora/canterbury/asyoulik.txt", "--coder", "ans,zlib").stdout
    assert "ans" in out
    out = run("entropy", "corpora/canterbury/alice29.txt", "--coder", "huffman,ans,zstd").stdout
    assert "ans" in out and "zstd" in out
    assert "not installed" not in out and "klcode[" not in out


def _svg_figure(html: str, figure_id: str) -> str:
    """The inline ``<svg>`` element whose matplotlib ids start with ``figure_id`` (empty when there is none)."""
    for match in re.finditer(r"<svg\b.*?</svg>", html, flags=re.S):
        if f'id="{figure_id}' in match.group(0):
            return match.group(0)
    return ""


def test_udhr_report_has_its_heatmap_and_trees_inline(run, outputs):
    report = outputs / "report.html"
    run("report", "corpora/udhr", "-o", str(report))
    html = report.read_text(encoding="utf-8")
    for figure_id in ("figure-js-heatmap", "figure-trees"):
        assert _svg_figure(html, figure_id), f"no inline svg {figure_id} in the report"
    assert "figure not drawn" not in html
    assert "not installed" not in html


# --- every command of the README's ```sh blocks --------------------------------------------------------------

#: Concrete values for the placeholders of the README's synopsis lines (an unknown placeholder fails the test,
#: so a new README line gets a value here). Output files go to the test's folder.
PLACEHOLDERS = {
    "P.json": "{p_json}", "Q.json": "{q_json}", "N": "2000", "S": "0",
    "A": "corpora/canterbury/alice29.txt", "B": "corpora/canterbury/asyoulik.txt",
    "PATH...": "corpora/canterbury", "P": "bernoulli:0.5", "Q": "bernoulli:0.9",
}
#: Per command, what ``CORPUS...`` stands for (the UDHR for the report, as the README's Reports section).
CORPUS_FOR = {"matrix": "corpora/genesis", "count": "corpora/genesis", "report": "corpora/udhr"}
OUTPUT_OPTIONS = ("-o", "--output", "--plot")
PLACEHOLDER_RE = re.compile(r"^[A-Z][A-Z0-9_]*(\.[a-z]+)?(\.\.\.)?$")
EXTRA_RE = re.compile(r"pip install '?klcode\[")


def readme_commands() -> list[tuple[int, str]]:
    """(line number, command line) of each ``klcode`` line in the README's sh blocks, minus those needing an extra."""
    lines = README.read_text(encoding="utf-8").splitlines()
    commands, in_sh = [], False
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            in_sh = line.strip() == "```sh" and not in_sh
            continue
        if in_sh and line.strip().startswith("klcode ") and not EXTRA_RE.search(line):
            commands.append((number, line.strip()))
    return commands


def concrete_argv(line: str, outputs: Path) -> list[str]:
    """The README line with its placeholders filled in, optional ``[...]`` parts included, outputs in ``outputs``."""
    words = shlex.split(line.replace("[", " ").replace("]", " "), comments=True)
    assert words[0] == "klcode"
    command = words[1]
    p_json, q_json = outputs / "readme-p.json", outputs / "readme-q.json"
    p_json.write_text(json.dumps({"a": 0.5, "b": 0.3, "c": 0.2}))
    q_json.write_text(json.dumps({"a": 0.4, "b": 0.4, "c": 0.2}))
    argv = []
    for i, word in enumerate(words[1:], 1):
        if words[i - 1] in OUTPUT_OPTIONS:
            # every output of a command goes to the test's folder, named by the command and the suffix asked for
            suffix = Path(word).suffix or (".png" if words[i - 1] == "--plot" else ".out")
            argv.append(str(outputs / f"{command}{suffix}"))
        elif word == "CORPUS...":
            argv.append(CORPUS_FOR[command])
        elif word in PLACEHOLDERS:
            argv.append(PLACEHOLDERS[word].format(p_json=p_json, q_json=q_json))
        else:
            assert not PLACEHOLDER_RE.match(word) or word.startswith("-"), \
                f"README line {line!r}: no value for the placeholder {word!r} in tests/test_plain_install.py"
            argv.append(word)
    return argv


def test_the_readme_has_klcode_commands():
    commands = [line for _, line in readme_commands()]
    assert len(commands) >= 8
    assert any(line.startswith("klcode report corpora/udhr") for line in commands)


@pytest.mark.parametrize("number,line", readme_commands(), ids=[f"README:{n}" for n, _ in readme_commands()])
def test_readme_command_runs_on_the_plain_install(run, outputs, number, line):
    argv = concrete_argv(line, outputs)
    proc = run(*argv)
    for option in OUTPUT_OPTIONS:
        if option in argv:
            written = Path(argv[argv.index(option) + 1])
            assert written.is_file() and written.stat().st_size > 0, f"README:{number}: {written} not written"
    if not any(option in argv for option in ("-o", "--output")):
        assert proc.stdout.strip(), f"README:{number}: {line!r} printed nothing"

