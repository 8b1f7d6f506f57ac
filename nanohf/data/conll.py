"""CoNLL files (one token per line, its tags in the next columns, a blank line between sentences) -> a DatasetDict
with 🤗 datasets' NER columns: `id`, `tokens` (List(Value("string"))) and `ner_tags` (List(ClassLabel)).

    raw = load_dataset("conll", data_files={"train": "wnut17train.conll", "validation": "emerging.dev.conll"})
    raw = load_dataset("wnut_17")            # the WNUT-17 files shipped in the repository's data/wnut17
    raw["train"][0]["tokens"][:3]            # ['@paulwalk', 'It', "'s"]
    raw["train"].features["ner_tags"]        # List(ClassLabel(names=['O', 'B-corporation', 'I-corporation', ...]))

The layout, as the 🤗 `wnut_17` / `conll2003` loading scripts read it:

* A line is `token<delimiter>tag` (WNUT-17: a tab) or `token pos chunk ner` (CoNLL-2003: spaces). The
  delimiter is a tab if the file's first token line has one, else a space (or `delimiter=`). Trailing
  whitespace after the last column is dropped; the token itself is kept as it is (WNUT-17's dev set has a
  token ending in U+FEFF, kept, as 🤗 `wnut_17` keeps it).
* A blank (or whitespace-only) line ends a sentence, and so does a `-DOCSTART-` line (CoNLL-2003's document
  markers, which are not sentences). Several blank lines in a row make no empty sentence.
* Columns: 2 -> tokens, ner_tags; 4 -> tokens, pos_tags, chunk_tags, ner_tags; any other count needs
  `column_names=`. Every column but `tokens` is a tag column, stored as ClassLabel ids.

Tag names (the ClassLabel's order): `label_names=` (or a `features=` with the ClassLabel) fixes them, and a tag
outside them is an error naming its file and line. Otherwise they are collected from all the files: tags
without a `<prefix>-<type>` form first (O), then the entity types in alphabetical order, B- before I- within a
type. For WNUT-17 that is exactly 🤗 `wnut_17`'s order (O, B-corporation, I-corporation, B-creative-work, ...),
in which every B- tag is odd and its I- tag the next id: the property the course's `label % 2 == 1` trick in
`align_labels_with_tokens` relies on. (For CoNLL-2003 🤗 orders PER, ORG, LOC, MISC: pass label_names=.)

A malformed line -- the wrong number of columns, an empty column -- raises ValueError naming the file and line.
The files are small; they are read into memory (no disk cache, as load_glue).
"""

import os
from pathlib import Path

from .dataset import Dataset
from .dataset_dict import DatasetDict
from .features import ClassLabel, Features, List, Value

DEFAULT_COLUMNS = {2: ("tokens", "ner_tags"), 4: ("tokens", "pos_tags", "chunk_tags", "ner_tags")}
OPTIONS = {"column_names": None, "label_names": None, "delimiter": None, "encoding": "utf-8-sig"}
REPO_DATA = Path(__file__).resolve().parents[2] / "data"
WNUT17_FILES = {"train": "wnut17train.conll", "validation": "emerging.dev.conll", "test": "emerging.test.annotated"}
_PREFIX_ORDER = {"B": 0, "I": 1}  # B-X before I-X; other prefixes (E-, S-, L-, U-) after, alphabetically


def _sentences(path, delimiter, encoding):
    """Yield (first line number, [fields of each token line]) per sentence of one file (line numbers from 1)."""
    try:
        with open(path, encoding=encoding, newline="") as f:
            lines = f.read().split("\n")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not {encoding} text (byte {error.start}: {error.reason}); pass encoding=") from None
    sentence, start, width = [], None, None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith("-DOCSTART-"):
            if sentence:
                yield start, sentence
            sentence, start = [], None
            continue
        if delimiter is None:
            delimiter = "\t" if "\t" in line else " "
        fields = line.split(delimiter)
        fields[-1] = fields[-1].rstrip()
        if width is None:
            width = len(fields)
        shown = "a tab" if delimiter == "\t" else repr(delimiter)
        if len(fields) != width:
            raise ValueError(
                f"{path}, line {number}: malformed CoNLL line {line!r}: {len(fields)} columns separated "
                f"by {shown}, but the file's first token line has {width}"
            )
        if any(field == "" for field in fields):
            raise ValueError(
                f"{path}, line {number}: malformed CoNLL line {line!r}: an empty column (columns are "
                f"separated by {shown})"
            )
        sentence.append((number, fields))
        start = number if start is None else start
    if sentence:
        yield start, sentence


def _tag_order(tag):
    """Sort key of the inferred label order: plain tags (O) first, then by entity type, B- before I-."""
    prefix, dash, kind = tag.partition("-")
    if not dash or not kind:
        return (0, tag, 0, "")
    return (1, kind, _PREFIX_ORDER.get(prefix, len(_PREFIX_ORDER)), prefix)


def infer_label_names(tags) -> list[str]:
    """The distinct tags in the order described in the module docstring (🤗 wnut_17's order for WNUT-17)."""
    return sorted(set(tags), key=_tag_order)


def _tag_names(features, column, given, is_last):
    """Declared names of a tag column: from a features= ClassLabel, or label_names= (the last, NER, column)."""
    if features is not None and column in features:
        inner = getattr(features[column], "feature", None)
        if isinstance(inner, ClassLabel):
            return list(inner.names)
    return list(given) if given is not None and is_last else None


def read_conll_files(files, column_names=None, label_names=None, delimiter=None, encoding="utf-8-sig",
                     features=None) -> DatasetDict:  # fmt: skip
    """{split: [paths]} -> a DatasetDict with columns id, tokens and the tag columns (ClassLabel ids).

    Args:
        files: {split name: list of CoNLL file paths} (the files of a split are concatenated in order).
        column_names: names of the columns of a line, first being the tokens (default: see DEFAULT_COLUMNS).
        label_names: the last column's (ner_tags') ClassLabel names, in id order (default: inferred from all files).
        delimiter: the column separator (default: a tab if the first token line has one, else a space).
        encoding: the files' text encoding (a leading byte-order mark is dropped).
        features: declared Features; a List(ClassLabel) column there fixes that column's names.
    """
    read = {}  # split -> [(path, [(line number, fields)], column names)], one per sentence
    for split, paths in files.items():
        rows = []
        for path in paths:
            for line, sentence in _sentences(os.fspath(path), delimiter, encoding):
                width = len(sentence[0][1])
                names = tuple(column_names) if column_names is not None else DEFAULT_COLUMNS.get(width)
                if names is None:
                    raise ValueError(f"{path}, line {line}: {width} columns per line; pass column_names= (the first "
                                     "being the tokens), as only 2 (tokens, ner_tags) and 4 (tokens, pos_tags, "
                                     "chunk_tags, ner_tags) are known")  # fmt: skip
                if len(names) != width:
                    raise ValueError(f"{path}, line {line}: {width} columns per line, but column_names has "
                                     f"{len(names)}: {list(names)}")  # fmt: skip
                rows.append((path, sentence, names))
        read[split] = rows
    all_names = [names for rows in read.values() for _, _, names in rows]
    if len(set(all_names)) > 1:
        raise ValueError(f"The files do not all have the same columns: {sorted(set(all_names))}")
    names = all_names[0] if all_names else tuple(column_names or DEFAULT_COLUMNS[2])
    tag_columns = names[1:]
    classes = {}
    for position, column in enumerate(tag_columns, start=1):
        declared = _tag_names(features, column, label_names, position == len(tag_columns))
        if declared is None:
            declared = infer_label_names(f[position] for rows in read.values() for _, s, _ in rows for _, f in s)
        classes[column] = {name: i for i, name in enumerate(declared)}
    out_features = Features({"id": Value("string"), names[0]: List(Value("string")),
                             **{c: List(ClassLabel(names=list(classes[c]))) for c in tag_columns}})  # fmt: skip
    splits = {}
    for split, rows in read.items():
        data = {"id": [str(i) for i in range(len(rows))], names[0]: [[f[0] for _, f in s] for _, s, _ in rows]}
        for position, column in enumerate(tag_columns, start=1):
            ids = classes[column]
            values = []
            for path, sentence, _ in rows:
                row = []
                for number, fields in sentence:
                    tag = fields[position]
                    if tag not in ids:
                        raise ValueError(f"{path}, line {number}: the {column} tag {tag!r} is not one of the "
                                         f"{len(ids)} label names {list(ids)}")  # fmt: skip
                    row.append(ids[tag])
                values.append(row)
            data[column] = values
        splits[split] = Dataset.from_dict(data, features=out_features)
    return DatasetDict(splits)


def load_wnut17(data_dir=None, split=None):
    """WNUT-17 (the repository's data/wnut17, see data/README.md) as 🤗 `wnut_17`: train (3,394 sentences),
    validation (1,009), test (1,287); columns id, tokens, ner_tags with 🤗's 13 label names.

    Args:
        data_dir: the folder holding wnut17train.conll, emerging.dev.conll and emerging.test.annotated
            (default: the repository's data/wnut17).
        split: "train", "validation" or "test" to get that Dataset alone.
    """
    folder = Path(data_dir) if data_dir is not None else REPO_DATA / "wnut17"
    if split is not None and split not in WNUT17_FILES:
        raise ValueError(f'Unknown split "{split}". Should be one of {list(WNUT17_FILES)}.')
    missing = [name for name in WNUT17_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"WNUT-17 files {missing} not found in {folder}. They ship in the nanohf repository's "
                                "data/wnut17 folder; pass data_dir= if they are elsewhere.")  # fmt: skip
    names = list(WNUT17_FILES) if split is None else [split]
    kinds = ["corporation", "creative-work", "group", "location", "person", "product"]
    labels = ["O"] + [f"{p}-{k}" for k in kinds for p in "BI"]
    splits = read_conll_files({s: [folder / WNUT17_FILES[s]] for s in names}, label_names=labels, delimiter="\t")
    return splits if split is None else splits[split]
