"""The GLUE files shipped in the repository's data/ folder, read into 🤗 `glue`'s columns and labels.

    raw = load_glue("mrpc")
    raw                                  # DatasetDict({train: 3,668 rows, validation: 408 rows})
    raw["train"][0]                      # {"sentence1": ..., "sentence2": ..., "label": 1, "idx": 0}
    raw["train"].features["label"].names # ["not_equivalent", "equivalent"]

The files are GLUE's own TSVs (see data/README.md for their origin and licence), whose quirks we handle:

* SST-2 (`sentence\\tlabel`): every sentence ends with a space before the tab; we strip it.
* MRPC (`Quality\\t#1 ID\\t#2 ID\\t#1 String\\t#2 String`): the header starts with a UTF-8 byte-order mark,
  and sentences contain `"` characters, some at the start of a field (train.tsv line 93: `" This is an
  extremely heartrending time ...`). A CSV reader would take that for an opening quote and swallow the
  following lines into one field, so the lines are split on tabs, quote characters being plain text.
"""

import os
from pathlib import Path

from .dataset import Dataset
from .dataset_dict import DatasetDict
from .features import ClassLabel, Features, Value

GLUE_TASKS = {
    "sst2": {"columns": ["sentence"], "labels": ["negative", "positive"]},
    "mrpc": {"columns": ["sentence1", "sentence2"], "labels": ["not_equivalent", "equivalent"]},
}
SPLIT_FILES = {"train": "train.tsv", "validation": "dev.tsv"}
REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def _task_folder(task, data_dir):
    """The folder holding train.tsv and dev.tsv: `data_dir` itself, or `data_dir`/glue_<task>."""
    candidates = [REPO_DATA / f"glue_{task}"] if data_dir is None else [Path(data_dir), Path(data_dir) / f"glue_{task}"]
    for folder in candidates:
        if (folder / "train.tsv").is_file():
            return folder
    raise FileNotFoundError(f"GLUE {task} files (train.tsv, dev.tsv) not found in {[str(c) for c in candidates]}. "
                            "They ship in the nanohf repository's data/ folder; pass data_dir= if they are elsewhere.")


def _read_rows(path):
    """Tab-separated fields of every line after the header: no quoting, byte-order mark removed."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().split("\n")
    return [line.rstrip("\r").split("\t") for line in lines[1:] if line.strip("\r")]


def _read_split(task, path):
    rows = _read_rows(path)
    if task == "sst2":
        data = {"sentence": [row[0].rstrip() for row in rows], "label": [int(row[1]) for row in rows]}
    else:  # mrpc: Quality, #1 ID, #2 ID, #1 String, #2 String
        bad = [i + 2 for i, row in enumerate(rows) if len(row) != 5]
        if bad:
            raise ValueError(f"{path}: line {bad[0]} does not have the 5 tab-separated MRPC fields")
        data = {"sentence1": [row[3] for row in rows], "sentence2": [row[4] for row in rows],
                "label": [int(row[0]) for row in rows]}
    data["idx"] = list(range(len(rows)))
    spec = GLUE_TASKS[task]
    features = Features({**{c: Value("string") for c in spec["columns"]},
                         "label": ClassLabel(names=spec["labels"]), "idx": Value("int32")})
    return Dataset.from_dict(data, features=features)


def load_glue(task, data_dir=None, split=None):
    """GLUE "sst2" or "mrpc" as {"train", "validation"} splits with 🤗 glue's columns and label names.

    Args:
        task: "sst2" (columns sentence, label, idx) or "mrpc" (sentence1, sentence2, label, idx).
        data_dir: folder with train.tsv and dev.tsv (or its parent holding glue_<task>/); default: the
            repository's data/glue_<task>.
        split: "train" or "validation" to get that Dataset alone.
    """
    if task not in GLUE_TASKS:
        raise ValueError(f"load_glue knows {sorted(GLUE_TASKS)}, not {task!r}")
    folder = _task_folder(task, data_dir)
    names = list(SPLIT_FILES) if split is None else [split]
    if split is not None and split not in SPLIT_FILES:
        raise ValueError(f'Unknown split "{split}". Should be one of {list(SPLIT_FILES)}.')
    splits = DatasetDict({name: _read_split(task, os.path.join(folder, SPLIT_FILES[name])) for name in names})
    return splits if split is None else splits[split]
