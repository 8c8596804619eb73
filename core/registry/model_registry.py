"""The model registry: named, versioned models on disk with checksummed artifacts.

Layout under the root (default ``{home}/models``)::

    models/{name}/                 name = model_name(kind, symbol), e.g. xgboost_btcusdt
        state.json                 {"promoted": "v3", "last_version": 3}, written atomically
        .lock                      flock'ed while a version number is handed out
        v1/ v2/ v3/                one folder per version: the model's artifacts + metadata.json
        .tmp-{pid}-{hex}/          a save in progress (hidden: readers never look at it)

A save writes everything into a hidden temp folder, checksums every file, fsyncs, and only then
renames the folder to ``vN``; a process killed at any point leaves either no new version or a
complete one. Version numbers are never reused, even after a delete (``last_version``).

Loading reads every artifact's bytes once, checks them against the sha256 in ``metadata.json``
and hands the model loader a private copy of exactly those verified bytes, so nothing unverified
is ever deserialised.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from core.context import Context
from core.errors import IntegrityError, ModelError, ModelNotFoundError, storage_error
from core.registry.artifacts import (
    METADATA_FILE,
    STATE_FILE,
    TMP_PREFIX,
    TRASH_PREFIX,
    clean_stale,
    files_under,
    fsync_tree,
    json_default,
    locked,
    read_state,
    read_verified,
    sha256_file,
    version_numbers,
    write_state,
)
from core.registry.metadata import ModelMetadata
from core.registry.names import NAME_PATTERN as _NAME
from core.registry.names import model_name, parse_version

__all__ = [
    "PREDICTIONS_FILE",
    "ModelRegistry",
]

PREDICTIONS_FILE = "predictions.parquet"


class Savable(Protocol):
    """What the registry needs of a model: it writes its own files into a folder."""

    def save(self, directory: Path) -> list[str]:
        """Write the model into ``directory``; returns the file names written."""
        ...


class ModelRegistry:
    """Versioned models under ``root``, the models folder of a home (``context.paths.models``).

    Every public method takes a model ``name`` (see :func:`model_name`) and, where it makes sense,
    a ``version`` (``"v3"``, ``3``; ``None`` = the promoted version).
    """

    def __init__(self, root: Path | None = None) -> None:
        """``root``: the registry folder; the CLI and the dashboard pass their context's
        (``context.paths.models``). Left out (a notebook's ``ModelRegistry()``), it is the
        models folder of the home the environment names, :meth:`core.context.Context.from_env`,
        resolved here, once: the one place the registry takes its root from the process.

        Raises:
            ConfigError: left out while ``CRYPTOVOLT_HOME`` names a file.
        """
        if root is None:
            root = Context.from_env().paths.models
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    # ---- writing -------------------------------------------------------------------------

    def save(
        self,
        model: Savable,
        metadata: ModelMetadata,
        *,
        predictions: pd.DataFrame | None = None,
        promote: bool = True,
    ) -> ModelMetadata:
        """Register ``model`` as the next version of its name; promote it unless ``promote`` is
        False (a challenger that did not beat the champion stays registered, unpromoted).

        ``metadata`` must have ``model_type`` and ``symbol`` (they make the name); the registry
        sets ``name``, ``version``, ``created_at`` and ``artifacts`` (file → sha256).
        ``model.save(folder)`` writes the model's own files; ``predictions`` (out-of-sample
        predictions) is stored as ``predictions.parquet``. Returns the record as written, with
        ``promoted`` set.

        Raises:
            ModelError: metadata without ``model_type``/``symbol``, or ``model.save`` wrote
                files it did not report / reported files it did not write.
        """
        metadata = self._before_save(metadata)
        for key in ("model_type", "symbol"):
            if not getattr(metadata, key):
                raise ModelError(
                    f"Model metadata needs {key!r} to name the model; got {metadata.to_dict()!r}."
                )
        name = model_name(metadata.model_type, metadata.symbol)
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        clean_stale(folder)
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=folder))
        try:
            reported = [str(f) for f in (model.save(tmp) or [])]
            if predictions is not None:
                predictions.to_parquet(tmp / PREDICTIONS_FILE, index=False)
                reported = [*dict.fromkeys([*reported, PREDICTIONS_FILE])]
            present = files_under(tmp)
            missing = sorted(set(reported) - set(present))
            if missing:
                raise ModelError(f"{name}: model.save reported {missing} but did not write them.")
            if METADATA_FILE in present:
                raise ModelError(f"{name}: model.save must not write {METADATA_FILE}.")
            record = replace(
                metadata,
                name=name,
                artifacts={f: sha256_file(tmp / f) for f in present},
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            with locked(folder):
                number = read_state(folder)["last_version"] + 1
                record = replace(record, version=f"v{number}")
                meta = record.to_dict()
                meta.pop("promoted")  # state.json says which version is promoted
                text = json.dumps(meta, indent=2, default=json_default)
                (tmp / METADATA_FILE).write_text(text + "\n")
                fsync_tree(tmp)
                os.rename(tmp, folder / f"v{number}")
                state = read_state(folder)
                promoted = f"v{number}" if promote or not state["promoted"] else state["promoted"]
                write_state(folder, promoted=promoted, last_version=number)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            full = storage_error(exc, folder) if isinstance(exc, OSError) else None
            if full is not None:  # a full or read-only disk: no new version, the words say why
                raise full from exc
            raise
        record = replace(record, promoted=promoted == f"v{number}")
        self._after_save(record)
        return record

    def _before_save(self, metadata: ModelMetadata) -> ModelMetadata:
        """Hook for a registry that adds to every card it saves; returns the metadata to write."""
        return metadata

    def _after_save(self, record: ModelMetadata) -> None:
        """Hook for a registry that reports every version it saved (``record`` as written)."""

    def promote(self, name: str, version: str | int) -> ModelMetadata:
        """Make ``version`` the one ``get_model(name)`` returns; returns its record.

        Raises:
            ModelNotFoundError: no such model or version.
        """
        folder = self._model_folder(name)
        label = f"v{parse_version(version)}"
        with locked(folder):
            self._version_folder(name, label)
            state = read_state(folder)
            write_state(folder, promoted=label, last_version=state["last_version"])
        return self.record(name, label)

    def delete(self, name: str, version: str | int) -> None:
        """Remove one version for good; its number is never handed out again.

        Deleting the promoted version promotes the newest remaining one (or none is left).

        Raises:
            ModelNotFoundError: no such model or version.
        """
        folder = self._model_folder(name)
        label = f"v{parse_version(version)}"
        with locked(folder):
            target = self._version_folder(name, label)
            state = read_state(folder)
            trash = folder / f"{TRASH_PREFIX}{label}-{os.getpid()}-{time.time_ns()}"
            os.rename(target, trash)  # atomic: readers see the version or nothing
            remaining = version_numbers(folder)
            promoted = state["promoted"]
            if promoted == label or promoted not in {f"v{n}" for n in remaining}:
                promoted = f"v{remaining[-1]}" if remaining else None
            write_state(folder, promoted=promoted, last_version=state["last_version"])
        shutil.rmtree(trash, ignore_errors=True)

    # ---- reading -------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Model names that have at least one version, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and _NAME.match(p.name) and version_numbers(p)
        )

    def versions(self, name: str) -> list[str]:
        """A model's versions, oldest first (``["v1", "v3"]``); empty if it has none."""
        folder = self.root / name
        return [f"v{n}" for n in version_numbers(folder)] if _NAME.match(name) else []

    def promoted_version(self, name: str) -> str:
        """The promoted version of ``name`` (the newest one if the state file is missing).

        Raises:
            ModelNotFoundError: the model has no versions.
        """
        folder = self._model_folder(name)
        numbers = version_numbers(folder)
        promoted = read_state(folder)["promoted"]
        if promoted in {f"v{n}" for n in numbers}:
            return str(promoted)
        if not numbers:
            raise ModelNotFoundError(self._not_found(name))
        return f"v{numbers[-1]}"

    def record(self, name: str, version: str | int | None = None) -> ModelMetadata:
        """The record of a version (promoted by default), with ``promoted`` set.

        Raises:
            ModelNotFoundError: no such model or version.
            IntegrityError: metadata.json is not readable JSON.
        """
        label = self._resolve(name, version)
        meta = self._read_metadata(name, label)
        meta["promoted"] = label == self.promoted_version(name)
        return ModelMetadata.from_dict(meta)

    def get_model(self, name: str, version: str | int | None = None) -> Any:
        """Load a version (promoted by default) after verifying every artifact's checksum.

        Raises:
            ModelNotFoundError: no such model or version.
            IntegrityError: an artifact changed, vanished or appeared since it was saved; the
                model is not loaded.
        """
        label = self._resolve(name, version)
        meta = self._read_metadata(name, label)
        verified = self._verified_artifacts(name, label, meta)
        from core.models import (
            load_model,  # lazily: keeps `import core.registry.model_registry` light
        )

        with tempfile.TemporaryDirectory(prefix="cryptovolt-verified-") as scratch:
            # the loader reads the bytes we just verified, never the files a second time
            for rel, data in verified.items():
                target = Path(scratch) / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return load_model(meta["model_type"], Path(scratch))

    def get_predictions(self, name: str, version: str | int | None = None) -> pd.DataFrame:
        """The version's out-of-sample predictions (``predictions.parquet``), verified first.

        Raises:
            ModelNotFoundError: no such model or version, or it was saved without predictions.
            IntegrityError: the file's checksum does not match.
        """
        label = self._resolve(name, version)
        meta = self._read_metadata(name, label)
        if PREDICTIONS_FILE not in (meta.get("artifacts") or {}):
            raise ModelNotFoundError(
                f"{name} {label} was saved without {PREDICTIONS_FILE}: retrain the coin."
            )
        data = self._verified_artifacts(name, label, meta, only=[PREDICTIONS_FILE])
        return pd.read_parquet(io.BytesIO(data[PREDICTIONS_FILE]))

    def verify(self, name: str, version: str | int | None = None) -> None:
        """Check every artifact of a version against its checksum without loading anything.

        Raises:
            ModelNotFoundError, IntegrityError: as :meth:`get_model`.
        """
        label = self._resolve(name, version)
        self._verified_artifacts(name, label, self._read_metadata(name, label))

    def records(self) -> list[ModelMetadata]:
        """One record per version of every model (name, then version order), ``promoted`` set.

        A version whose metadata cannot be read still appears, with ``name``, ``version``,
        ``symbol``/``model_type`` from the name and the message in :attr:`ModelMetadata.error`.
        """
        out: list[ModelMetadata] = []
        for name in self.names():
            try:
                promoted = self.promoted_version(name)
            except ModelNotFoundError:
                continue  # deleted between names() and here
            for label in self.versions(name):
                try:
                    meta = self._read_metadata(name, label)
                except ModelNotFoundError:
                    continue
                except IntegrityError as exc:
                    kind, _, sym = name.rpartition("_")
                    meta = {"name": name, "version": label, "model_type": kind}
                    meta.update(symbol=sym.upper(), error=str(exc))
                meta["promoted"] = label == promoted
                out.append(ModelMetadata.from_dict(meta))
        return out

    def cache_key(self) -> tuple[tuple[str, str, int, int], ...]:
        """A cheap fingerprint that changes whenever a version is added, deleted or promoted.

        ``(name, version or "state", mtime_ns, inode)`` per metadata/state file: key UI caches on
        it. The inode too, because two writes in one clock tick can share an mtime (kernels before
        6.13 stamp files at 1-10 ms resolution), and every write is atomic: a new file each time.
        """
        keys: list[tuple[str, str, int, int]] = []
        for name in self.names():
            folder = self.root / name
            for label in ("state", *self.versions(name)):
                path = folder / (STATE_FILE if label == "state" else f"{label}/{METADATA_FILE}")
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    keys.append((name, label, stat.st_mtime_ns, stat.st_ino))
        return tuple(keys)

    # ---- internals -----------------------------------------------------------------------

    def _not_found(self, name: str, label: str | None = None) -> str:
        what = f"{name} {label}" if label else name
        have = ", ".join(self.versions(name)) or "none"
        return (
            f"No model {what} in {self.root} (versions: {have}). Train it on the Training page "
            "or with `python -m core train`; `python -m core models` lists what exists."
        )

    def _model_folder(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ModelNotFoundError(
                f"{name!r} is not a model name like 'xgboost_btcusdt' or 'lstm_ethusdt'."
            )
        folder = self.root / name
        if not folder.is_dir():
            raise ModelNotFoundError(self._not_found(name))
        return folder

    def _version_folder(self, name: str, label: str) -> Path:
        path = self._model_folder(name) / label
        if not path.is_dir():
            raise ModelNotFoundError(self._not_found(name, label))
        return path

    def _resolve(self, name: str, version: str | int | None) -> str:
        if version is None:
            return self.promoted_version(name)
        label = f"v{parse_version(version)}"
        self._version_folder(name, label)
        return label

    def _read_metadata(self, name: str, label: str) -> dict[str, Any]:
        path = self._version_folder(name, label) / METADATA_FILE
        try:
            meta = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelNotFoundError(self._not_found(name, label)) from None
        except (OSError, ValueError) as exc:
            raise IntegrityError(
                f"{name} {label}: {METADATA_FILE} cannot be read ({exc}). Delete this version "
                f"(`python -m core models delete {name} {label}`) and retrain the coin."
            ) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("artifacts"), dict):
            raise IntegrityError(
                f"{name} {label}: {METADATA_FILE} has no artifact checksums. Delete this version "
                f"(`python -m core models delete {name} {label}`) and retrain the coin."
            )
        return meta

    def _verified_artifacts(
        self, name: str, label: str, meta: Mapping[str, Any], *, only: list[str] | None = None
    ) -> dict[str, bytes]:
        fix = (
            f"Retrain the coin, or delete this version (`python -m core models delete {name} "
            f"{label}`)."
        )
        folder = self._version_folder(name, label)
        return read_verified(folder, meta["artifacts"], what=f"{name} {label}", fix=fix, only=only)
