"""Where checkpoint files come from: a local folder, or the local Hugging Face cache.

A name such as ``bert-base-uncased`` or ``org/name`` is looked up in the cache layout that
``huggingface_hub`` writes (``$HF_HUB_CACHE`` or ``$HF_HOME/hub``, default
``~/.cache/huggingface/hub``)::

    models--org--name/refs/main            -> the revision (a commit hash)
    models--org--name/snapshots/<rev>/...  -> the files

Only when the ``huggingface_hub`` package is installed and not told to stay offline
(``HF_HUB_OFFLINE=1``) is a missing name downloaded; otherwise the error says where the
files must be.
"""

import os
import tempfile
from pathlib import Path


def hub_cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    hf_home = os.environ.get("HF_HOME", os.path.join(os.path.expanduser("~"), ".cache", "huggingface"))
    return Path(hf_home) / "hub"


def repo_cache_dir(model_id: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """``<cache>/models--org--name``: where huggingface_hub keeps ``model_id``'s files (``cache_dir``: the
    cache's root, as transformers' ``cache_dir=``; default: the environment's)."""
    root = Path(cache_dir) if cache_dir is not None else hub_cache_dir()
    return root / ("models--" + model_id.replace("/", "--"))


def _is_plain_name(name: str) -> bool:
    """A single folder name: not empty, no separator, no parent reference, not absolute."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and not os.path.isabs(name)


def cached_snapshot(
    model_id: str, revision: str | None = None, cache_dir: str | os.PathLike | None = None
) -> Path | None:
    """The snapshot folder of ``model_id`` in the local cache, or None when it is not there.

    ``revision``: a branch or tag (read from ``refs/<revision>``) or a commit hash, full or abbreviated
    (matched against the snapshot folder names). Without it: ``refs/main``, else the one snapshot there is.
    A ref file is data: it is followed only when it names a snapshot folder directly, and a ref holding
    a path (``../../elsewhere``, an absolute path) is a ValueError, never a folder outside the cache.
    """
    repo = repo_cache_dir(model_id, cache_dir)
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref_name = revision or "main"
    ref = repo / "refs" / ref_name
    if _is_plain_name(ref_name) and ref.is_file():
        commit = ref.read_text(encoding="utf-8").strip()
        if not _is_plain_name(commit):
            raise ValueError(f"{ref} holds {commit!r}, which is not a snapshot name: refusing to follow it")
        candidate = snapshots / commit
        return candidate if candidate.is_dir() else None
    folders = sorted(p for p in snapshots.iterdir() if p.is_dir())
    if revision is not None:
        matches = [p for p in folders if p.name.startswith(revision)]
        return matches[0] if len(matches) == 1 else None
    return folders[0] if len(folders) == 1 else None


def _download(name: str) -> Path | None:
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return None
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        path = snapshot_download(name, allow_patterns=["*.json", "*.safetensors", "*.txt", "*.model"])
    except Exception:  # offline, unknown repo, no permission: fall through to the clear error
        return None
    return Path(path)


def resolve_checkpoint_dir(name_or_path: str | os.PathLike) -> Path:
    """The folder holding a checkpoint's files, or a FileNotFoundError saying where to put them."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    name = str(name_or_path)
    snapshot = cached_snapshot(name) or _download(name)
    if snapshot is not None:
        return snapshot
    raise FileNotFoundError(
        f"{name!r} is neither a folder nor a model in the local Hugging Face cache. Put its files "
        f"(config.json, model.safetensors, tokenizer files) in a folder and pass that folder, or place "
        f"them under {hub_cache_dir() / ('models--' + name.replace('/', '--'))}/snapshots/<revision>/ "
        f"(install huggingface_hub and go online to download them)."
    )


def resolve_file(name_or_path: str | os.PathLike, filename: str) -> Path:
    """The path of ``filename`` inside the checkpoint, or a clear FileNotFoundError."""
    folder = resolve_checkpoint_dir(name_or_path)
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no {filename}")
    return path


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    A crash mid-write leaves the old file (or none), never half a file; a process killed mid-write leaves
    at most a ``.<name>.*.tmp`` file, which :func:`remove_orphaned_temporaries` clears at the next save. A
    failed write (a full disk, a read-only folder) is an OSError naming ``path``, the old file intact.
    """
    path = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and str(path) not in str(err):
            raise OSError(err.errno, f"could not write {path}: {err.strerror or err}") from err
        raise


TEMPORARY_SUFFIX = ".tmp"


def remove_orphaned_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the ``.<name>.*.tmp`` files a killed :func:`write_atomically` left in ``folder``; returns them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    orphans = [p for p in folder.iterdir()
               if p.is_file() and p.name.startswith(".") and p.name.endswith(TEMPORARY_SUFFIX)]  # fmt: skip
    for orphan in orphans:
        orphan.unlink(missing_ok=True)
    return orphans


def hub_upload_error(what: str) -> OSError:
    """The error every ``push_to_hub`` gives (``what``: "model", "config", "tokenizer", "trainer", ...).

    transformers would contact huggingface.co here (and, offline, fail in huggingface_hub). nanohf never uploads:
    it saves locally, and the saved folder is what huggingface_hub can upload.
    """
    return OSError(
        f"{what}.push_to_hub(...): nanohf works offline and never uploads to the Hugging Face Hub. Save with "
        f"{what}.save_pretrained(folder) (or trainer.save_model(folder)), then upload that folder with huggingface_hub "
        f"if you want it on the Hub: `hf upload <repo_id> <folder>` or HfApi().upload_folder(...)."
    )
