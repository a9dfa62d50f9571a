"""Time klcode's counting (bytes, chars, words), its peak memory, and whole ``compare``/``matrix`` runs.

Three parts, each against a target:

1. **Throughput** of :func:`klcode.text.counts.count_corpus` on a file of at least
   ``--megabytes`` MB, in bytes, chars and words modes (targets 500, 150 and
   20 MB/s), beside the plain baselines: a chunked ``np.bincount`` for bytes,
   ``re.findall(r"\\w+")`` + ``collections.Counter`` for words.
2. **Peak memory** of ``python -m klcode count FILE --tokens MODE`` on a file of
   ``--memory-megabytes`` MB, each mode in its own process under
   ``/usr/bin/time -v`` (target: maximum resident set size < 300 MB).
3. **Wall time** of whole ``klcode compare`` and ``klcode matrix`` processes
   (target for the matrix of ``corpora/udhr``: < 30 s).

The data: the UTF-8/ASCII texts of ``corpora/canterbury`` and four of
``corpora/genesis`` concatenated, repeated until the requested size, written
once to a temporary directory (deleted at exit; ``--keep-data DIR`` keeps it).
Every timed run is checked: token totals > 0, equal across runs and equal to
the baselines'; every process must exit with status 0.  A failed check stops
the benchmark with exit status 2.

Run from the repository root::

    python benchmarks/bench_counting.py            # or: python -m benchmarks.bench_counting
    python benchmarks/bench_counting.py --help

The table goes to stdout, progress lines to stderr, and the figures with the
machine's description to a JSON file (``benchmarks/results/counting.json``).
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

if __package__:  # python -m benchmarks.bench_counting: make this folder's common importable as under python FILE
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402 - importing common puts the checkout on sys.path when klcode is not installed

from klcode.text.counts import Counts, count_corpus  # noqa: E402
from klcode.text.tokenize import TokenizerSpec  # noqa: E402

#: UTF-8 (or ASCII) texts only: chars and words decode the data strictly as UTF-8.
CORPUS_FILES = (
    "corpora/canterbury/alice29.txt",
    "corpora/canterbury/asyoulik.txt",
    "corpora/canterbury/lcet10.txt",
    "corpora/canterbury/plrabn12.txt",
    "corpora/genesis/english-kjv.txt",
    "corpora/genesis/english-web.txt",
    "corpora/genesis/portuguese.txt",
    "corpora/genesis/lolcat.txt",
)
MODES = ("bytes", "chars", "words")
#: Counting throughput targets, MB/s.
TARGET_MB_PER_S = {"bytes": 500.0, "chars": 150.0, "words": 20.0}
#: Peak memory target (maximum resident set size), MB.
TARGET_MAX_RSS_MB = 300.0
#: The whole processes timed: (name, arguments after ``python -m klcode``, target seconds or None).
COMMANDS: tuple[tuple[str, tuple[str, ...], float | None], ...] = (
    (
        "compare kjv/web chars",
        ("compare", "corpora/genesis/english-kjv.txt", "corpora/genesis/english-web.txt", "--tokens", "chars"),
        None,
    ),
    (
        "compare alice/lcet10 words",
        ("compare", "corpora/canterbury/alice29.txt", "corpora/canterbury/lcet10.txt", "--tokens", "words"),
        None,
    ),
    ("matrix udhr chars", ("matrix", "corpora/udhr", "--tokens", "chars"), 30.0),
)
QUIET_JSON = ("--quiet", "--format", "json")
GNU_TIME = Path("/usr/bin/time")
DEFAULT_MEGABYTES = 100.0
DEFAULT_MEMORY_MEGABYTES = 200.0
#: Chunk size of the baselines: 4 MiB, as klcode reads.
CHUNK = 1 << 22
WORD = re.compile(r"\w+")
LAST_NONWORD = re.compile(r".*\W", re.DOTALL)


@dataclass(frozen=True)
class Timing(common.RunStatistics):
    """Wall-clock seconds of counting one mode over all runs, on ``input_bytes`` bytes giving ``tokens`` tokens."""

    mode: str
    method: str
    input_bytes: int
    tokens: int
    seconds: tuple[float, ...]
    target_mb_per_s: float | None = None

    @property
    def mb_per_s(self) -> float:
        """Input megabytes (10^6 bytes) per second, at the median time."""
        return self.input_bytes / common.MB / self.median_s

    @property
    def tokens_per_s(self) -> float:
        """Tokens per second, at the median time."""
        return self.tokens / self.median_s

    @property
    def verdict(self) -> str:
        if self.target_mb_per_s is None:
            return ""
        return "PASS" if self.mb_per_s >= self.target_mb_per_s else "BELOW"

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "method": self.method,
            "input_bytes": self.input_bytes,
            "tokens": self.tokens,
            **self.runs_json(),
            "mb_per_s": self.mb_per_s,
            "tokens_per_s": self.tokens_per_s,
            "target_mb_per_s": self.target_mb_per_s,
            "verdict": self.verdict or None,
        }


@dataclass(frozen=True)
class Memory:
    """Peak memory and wall time of one ``klcode count`` process."""

    mode: str
    input_bytes: int
    tokens: int
    max_rss_kb: int
    wall_s: float
    method: str

    @property
    def max_rss_mb(self) -> float:
        """Maximum resident set size in MB (10^6 bytes); the tools report kilobytes of 1024 bytes."""
        return self.max_rss_kb * 1024 / common.MB

    @property
    def verdict(self) -> str:
        return "PASS" if self.max_rss_mb < TARGET_MAX_RSS_MB else "BELOW"

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "input_bytes": self.input_bytes,
            "tokens": self.tokens,
            "max_rss_kb": self.max_rss_kb,
            "max_rss_mb": self.max_rss_mb,
            "wall_s": self.wall_s,
            "method": self.method,
            "target_max_rss_mb": TARGET_MAX_RSS_MB,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class CommandTiming(common.RunStatistics):
    """Wall-clock seconds of one whole klcode process over all runs."""

    name: str
    argv: tuple[str, ...]
    seconds: tuple[float, ...]
    target_s: float | None = None

    @property
    def verdict(self) -> str:
        if self.target_s is None:
            return ""
        return "PASS" if self.median_s < self.target_s else "BELOW"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": shlex.join(self.argv),
            **self.runs_json(),
            "target_s": self.target_s,
            "verdict": self.verdict or None,
        }


# ----------------------------------------------------------------------------- helpers
def corpus_block() -> bytes:
    """The texts of :data:`CORPUS_FILES` concatenated (checked to be UTF-8)."""
    block = common.concatenate(common.REPO_ROOT / name for name in CORPUS_FILES)
    block.decode("utf-8")  # raises if a non-UTF-8 file slipped in
    return block


def write_data(path: Path, block: bytes, megabytes: float) -> int:
    """Write ``block`` repeated until at least ``megabytes`` MB to ``path``; the number of repeats."""
    repeats = common.repeats_for(len(block), megabytes)
    with open(path, "wb") as handle:
        handle.writelines(block for _ in range(repeats))
    return repeats


def child_env() -> dict[str, str]:
    """The environment of the klcode processes: the repository root first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(common.REPO_ROOT), env.get("PYTHONPATH"))))
    return env


def klcode_argv(*arguments: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "klcode", *arguments, *QUIET_JSON)


# ----------------------------------------------------------------------------- part 1: throughput
def baseline_bytes(path: Path) -> int:
    """Bytes counted with ``np.bincount`` over ``np.frombuffer`` of 4 MiB chunks; the number of bytes."""
    counts = np.zeros(256, dtype=np.int64)
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            counts += np.bincount(np.frombuffer(chunk, dtype=np.uint8), minlength=256)
    return int(counts.sum())


def baseline_words(path: Path) -> tuple[int, int]:
    """Words counted with ``re.findall(r"\\w+")`` + ``Counter`` over 4 MiB decoded chunks; (tokens, types).

    A word cut by a chunk's end is carried over to the next chunk, so the counts
    equal those of the whole text.
    """
    counter: Counter = Counter()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    carry = ""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            text = carry + decoder.decode(chunk)
            match = LAST_NONWORD.match(text)
            cut = match.end() if match else 0
            counter.update(WORD.findall(text, 0, cut))
            carry = text[cut:]
    counter.update(WORD.findall(carry + decoder.decode(b"", final=True)))
    return sum(counter.values()), len(counter)


def run_klcode(path: Path, mode: str) -> tuple[Counts, float]:
    return common.timed(lambda: count_corpus([path], TokenizerSpec(kind=mode)))


def throughput(path: Path, runs: int) -> list[Timing]:
    """Count ``path`` ``runs`` times in each mode and with each baseline, run by run in turn; all checked."""
    size = path.stat().st_size
    seconds: dict[tuple[str, str], list[float]] = {}
    tokens: dict[tuple[str, str], int] = {}
    types: dict[str, int] = {}

    def record(key: tuple[str, str], count: int, elapsed: float) -> None:
        common.check(count > 0, f"{key[1]} counted no {key[0]} tokens")
        if key in tokens:
            common.check(count == tokens[key], f"{key[1]} {key[0]}: {count:,} tokens, {tokens[key]:,} in the first run")
        tokens[key] = count
        seconds.setdefault(key, []).append(elapsed)

    for run in range(1, runs + 1):
        parts = []
        for mode in MODES:
            counts, elapsed = run_klcode(path, mode)
            common.check(counts.input_bytes == size, f"klcode {mode}: read {counts.input_bytes:,} bytes of {size:,}")
            common.check(types.setdefault(mode, counts.types) == counts.types, f"klcode {mode}: types differ between runs")
            record((mode, "klcode"), counts.total_tokens, elapsed)
            parts.append(f"{mode} {elapsed:.3f} s")
        n_bytes, elapsed = common.timed(lambda: baseline_bytes(path))
        record(("bytes", "np.bincount"), n_bytes, elapsed)
        parts.append(f"np.bincount {elapsed:.3f} s")
        (n_words, n_types), elapsed = common.timed(lambda: baseline_words(path))
        common.check(n_types == types["words"], f"re.findall found {n_types:,} word types, klcode {types['words']:,}")
        record(("words", "re.findall+Counter"), n_words, elapsed)
        parts.append(f"re.findall+Counter {elapsed:.3f} s")
        common.progress(f"[run {run}/{runs}] count {', '.join(parts)} (verified)")

    common.check(tokens["bytes", "klcode"] == size, f"klcode counted {tokens['bytes', 'klcode']:,} bytes of {size:,}")
    for mode, baseline in (("bytes", "np.bincount"), ("words", "re.findall+Counter")):
        common.check(
            tokens[mode, "klcode"] == tokens[mode, baseline],
            f"{mode}: klcode counted {tokens[mode, 'klcode']:,} tokens, {baseline} {tokens[mode, baseline]:,}",
        )
    order = [(m, "klcode") for m in MODES] + [("bytes", "np.bincount"), ("words", "re.findall+Counter")]
    return [
        Timing(mode, method, size, tokens[mode, method], tuple(seconds[mode, method]),
               TARGET_MB_PER_S[mode] if method == "klcode" else None)
        for mode, method in order
    ]


# ----------------------------------------------------------------------------- part 2: peak memory
#: Runs the command of its arguments and prints the peak RSS (KiB) of its children: ru_maxrss of
#: RUSAGE_CHILDREN is the largest over all children waited for, hence one wrapper per measurement.
_RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=False)\n"
    "sys.stderr.write('rusage-maxrss-kb: %d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.stdout.buffer.write(done.stdout)\n"
    "sys.exit(done.returncode)\n"
)
_GNU_MAXRSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_WRAPPER_MAXRSS = re.compile(r"rusage-maxrss-kb: (\d+)")


def peak_memory(path: Path, mode: str, use_gnu_time: bool) -> Memory:
    """Run ``klcode count path --tokens mode`` in its own process; its peak RSS and wall time, checked."""
    argv = klcode_argv("count", str(path), "--tokens", mode)
    if use_gnu_time:
        wrapped, pattern, method = (str(GNU_TIME), "-v", *argv), _GNU_MAXRSS, "/usr/bin/time -v"
    else:
        wrapped = (sys.executable, "-c", _RUSAGE_WRAPPER, *argv)
        pattern, method = _WRAPPER_MAXRSS, "getrusage(RUSAGE_CHILDREN).ru_maxrss of a python -c wrapper"
    done, wall = common.timed(lambda: subprocess.run(wrapped, capture_output=True, env=child_env(), cwd=common.REPO_ROOT, check=False))
    stderr = done.stderr.decode("utf-8", "replace")
    common.check(done.returncode == 0, f"{shlex.join(argv)} exited with status {done.returncode}: {stderr.strip()[-500:]}")
    match = pattern.search(stderr)
    common.check(match is not None, f"no peak memory in the output of {method}: {stderr.strip()[-500:]}")
    summary = json.loads(done.stdout)
    size = path.stat().st_size
    common.check(summary.get("input_bytes") == size, f"klcode count {mode} read {summary.get('input_bytes')} bytes of {size:,}")
    common.check(summary.get("total_tokens", 0) > 0, f"klcode count {mode} counted no tokens")
    return Memory(mode, size, summary["total_tokens"], int(match.group(1)), wall, method)


# ----------------------------------------------------------------------------- part 3: whole processes
def time_commands(runs: int) -> list[CommandTiming]:
    """Each command of :data:`COMMANDS` once untimed (output checked), then ``runs`` times, stdout discarded."""
    env = child_env()
    results = []
    for name, arguments, target in COMMANDS:
        argv = klcode_argv(*arguments)
        first = subprocess.run(argv, capture_output=True, env=env, cwd=common.REPO_ROOT, check=False)
        common.check(first.returncode == 0, f"{shlex.join(argv)} exited with status {first.returncode}: "
              f"{first.stderr.decode('utf-8', 'replace').strip()[-500:]}")
        common.check(bool(json.loads(first.stdout)), f"{shlex.join(argv)} printed an empty result")
        seconds = []
        for run in range(1, runs + 1):
            done, elapsed = common.timed(
                lambda argv=argv: subprocess.run(
                    argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=common.REPO_ROOT, check=False
                )
            )
            common.check(done.returncode == 0, f"{shlex.join(argv)} exited with status {done.returncode}: "
                  f"{done.stderr.decode('utf-8', 'replace').strip()[-500:]}")
            seconds.append(elapsed)
            common.progress(f"[run {run}/{runs}] {name}: {elapsed:.3f} s (exit 0)")
        display = ("python", "-m", "klcode", *arguments, *QUIET_JSON)
        results.append(CommandTiming(name, display, tuple(seconds), target))
    return results


# ----------------------------------------------------------------------------- report
def build_report(results: dict[str, Any]) -> str:
    config = results["config"]
    lines = []
    if "throughput" in results:
        timings = [
            Timing(t["mode"], t["method"], t["input_bytes"], t["tokens"], tuple(t["runs_s"]), t["target_mb_per_s"])
            for t in results["throughput"]
        ]
        baseline = {t.mode: t for t in timings if t.method != "klcode"}
        rows = []
        for t in timings:
            versus = ""
            if t.method == "klcode" and t.mode in baseline:
                versus = f"{t.mb_per_s / baseline[t.mode].mb_per_s:.2f}x {baseline[t.mode].method}"
            rows.append((
                t.mode, t.method, f"{t.tokens / 1e6:,.3f}", f"{t.min_s:.3f}", f"{t.median_s:.3f}", f"{t.max_s:.3f}",
                f"{t.mb_per_s:,.1f}", f"{t.tokens_per_s / 1e6:,.2f}",
                f">= {t.target_mb_per_s:g}" if t.target_mb_per_s is not None else "", t.verdict, versus,
            ))
        lines += [
            f"Counting throughput, median of {config['runs']} runs (MB = 10^6 bytes of input)",
            f"data: {len(CORPUS_FILES)} texts concatenated x{config['repeats']} = {config['input_bytes']:,} bytes "
            f"(token totals checked equal across runs and to the baselines)",
            "",
            common.markdown_table(
                ("mode", "method", "Mtokens", "min s", "median s", "max s", "MB/s", "Mtokens/s", "target MB/s", "",
                 "vs baseline"),
                rows, {0, 1, 9, 10},
            ),
            "",
        ]
    if "memory" in results:
        memory = [Memory(**{k: m[k] for k in ("mode", "input_bytes", "tokens", "max_rss_kb", "wall_s", "method")})
                  for m in results["memory"]]
        rows = [
            (m.mode, f"{m.input_bytes / common.MB:,.1f}", f"{m.max_rss_mb:,.1f}", f"< {TARGET_MAX_RSS_MB:g}", m.verdict,
             f"{m.wall_s:.2f}")
            for m in memory
        ]
        method = memory[0].method if memory else "?"
        lines += [
            f"Peak memory of `python -m klcode count FILE --tokens MODE --quiet --format json`, "
            f"one process per mode, measured by {method}",
            "",
            common.markdown_table(("mode", "input MB", "max RSS MB", "target MB", "", "wall s"), rows, {0, 4}),
            "",
        ]
        if not config.get("gnu_time"):
            lines += [f"NOTE: {GNU_TIME} not found; peak memory from getrusage(RUSAGE_CHILDREN) of a wrapper", ""]
    if "commands" in results:
        commands = [CommandTiming(c["name"], tuple(shlex.split(c["command"])), tuple(c["runs_s"]), c["target_s"])
                    for c in results["commands"]]
        rows = [
            (c.name, f"{c.min_s:.3f}", f"{c.median_s:.3f}", f"{c.max_s:.3f}",
             f"< {c.target_s:g}" if c.target_s is not None else "", c.verdict)
            for c in commands
        ]
        lines += [
            f"Whole processes (`python -m klcode ... --quiet --format json`, stdout discarded, exit 0), "
            f"median of {config['runs']} runs",
            "",
            common.markdown_table(("command", "min s", "median s", "max s", "target s", ""), rows, {0, 5}),
            "",
        ]
        lines += [f"{c.name}: {shlex.join(c.argv)}" for c in commands]
    return "\n".join(lines).rstrip()


# ----------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = common.make_parser(
        "bench_counting",
        "Time klcode's token counting (bytes, chars, words) against plain numpy/re baselines, measure "
        "the peak memory of 'klcode count' processes, and time whole 'klcode compare' and 'klcode matrix' "
        "runs, each against its target. Every count is verified.",
    )
    common.add_megabytes(parser, DEFAULT_MEGABYTES, "size of the throughput data: the texts repeated until at least this many MB")
    parser.add_argument(
        "--memory-megabytes", type=float, default=DEFAULT_MEMORY_MEGABYTES,
        help=f"size of the data of the peak-memory processes, in MB (default {DEFAULT_MEMORY_MEGABYTES:g})",
    )
    common.add_runs(parser, "timed runs of each count and each command")
    parser.add_argument("--skip-throughput", action="store_true", help="do not time the counting in this process")
    parser.add_argument("--skip-memory", action="store_true", help="do not measure the peak memory of 'klcode count'")
    parser.add_argument("--skip-commands", action="store_true", help="do not time 'klcode compare' and 'klcode matrix'")
    parser.add_argument(
        "--keep-data", type=Path, default=None, metavar="DIR",
        help="write the generated data files into this directory (created) and keep them "
        "(default: a temporary directory, deleted at exit)",
    )
    common.add_json(parser, "counting")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, ("megabytes", "memory_megabytes"))
    return args


def benchmark(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    block = corpus_block()
    config: dict[str, Any] = {
        "corpus_files": list(CORPUS_FILES),
        "block_bytes": len(block),
        **common.timing_config(args.runs),
        "chunk_bytes_baselines": CHUNK,
        "gnu_time": str(GNU_TIME) if GNU_TIME.exists() else None,
        "verified": True,
    }
    results: dict[str, Any] = {"benchmark": "counting", "config": config}
    written: dict[Path, int] = {}

    def data_file(megabytes: float) -> tuple[Path, int]:
        """The data file of ``megabytes`` MB, written once in this run; (path, repeats)."""
        path = folder / f"counting-{megabytes:g}MB.txt"
        if path not in written:
            written[path] = write_data(path, block, megabytes)
        return path, written[path]

    if not args.skip_throughput:
        path, repeats = data_file(args.megabytes)
        config.update(megabytes_requested=args.megabytes, repeats=repeats, input_bytes=path.stat().st_size)
        common.progress(f"throughput data: {path} ({config['input_bytes']:,} bytes, {repeats} x {len(block):,}); "
                 f"runs: {args.runs}")
        results["throughput"] = [t.as_json() for t in throughput(path, args.runs)]
    if not args.skip_memory:
        path, _ = data_file(args.memory_megabytes)
        config.update(memory_megabytes_requested=args.memory_megabytes, memory_input_bytes=path.stat().st_size)
        use_gnu_time = GNU_TIME.exists()
        if not use_gnu_time:
            common.progress(f"NOTE: {GNU_TIME} not found; measuring peak memory with getrusage(RUSAGE_CHILDREN) instead")
        common.progress(f"memory data: {path} ({config['memory_input_bytes']:,} bytes)")
        memory = []
        for mode in MODES:
            result = peak_memory(path, mode, use_gnu_time)
            common.progress(f"[memory] count {mode}: max RSS {result.max_rss_mb:.1f} MB, {result.wall_s:.2f} s (exit 0)")
            memory.append(result.as_json())
        results["memory"] = memory
    if not args.skip_commands:
        results["commands"] = [c.as_json() for c in time_commands(args.runs)]
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.skip_throughput and args.skip_memory and args.skip_commands:
        common.progress("nothing to do: every part is skipped")
        return 0
    try:
        if args.keep_data is not None:
            args.keep_data.mkdir(parents=True, exist_ok=True)
            results = benchmark(args, args.keep_data)
            common.progress(f"data kept in {args.keep_data}")
        else:
            with tempfile.TemporaryDirectory(prefix="klcode-bench-") as folder:
                results = benchmark(args, Path(folder))
    except common.VerificationError as error:
        return common.verification_failed(error)
    machine = common.machine_info({"klcode": common.package_version("klcode"), "gnu_time": str(GNU_TIME) if GNU_TIME.exists() else None})
    results = {"benchmark": results.pop("benchmark"), "machine": machine, **results}
    return common.publish(build_report(results), results, args.json)


if __name__ == "__main__":
    sys.exit(main())
