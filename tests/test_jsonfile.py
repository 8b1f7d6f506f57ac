"""Every JSON file nanohf reads gets an error that names it (nanohf/jsonfile.py)."""

import pytest

from nanohf.jsonfile import read_json


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", r"is not UTF-8 text \(byte 0"),
        (b'{"a": ', r"is not valid JSON: Expecting value: line 1 column 7"),
        (b"", r"is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, r"nests JSON arrays or objects too deeply"),
        (b"[1, 2]", r"must hold a JSON object, found list"),
    ],
    ids=["not-utf8", "cut", "empty", "deep", "list"],
)
def test_bad_json_named(tmp_path, content, message):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"^{path} {message}"):
        read_json(path)


def test_good_json_and_other_types(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"a": [1, 2.5, "é"]}', encoding="utf-8")
    assert read_json(path) == {"a": [1, 2.5, "é"]}
    path.write_text("[1]")
    assert read_json(path, expect=list) == [1] and read_json(path, expect=None) == [1]
    with pytest.raises(FileNotFoundError, match="missing.json"):
        read_json(tmp_path / "missing.json")
