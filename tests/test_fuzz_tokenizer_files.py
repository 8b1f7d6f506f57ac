"""A seeded fuzz of tokenizer folders: corrupted files, each loaded by nanohf.AutoTokenizer in a subprocess.

Seed folders are built on the spot (small vocabularies trained by `tokenizers` on Tiny Shakespeare and
SST-2), as transformers and older savers write them:

- ``bert``: WordPiece tokenizer.json + vocab.txt + tokenizer_config.json + special_tokens_map.json;
- ``bert-vocab``: vocab.txt without tokenizer.json, with a legacy added_tokens.json;
- ``roberta``: byte-level BPE tokenizer.json + vocab.json + merges.txt + the two configs;
- ``roberta-files``: vocab.json + merges.txt without tokenizer.json, with added_tokens.json;
- ``unigram``: an XLM-R style Unigram tokenizer.json + the two configs.

tests/fuzz_files.py corrupts one file per case (byte flips, truncation, JSON edits: wrong types, missing
or repeated keys, huge numbers, deep nesting, one id given twice, bytes that are not UTF-8, null; line
edits), loads it and encodes / decodes probe strings. Each case is a clear error (naming the file), a
correct load (and when transformers loads the folder too, the same ids and text), or a failure: an
unclear error, a silent difference from transformers, a crash (signal) or a hang. Longer by hand:
NANOHF_FUZZ_CASES=3000 python -m pytest -q -s tests/test_fuzz_tokenizer_files.py (prints the counts).
"""

import json
import os
import shutil
import warnings
from collections import Counter
from pathlib import Path

import pytest
from fuzz_files import drive

CASES = int(os.environ.get("NANOHF_FUZZ_CASES", "240"))
ALLOWED = {"clear error", "correct load"}


def corpus() -> list[str]:
    from test_tokenizers_library import shakespeare, sst2

    return shakespeare(300) + sst2(300)


def build_seed_folders(root: Path) -> Path:
    import tokenizers as T
    import transformers
    from test_tokenizer_json import unigram_reference

    text = corpus()
    raw = root / "raw"
    raw.mkdir(parents=True)
    wordpiece = T.Tokenizer(T.models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = T.normalizers.BertNormalizer(lowercase=True)
    wordpiece.pre_tokenizer = T.pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wordpiece.train_from_iterator(text, T.trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials,
                                                                    show_progress=False))  # fmt: skip
    (raw / "vocab.txt").write_text("".join(t + "\n" for t, _ in sorted(wordpiece.get_vocab().items(),
                                                                       key=lambda kv: kv[1])))  # fmt: skip
    bpe = T.Tokenizer(T.models.BPE())
    bpe.pre_tokenizer = T.pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train_from_iterator(text, T.trainers.BpeTrainer(
        vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False,
        initial_alphabet=T.pre_tokenizers.ByteLevel.alphabet()))  # fmt: skip
    bpe.model.save(str(raw))
    out = root / "seeds"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bert = transformers.BertTokenizer.from_pretrained(raw)
        bert.add_tokens(["newword"])
        bert.save_pretrained(out / "bert")
        roberta = transformers.RobertaTokenizer.from_pretrained(raw)
        roberta.add_tokens(["newword"])
        roberta.save_pretrained(out / "roberta")
        unigram = transformers.PreTrainedTokenizerFast(
            tokenizer_object=unigram_reference("xlmr"), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
            pad_token="<pad>", mask_token="<mask>", cls_token="<s>", sep_token="</s>")  # fmt: skip
        unigram.save_pretrained(out / "unigram")
    maps = {"bert": {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                     "mask_token": "[MASK]"},
            "roberta": {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}}  # fmt: skip
    maps["unigram"] = maps["roberta"]
    for name, special in maps.items():
        (out / name / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    shutil.copy(raw / "vocab.txt", out / "bert")
    shutil.copy(raw / "vocab.json", out / "roberta")
    shutil.copy(raw / "merges.txt", out / "roberta")
    for name, files in {"bert-vocab": ["vocab.txt"], "roberta-files": ["vocab.json", "merges.txt"]}.items():
        source = out / name.split("-")[0]
        (out / name).mkdir()
        for file in [*files, "tokenizer_config.json", "special_tokens_map.json"]:
            shutil.copy(source / file, out / name)
        config = json.loads((out / name / "tokenizer_config.json").read_text())
        config.pop("added_tokens_decoder", None)  # the legacy layout: added tokens in added_tokens.json
        (out / name / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
        vocab_size = len(json.loads((source / "tokenizer.json").read_text())["model"]["vocab"])
        (out / name / "added_tokens.json").write_text(json.dumps({"newword": vocab_size}))
    return out


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> Path:
    return build_seed_folders(tmp_path_factory.mktemp("tokenizer-fuzz"))


def test_seed_folders_load_as_transformers_does(seeds):
    """The unbroken folders: nanohf and transformers give the same ids and text (so a difference is the edit's)."""
    import transformers
    from fuzz_files import probe

    import nanohf

    for folder in sorted(seeds.iterdir()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = probe(transformers.AutoTokenizer.from_pretrained(folder))
        assert probe(nanohf.AutoTokenizer.from_pretrained(folder)) == theirs, folder.name


def test_fuzz_tokenizer_files(seeds):
    done = drive("tokenizer", seeds, seed=20, cases=CASES, budget=60 + CASES)
    counts = Counter(line["verdict"] for line in done)
    details = Counter(line["detail"].split(":")[0] for line in done if line["verdict"] == "correct load")
    by_file = Counter((line["file"], line["verdict"]) for line in done)
    print(f"tokenizer files: {len(done)} cases: {dict(counts)}; correct loads: {dict(details)}")
    print(f"by file: {dict(sorted(by_file.items()))}")
    bad = [line for line in done if line["verdict"] not in ALLOWED]
    assert len(done) == CASES and not bad, f"{len(bad)} of {CASES} cases failed: {bad[:5]}"
    assert counts["clear error"] and counts["correct load"], counts
