"""The docs' code cannot drift: excerpts of nanohf come from the source, and every block a reader could
run is run here, with the output it shows checked.

- No block pastes nanohf's code: a block that repeats lines of the package's code (not its docstrings)
  must be an include (``--8<-- path::name``, filled in by tools/docs_hooks.py at build time).
- Every include names something that exists.
- Every ```python block runs (tests/docs_blocks.py: the page's blocks in order, in one namespace, after
  the setup its marker names), and every shown output matches; a block marked as a fragment parses.
- Every formula renders: LaTeX that latex2mathml cannot turn into MathML fails here, naming the page.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from docs_blocks import FENCE, INCLUDE, python_blocks, run_block

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
DATA = ROOT / "data"

spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "tools" / "docs_hooks.py")
docs_hooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(docs_hooks)


def code_lines() -> set[str]:
    """Every line of nanohf's code, stripped, docstrings and comments left out (they may show usage)."""
    lines = set()
    for path in (ROOT / "nanohf").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        docstrings = set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
        for number, line in enumerate(text.splitlines(), 1):
            line = line.split("  #")[0].strip()
            if number not in docstrings and len(line) > 15 and not line.startswith("#"):
                lines.add(line)
    return lines


def test_no_block_pastes_nanohf_code():
    source = code_lines()
    pasted = []
    for page in PAGES:
        if page.name == "api-coverage.md":  # a generated table of signatures, not excerpts
            continue
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if INCLUDE.match(match["body"]):
                continue
            lines = [line.split("  #")[0].strip() for line in match["body"].splitlines()]
            for a, b in zip(lines, lines[1:], strict=False):
                if a in source and b in source:  # two consecutive lines of the package's code
                    pasted.append(f"{page.name}:{text.count(chr(10), 0, match.start()) + 1}: {a!r}")
                    break
    assert not pasted, "blocks that paste nanohf's code (use an include, `--8<-- path::name`):\n" + "\n".join(pasted)


SHOWN_CALL = re.compile(r"^(?P<code>\S.*?)\s+->\s+\S")  # `tok.decode(ids)   -> 'text'`: a call and what it gave


def hidden_calls(text: str) -> list[str]:
    """Lines of non-Python blocks that are a Python method call followed by ``-> its result``: code a reader
    would run, shown as text, so that no test checks the result (diagrams and pseudo-code do not parse)."""
    found = []
    for match in FENCE.finditer(text):
        if match["lang"].strip() in ("python", "py"):
            continue
        for line in match["body"].splitlines():
            if (shown := SHOWN_CALL.match(line)) is None:
                continue
            try:
                tree = ast.parse(shown["code"])
            except SyntaxError:
                continue
            if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) for n in ast.walk(tree)):
                found.append(line.strip())
    return found


def test_no_runnable_call_hides_in_a_text_block():
    hidden = [f"{page.name}: {line}" for page in PAGES for line in hidden_calls(page.read_text(encoding="utf-8"))]
    message = "calls with their results shown in text blocks (make them ```python blocks):\n"
    assert not hidden, message + "\n".join(hidden)
    assert hidden_calls("```text\ntok.decode(ids)   -> 'a b'\nh = LayerNorm(x)  -> (batch, hidden)\n```") == [
        "tok.decode(ids)   -> 'a b'"]


def test_includes_resolve_and_fail_loudly(tmp_path):
    for page in PAGES:
        docs_hooks.expand_includes(page.read_text(encoding="utf-8"), page.name)
    (tmp_path / "m.py").write_text("class A:\n    def f(self):\n        return 1\n")
    block = "```python\n--8<-- m.py::A.f\n```"
    assert "return 1" in docs_hooks.expand_includes(block, "p.md", tmp_path)
    with pytest.raises(docs_hooks.DocsError, match=r"p\.md: include: m\.py has no A\.g"):
        docs_hooks.expand_includes(block.replace("A.f", "A.g"), "p.md", tmp_path)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_formulas_render(page):
    html = docs_hooks.render_math(page.read_text(encoding="utf-8"), page.name)
    for math in re.findall(r"<math.*?</math>", html, re.S):
        assert not re.search(r"\\[A-Za-z]|<mi>&amp;</mi>|<mi>&</mi>", math), f"{page.name}: unrendered LaTeX in {math}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_formula_left_as_latex(page):
    """Outside code, every dollar of a page is part of a formula that rendered (a $…$ the pattern missed,
    say one wrapped across a blank line, would reach the site as raw LaTeX)."""
    html = docs_hooks.render_math(page.read_text(encoding="utf-8"), page.name)
    rest = re.sub(r"<math.*?</math>", "", docs_hooks.CODE_SPAN.sub("", FENCE.sub("", html)), flags=re.S)
    left = [rest[max(0, m.start() - 30):m.end() + 30] for m in re.finditer(r"\$", rest)]
    assert not left, f"{page.name}: dollars outside code and formulas (unrendered LaTeX?): {left}"


def test_math_and_code_are_told_apart():
    text = "Cost $O(K)$, see `$HOME` and\n\n```\n$A:0 $B:1\n```\n\n$$\nx^2\n$$\n"
    html = docs_hooks.render_math(text, "t.md")
    assert html.count("<math") == 2 and "`$HOME`" in html and "$A:0 $B:1" in html
    wrapped = docs_hooks.render_math("a sum $\\sum_i\nx_i$ over a wrapped line", "t.md")
    assert wrapped.count("<math") == 1 and "$" not in wrapped
    apart = docs_hooks.render_math("$x\n\ny$", "t.md")  # a blank line ends the paragraph: no formula
    assert "<math" not in apart


# --- setups: what a page has built by the time a block runs ----------------------------------------------------


def tiny_bert(minilm_dir):
    import nanohf

    config = nanohf.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                               intermediate_size=64, num_labels=2)
    nanohf.set_seed(0)
    model = nanohf.BertForSequenceClassification(config)
    rng = np.random.default_rng(0)
    input_ids = rng.integers(1000, 2000, size=(4, 12))
    attention_mask = np.ones_like(input_ids)
    labels = np.array([0, 1, 1, 0])
    batches = [{"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}] * 2
    return dict(model=model, input_ids=input_ids, attention_mask=attention_mask, labels=labels, batches=batches,
                num_steps=len(batches), AdamW=nanohf.AdamW, get_scheduler=nanohf.get_scheduler)


def accelerate_objects(minilm_dir):
    import nanohf

    names = tiny_bert(minilm_dir)
    tokenizer = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    raw = nanohf.load_glue("mrpc")
    pieces = {}
    for split, size in (("train", 16), ("validation", 8)):
        rows = raw[split].select(range(size))
        rows = rows.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
        rows = rows.remove_columns(["sentence1", "sentence2", "idx"]).rename_column("label", "labels")
        pieces[split] = nanohf.DataLoader(rows, batch_size=8, collate_fn=nanohf.DataCollatorWithPadding(tokenizer))
    optimizer = nanohf.AdamW(names["model"].parameters(), lr=5e-5)
    scheduler = nanohf.get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=2)
    return dict(model=names["model"], optimizer=optimizer, train_dataloader=pieces["train"],
                eval_dataloader=pieces["validation"], lr_scheduler=scheduler)


def demo_folder(minilm_dir):
    import nanohf

    model = nanohf.AutoModelForSequenceClassification.from_pretrained(
        minilm_dir, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})
    model.save_pretrained("nanohf-sst2-minilm")
    nanohf.AutoTokenizer.from_pretrained(minilm_dir).save_pretrained("nanohf-sst2-minilm")
    return {}


def tokenizer(minilm_dir):
    import nanohf

    return dict(nanohf=nanohf, tokenizer=nanohf.AutoTokenizer.from_pretrained(minilm_dir))


def minilm_folder(minilm_dir):
    """``folder``: the MiniLM checkpoint's folder, for a block that loads from a path itself."""
    return dict(folder=str(minilm_dir))


def chapter5_files(minilm_dir):
    """Small files with the names and layouts of the course's chapter 5 downloads."""
    import nanohf

    squad = {"version": "1.1", "data": [{"title": "Terremoto", "paragraphs": [
        {"context": "Il terremoto del Sichuan.", "qas": [{"id": "1", "question": "Quale terremoto?",
                                                          "answers": [{"text": "Sichuan", "answer_start": 16}]}]}]}]}
    with gzip.open("SQuAD_it-train.json.gz", "wt", encoding="utf-8") as f:
        json.dump(squad, f)
    header = "\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n"
    for name, start in (("drugsComTrain_raw.tsv", 0), ("drugsComTest_raw.tsv", 100)):
        rows = "".join(f"{start + i}\tDrug{i}\tPain\t\"Good {i}\"\t{i % 10 + 1}.0\tMay 1, 2012\t{i}\n"
                       for i in range(20))
        Path(name).write_text(header + rows, encoding="utf-8")
    shutil.copy(DATA / "glue_sst2" / "train.tsv", "train.tsv")
    with gzip.open("pubmed.jsonl.gz", "wt", encoding="utf-8") as f:
        for i in range(1200):
            f.write(json.dumps({"meta": {"pmid": i, "language": "eng"}, "text": f"Abstract {i}."}) + "\n")
    law = [{"meta": {"pmid": i, "language": "eng"}, "text": f"Case {i}."} for i in range(10)]
    Path("law.jsonl").write_text("".join(json.dumps(row) + "\n" for row in law))
    law_stream = nanohf.load_dataset("json", data_files="law.jsonl", split="train", streaming=True)
    return dict(load_dataset=nanohf.load_dataset, interleave_datasets=nanohf.interleave_datasets, law_stream=law_stream)


def embeddings(minilm_dir):
    import nanohf

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 16)).astype(np.float32)
    dataset = nanohf.Dataset.from_dict({"text": [f"comment {i}" for i in range(50)], "embeddings": list(vectors)})
    return dict(embeddings_dataset=dataset, question_embedding=vectors[3])


def parity_folder(minilm_dir):
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=8000, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64)
    transformers.BertModel(config).eval().save_pretrained("path/to/checkpoint")
    return {}


def texts(minilm_dir):
    import nanohf

    lines = (DATA / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:400]
    sentences = [line.split("\t")[0] for line in lines]
    nanohf.AutoTokenizer.from_pretrained(minilm_dir)  # warm the loader before the page's own calls
    return dict(texts=sentences, training_corpus=[sentences[i:i + 100] for i in range(0, len(sentences), 100)])


def gpt2_folder(minilm_dir):
    shutil.copytree(DATA / "tokenizers" / "gpt2", "gpt2-folder")  # GPT-2's own encoder.json + vocab.bpe
    return texts(minilm_dir)


def conll_files(minilm_dir):
    """CoNLL-2003-style files (token, POS, chunk, NER per line) with the names the course's page reads."""
    sentences = ["EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\ncall NN I-NP O\n",
                 "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n"]
    for name in ("eng.train", "eng.testa"):
        Path(name).write_text("-DOCSTART- -X- -X- O\n\n" + "\n".join(sentences), encoding="utf-8")
    return {}


def lm_datasets(minilm_dir):
    """The MiniLM tokenizer, SST-2 sentences tokenized, and the same chunked into 32-token blocks."""
    import itertools

    import nanohf

    tok = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    rows = nanohf.load_glue("sst2")["train"].select(range(64))
    tokenized = rows.map(lambda b: tok(b["sentence"]), batched=True, remove_columns=["sentence", "label", "idx"])

    def chunks(examples, size=32):
        joined = {k: list(itertools.chain.from_iterable(examples[k])) for k in examples}
        total = len(joined["input_ids"]) // size * size
        return {k: [v[i:i + size] for i in range(0, total, size)] for k, v in joined.items()}

    return dict(tokenizer=tok, tokenized=tokenized, lm_datasets={"train": tokenized.map(chunks, batched=True)},
                itertools=itertools)


SETUPS = {f.__name__.replace("_", "-"): f for f in (tiny_bert, accelerate_objects, demo_folder, tokenizer,
                                                     minilm_folder, chapter5_files, embeddings, parity_folder, texts,
                                                     gpt2_folder, conll_files, lm_datasets)}
RUNNABLE = [page for page in PAGES if any(not b.fragment for b in python_blocks(page))]


def test_markers_are_known_and_fragments_parse():
    for page in PAGES:
        for block in python_blocks(page):
            assert block.setup is None or block.setup in SETUPS, f"{block.where}: unknown setup {block.setup!r}"
            if block.fragment:
                ast.parse(block.body, filename=block.where)


@pytest.mark.parametrize("page", RUNNABLE, ids=lambda p: p.name)
def test_page_code_runs(page, tmp_path, monkeypatch, minilm_dir):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    namespace: dict = {"__name__": "__docs__"}
    checked = 0
    for block in python_blocks(page):
        if block.fragment:
            continue
        if block.setup:
            namespace.update(SETUPS[block.setup](minilm_dir))
        checked += run_block(block, namespace)
    print(f"{page.name}: {checked} shown outputs checked", file=sys.stderr)
