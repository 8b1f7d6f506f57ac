"""A broken tokenizer file is an error that names it (and, for tokenizer.json's model, the key), never a
bare JSONDecodeError / UnicodeDecodeError / RecursionError / TypeError, and never a silent load."""

import shutil

import pytest

import nanohf

BROKEN = {
    "empty": (b"", r"is not valid JSON"),
    "cut": (None, r"is not valid JSON"),
    "not-utf8": (b"\xff\xfe{}", r"is not UTF-8 text"),
    "list": (b"[1, 2, 3]", r"must hold a JSON object, found list"),
    "deep": (b"[" * 50_000 + b"]" * 50_000, r"nests JSON arrays or objects too deeply"),
}


@pytest.fixture
def folder(minilm_dir, tmp_path):
    """A private copy of the real MiniLM tokenizer files (BERT WordPiece, tokenizer.json included)."""
    dst = tmp_path / "tok"
    dst.mkdir()
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, dst / name)
    return dst


@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
@pytest.mark.parametrize("kind", list(BROKEN))
def test_broken_json_file_named(folder, name, kind):
    content, message = BROKEN[kind]
    path = folder / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2] if content is None else content)
    with pytest.raises(ValueError, match=rf"^{path} {message}"):
        nanohf.AutoTokenizer.from_pretrained(folder)


@pytest.mark.parametrize("model", ["5", '"WordPiece"', '{"type": "WordPiece"}'])
def test_tokenizer_json_model_field_named(folder, model):
    (folder / "tokenizer.json").write_text(f'{{"model": {model}}}')
    path = folder / "tokenizer.json"
    with pytest.raises(ValueError, match=rf"^{path}: 'model' (must be a JSON object|has no 'vocab')"):
        nanohf.AutoTokenizer.from_pretrained(folder)
