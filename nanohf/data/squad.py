"""SQuAD files (the official JSON: articles -> paragraphs -> questions) -> a DatasetDict with 🤗 datasets'
`squad` / `squad_v2` columns: one row per question.

    raw = load_dataset("squad_v2")     # the shipped SQuAD 2.0 dev subset (data/squad_v2_dev_subset): "validation"
    raw = load_dataset("squad", data_files={"train": "train-v1.1.json", "validation": "dev-v1.1.json"})
    raw["validation"][0]
    # {'id': '56ddde6b9a695914005b9628', 'title': 'Normans', 'context': 'The Normans (Norman: ...',
    #  'question': 'In what country is Normandy located?',
    #  'answers': {'text': ['France', 'France', 'France', 'France'], 'answer_start': [159, 159, 159, 159]}}

The rows are those of 🤗's `squad` / `squad_v2` loading scripts: `id`, `title` (the article's), `context` (the
paragraph's, as written: not stripped), `question`, and `answers` -- a struct of two lists, `text` and
`answer_start` (a character offset into the context), one entry per annotator; an unanswerable SQuAD 2.0
question (`is_impossible`) has both lists empty. SQuAD 2.0's `plausible_answers` are not kept (🤗 drops them
too). Questions come in file order: article by article, paragraph by paragraph.

The files are read as they are; whether each `answer_start` really points at its `text` is checked where the
offsets are used, by the preprocessing (examples/question_answering_squad.py), which names the question's id.
A file that is not SQuAD-shaped (no "data" list, a paragraph without "context", a question without "id") is
a ValueError naming the file and the place.
"""

import json
import os
from pathlib import Path

from .dataset import Dataset
from .dataset_dict import DatasetDict
from .features import Features, List, Value

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
SQUAD_V2_SUBSET = REPO_DATA / "squad_v2_dev_subset" / "dev-subset.json"
SQUAD_FEATURES = Features({
    "id": Value("string"), "title": Value("string"), "context": Value("string"), "question": Value("string"),
    "answers": {"text": List(Value("string")), "answer_start": List(Value("int32"))},
})  # fmt: skip


def read_squad_file(path) -> dict[str, list]:
    """One SQuAD JSON file -> its columns {id, title, context, question, answers} (a list per column)."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a JSON file ({error})") from None
    articles = document.get("data") if isinstance(document, dict) else None
    if not isinstance(articles, list):
        raise ValueError(f"{path}: a SQuAD file is a JSON object with a 'data' list of articles")
    columns = {name: [] for name in SQUAD_FEATURES}
    for a, article in enumerate(articles):
        where = f"{path}: data[{a}]"
        for p, paragraph in enumerate(_field(article, "paragraphs", list, where)):
            context = _field(paragraph, "context", str, f"{where}.paragraphs[{p}]")
            for q, qa in enumerate(_field(paragraph, "qas", list, f"{where}.paragraphs[{p}]")):
                place = f"{where}.paragraphs[{p}].qas[{q}]"
                answers = _field(qa, "answers", list, place)
                columns["id"].append(_field(qa, "id", str, place))
                columns["title"].append(article.get("title", ""))
                columns["context"].append(context)
                columns["question"].append(_field(qa, "question", str, place))
                columns["answers"].append({
                    "text": [_field(answer, "text", str, f"{place}.answers[{i}]") for i, answer in enumerate(answers)],
                    "answer_start": [_field(answer, "answer_start", int, f"{place}.answers[{i}]")
                                     for i, answer in enumerate(answers)],
                })  # fmt: skip
    return columns


def _field(obj, key: str, kind: type, where: str):
    """obj[key], checked to be a `kind`; the error names the place in the file."""
    if not isinstance(obj, dict) or key not in obj:
        raise ValueError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__} {value!r:.60}")
    return value


def read_squad_files(data_files: dict[str, list]) -> DatasetDict:
    """{split: [paths]} -> DatasetDict of SQuAD rows (the files of a split concatenated in order)."""
    splits = {}
    for split, paths in data_files.items():
        columns = {name: [] for name in SQUAD_FEATURES}
        for path in paths:
            for name, values in read_squad_file(path).items():
                columns[name].extend(values)
        splits[split] = Dataset.from_dict(columns, features=SQUAD_FEATURES)
    return DatasetDict(splits)


def load_squad_v2_subset(path=None) -> DatasetDict:
    """The shipped SQuAD 2.0 dev subset (5 articles, 1,407 questions; data/README.md) as {"validation": ...}."""
    path = Path(path) if path is not None else SQUAD_V2_SUBSET
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found. The SQuAD 2.0 dev subset ships in the nanohf repository's "
                                "data/squad_v2_dev_subset folder; pass data_files= if it is elsewhere.")  # fmt: skip
    return read_squad_files({"validation": [path]})
