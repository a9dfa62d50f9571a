"""klcode matrix on many small files: 300 pieces of ~3 kB of the bundled corpora, every ordered pair coded.

The files are cut reproducibly from corpora/ (every text of canterbury, genesis
and udhr, in sorted order, split into consecutive 3,000-byte pieces, of which
every k-th is taken to make ``--files``), written to a temporary folder, and
``klcode matrix FOLDER -q --json -o OUT`` is run as a subprocess (the whole
command: start-up, reading, n(n−1) encodings each decoded back).  Wall time,
median of ``--runs``; the output is checked (n labels, every round trip verified).

    python benchmarks/bench_matrix.py [--files 300] [--piece-bytes 3000] [--runs 5]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:  # python -m benchmarks.bench_matrix
    sys.path.insert(0, str(BENCH_DIR))

import common  # noqa: E402

CORPUS_DIRS = ("canterbury", "genesis", "udhr")


def write_pieces(folder: Path, files: int, piece_bytes: int) -> int:
    """Write ``files`` pieces of ``piece_bytes`` bytes of the bundled texts into ``folder``; their total bytes."""
    pieces: list[tuple[str, bytes]] = []
    for name in CORPUS_DIRS:
        for path in sorted((common.REPO_ROOT / "corpora" / name).glob("*.txt")):
            raw = path.read_bytes()
            pieces += [(path.stem, raw[k:k + piece_bytes]) for k in range(0, len(raw) - piece_bytes + 1, piece_bytes)]
    common.check(len(pieces) >= files, f"the corpora give {len(pieces)} pieces, fewer than {files}")
    step = len(pieces) / files
    total = 0
    for n in range(files):
        stem, data = pieces[int(n * step)]
        (folder / f"{n:03d}-{stem}.txt").write_bytes(data)
        total += len(data)
    return total


def run_matrix(folder: Path, output: Path) -> float:
    """Seconds of one ``klcode matrix FOLDER -q --json -o OUTPUT`` (a fresh process)."""
    command = [sys.executable, "-m", "klcode", "matrix", str(folder), "-q", "--json", "-o", str(output)]
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    common.check(completed.returncode == 0, f"klcode matrix failed: {completed.stderr.strip()}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = common.make_parser("bench_matrix.py", __doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="how many files (default 300)")
    parser.add_argument("--piece-bytes", type=int, default=3000, help="bytes per file (default 3000)")
    common.add_runs(parser, "runs of the whole command")
    common.add_json(parser, "matrix")
    args = parser.parse_args(argv)
    common.validate_args(parser, args, positive=("files", "piece_bytes"))
    try:
        with tempfile.TemporaryDirectory(prefix="klcode-bench-matrix-") as temporary:
            folder = Path(temporary) / "pieces"
            folder.mkdir()
            total = write_pieces(folder, args.files, args.piece_bytes)
            output = Path(temporary) / "matrix.json"
            seconds = []
            for run in range(args.runs):
                seconds.append(run_matrix(folder, output))
                common.progress(f"run {run + 1}/{args.runs}: {seconds[-1]:.2f} s")
            document = json.loads(output.read_text(encoding="utf-8"))
            n = args.files
            common.check(len(document["labels"]) == n, f"the matrix has {len(document['labels'])} labels, not {n}")
            common.check(document["roundtrip"] == "verified", "the matrix's round trips were not verified")
    except common.VerificationError as error:
        return common.verification_failed(error)
    runs = {"runs_s": seconds, "min_s": min(seconds), "median_s": statistics.median(seconds), "max_s": max(seconds)}
    pairs = n * (n - 1)
    results: dict[str, Any] = {
        "benchmark": "matrix",
        "config": {**common.timing_config(args.runs), "files": n, "piece_bytes": args.piece_bytes,
                   "input_bytes": total, "pairs": pairs, "command": "klcode matrix FOLDER -q --json -o OUT"},
        "machine": common.machine_info(common.library_versions(), memory=False),
        "matrix": {**runs, "pairs_per_s": pairs / runs["median_s"]},
    }
    results["tables"] = summary_tables(results)
    return common.publish(common.render_table(results["tables"][0]), results, args.json)


def summary_tables(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The result as one table (see :func:`common.table`)."""
    config, timing = results["config"], results["matrix"]
    row = (f"{config['files']:,} × {config['piece_bytes']:,} B", f"{config['pairs']:,}", f"{timing['median_s']:.2f}",
           f"{timing['min_s']:.2f}", f"{timing['max_s']:.2f}", f"{timing['pairs_per_s']:,.0f}")
    return [common.table(
        "matrix", "klcode matrix on many small files (bytes, every pair encoded and decoded back)",
        ("files", "pairs", "median s", "min s", "max s", "pairs/s"), [row], source="matrix",
        notes=[f"The whole command in a fresh process, median of {config['runs']} runs; pieces of the bundled "
               "corpora (canterbury, genesis, udhr) cut at fixed offsets."])]


if __name__ == "__main__":
    sys.exit(main())
