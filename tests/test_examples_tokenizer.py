"""examples/train_tokenizer.py runs end to end on a slice (``--tiny``): both tokenizers train, save, load back."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "train_tokenizer.py"


def test_train_tokenizer_tiny(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLE), "--tiny", "--out", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, f"the example failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    out = result.stdout
    assert re.search(r"trained wordpiece \(BertTokenizer, 1,000 tokens\)", out), out
    assert re.search(r"trained bpe \(GPT2Tokenizer, 1,000 tokens\)", out), out
    assert "wordpiece loaded back with AutoTokenizer (BertTokenizer)" in out
    assert "bpe loaded back with AutoTokenizer (GPT2Tokenizer)" in out
    assert "['[CLS]', 'to', 'be', ','" in out and "['To', 'Ġbe', ','" in out
    assert "block by block: 1,000 tokens" in out
    for name in ("wordpiece/vocab.txt", "wordpiece/tokenizer_config.json", "bpe/vocab.json", "bpe/merges.txt",
                 "tokenizer.json"):  # fmt: skip
        assert (tmp_path / name).is_file(), name
    # the saved folders load in transformers too, with the same ids
    import transformers

    from nanohf import AutoTokenizer

    for name in ("wordpiece", "bpe"):
        text = "To be, or not to be: that is the question."
        ours = AutoTokenizer.from_pretrained(tmp_path / name)(text)["input_ids"]
        assert transformers.AutoTokenizer.from_pretrained(tmp_path / name)(text)["input_ids"] == ours
    assert "Compute merges" in result.stderr  # the tqdm progress bars
