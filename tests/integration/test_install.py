"""``pip install .`` gives a ``cryptovolt`` command equal to ``python -m core``, with ``--version``
and a global ``--home``; the installed copy writes into that home, never into site-packages.

The install is real: pip builds the wheel with setuptools (pyproject.toml's build system) from a
copy of the clone (so the build leaves nothing in the work tree) into a temporary ``--target``,
and the command is that target's ``bin/cryptovolt`` script run as a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from core import config
from core.cli import main
from tests.core_cli import run_core

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --no-deps --target T`` of a copy of the clone; returns T."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "requirements.txt", "requirements-ray.txt"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "core", src / "core", ignore=shutil.ignore_patterns("__pycache__"))
    target = base / "target"
    # the runtime dependencies are this venv's (--no-deps); setuptools too (no download)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    cmd += ["--no-build-isolation", "--target", str(target), str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


def cryptovolt(target: Path, *args: str, env: dict[str, str] | None = None, cwd: Path):
    """Run the installed ``cryptovolt`` script with the target on the path (as a venv would)."""
    run_env = {**os.environ, "PYTHONPATH": str(target), **(env or {})}
    return subprocess.run(
        [sys.executable, str(target / "bin" / "cryptovolt"), *args],
        capture_output=True,
        text=True,
        env=run_env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
def test_pip_install_gives_the_command_its_version_and_the_dependencies(installed: Path, tmp_path):
    done = cryptovolt(installed, "--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cryptovolt {VERSION}"
    assert not (installed / "ui").exists() and not (installed / "pages").exists()  # CLI only
    metadata = next(installed.glob("cryptovolt-*.dist-info")) / "METADATA"
    requires = [
        line.split(": ", 1)[1]
        for line in metadata.read_text().splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    pins = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert [r for r in requires if "extra ==" not in r] == pins  # requirements.txt, the one source
    assert any(r.startswith("ray[client]==") and 'extra == "ray"' in r for r in requires)
    help_text = cryptovolt(installed, "--help", cwd=tmp_path).stdout
    assert help_text.startswith("usage: cryptovolt") and "--home PATH" in help_text


@pytest.mark.slow
def test_installed_command_writes_into_home_and_never_into_site_packages(
    installed: Path, tmp_path: Path, fake_binance
):
    chosen = tmp_path / "chosen"
    env = {"CRYPTOVOLT_HOME": str(tmp_path / "from-env"), "HOME": str(tmp_path / "user")}
    args = ["--home", str(chosen), "fetch", "--coins", "BTC", "--days", "2"]
    done = cryptovolt(installed, *args, "--base-url", fake_binance.url, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (chosen / "data" / "raw" / "BTCUSDT-1h.parquet").is_file()  # --home beat the variable
    assert not (tmp_path / "from-env").exists()

    # without either, an installed copy keeps its files in ~/.cryptovolt, not beside its code
    env = {"HOME": str(tmp_path / "user"), "CRYPTOVOLT_HOME": ""}
    done = cryptovolt(
        installed,
        "fetch",
        "--coins",
        "ETH",
        "--days",
        "2",
        "--base-url",
        fake_binance.url,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "user" / ".cryptovolt" / "data" / "raw" / "ETHUSDT-1h.parquet").is_file()
    assert not (installed / "data").exists()

    # the sample ships with a clone only: an installed copy says so and what to do instead
    done = cryptovolt(
        installed, "--home", str(chosen), "fetch", "--sample", "--coins", "BTC", cwd=tmp_path
    )
    assert done.returncode == 1
    assert "this installed copy has no bundled sample" in done.stderr
    assert "python -m core import" in done.stderr


def test_python_m_core_takes_the_same_global_options(tmp_path: Path):
    home = tmp_path / "elsewhere"
    args = ["--home", str(home), "fetch", "--sample", "--coins", "BTC"]
    done = run_core(tmp_path / "ignored", *args, timeout=120)  # --home wins over the variable
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(home / "data" / "raw" / "BTCUSDT-1h.parquet")) > 9000
    version = subprocess.run(
        [sys.executable, "-m", "core", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert version.stdout.strip() == f"cryptovolt {VERSION}"


def test_home_holds_for_one_call_and_a_file_is_refused(
    home: Path, tmp_path: Path, capsys, monkeypatch
):
    other = tmp_path / "other"
    assert main(["--home", str(other), "fetch", "--sample", "--coins", "ETH"]) == 0
    assert (other / "data" / "raw" / "ETHUSDT-1h.parquet").is_file()
    assert os.environ["CRYPTOVOLT_HOME"] == str(home)  # never written
    assert config.home() == home.resolve()  # the chosen home held for that call only
    assert not (home / "data" / "raw").exists()

    # a relative --home is the folder under the directory the command was run in
    monkeypatch.chdir(tmp_path)
    assert main(["--home", "rel", "fetch", "--sample", "--coins", "SOL"]) == 0
    assert (tmp_path / "rel" / "data" / "raw" / "SOLUSDT-1h.parquet").is_file()

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    capsys.readouterr()
    assert main(["--home", str(a_file), "fetch", "--sample", "--coins", "ETH"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: --home {a_file} is a file, not a folder: give a folder (a missing one is created)."
    ]
    assert os.environ["CRYPTOVOLT_HOME"] == str(home)
