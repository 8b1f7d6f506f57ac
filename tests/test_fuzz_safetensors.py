"""Differential fuzz of the safetensors reader: nanohf and the `safetensors` library give the same verdict.

A seeded, bounded set of corrupted files (header byte flips, truncations, JSON-level edits, other
encodings): for each, either both libraries refuse it — nanohf with a SafetensorsError that names the
file — or both load it, to the same tensors. Run longer by hand with NANOHF_FUZZ_CASES=20000.
"""

import json
import os
import random
import struct
from collections import Counter

import numpy as np
import pytest
from safetensors.numpy import load_file, save

from nanohf.models.safetensors_io import SafetensorsError, load_safetensors

CASES = int(os.environ.get("NANOHF_FUZZ_CASES", "600"))
JUNK = [0, 1, -1, 2.0, True, None, "F32", "x", [], [0], [0, 4], {}, 2**64, 2**63, "\u00e9", [2**32, 2**32]]


def valid_file() -> bytes:
    rng = np.random.default_rng(0)
    tensors = {
        "w": rng.normal(size=(3, 4)).astype(np.float32),
        "ids": np.arange(5, dtype=np.int64),
        "h": rng.normal(size=(2,)).astype(np.float16),
    }
    return save(tensors, metadata={"format": "pt"})


def split(raw: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def join(header_bytes: bytes, data: bytes) -> bytes:
    return struct.pack("<Q", len(header_bytes)) + header_bytes + data


def mutate_json(header: dict, rnd: random.Random) -> dict:
    header = json.loads(json.dumps(header))
    name = rnd.choice(list(header))
    entry = header[name]
    choice = rnd.random()
    if choice < 0.15:
        del header[name]
    elif choice < 0.25:
        header[name + rnd.choice(["", "_2"])] = rnd.choice(JUNK)
    elif isinstance(entry, dict) and entry:
        key = rnd.choice(list(entry))
        if rnd.random() < 0.3:
            del entry[key]
        elif isinstance(entry[key], list) and entry[key] and rnd.random() < 0.6:
            entry[key][rnd.randrange(len(entry[key]))] = rnd.choice(JUNK + [rnd.randrange(0, 200)])
        else:
            entry[key] = rnd.choice(JUNK)
    return header


def corrupt(raw: bytes, rnd: random.Random) -> bytes:
    header, data = split(raw)
    header_bytes = raw[8 : 8 + len(raw) - 8 - len(data)]
    kind = rnd.random()
    if kind < 0.35:  # flip one byte of the header (or of its length field)
        b = bytearray(raw)
        i = rnd.randrange(0, 8 + len(header_bytes))
        b[i] = rnd.randrange(256)
        return bytes(b)
    if kind < 0.5:  # truncate anywhere
        return raw[: rnd.randrange(len(raw))]
    if kind < 0.85:
        return join(json.dumps(mutate_json(header, rnd)).encode(), data)
    encoded = json.dumps(header)
    variants = [
        encoded.encode("utf-16"), encoded.encode("utf-32-le"), b"\xef\xbb\xbf" + encoded.encode(),
        encoded.encode() + b"\x00", encoded.encode() + b"   ", b"\n" + encoded.encode(),
        json.dumps({**header, "__metadata__": {"format": 1}}).encode(),
        json.dumps({**header, "__metadata__": ["pt"]}).encode(),
        b'{"__metadata__": {"a": "1"}, ' + encoded.encode()[1:],
    ]  # fmt: skip
    return join(rnd.choice(variants), data)


def verdict(loader, path):
    try:
        return "ok", loader(str(path))
    except Exception as err:  # noqa: BLE001 - the verdict is what we compare
        return "error", err


def test_reader_agrees_with_the_safetensors_library(tmp_path):
    rnd = random.Random(1234)
    raw = valid_file()
    counts: Counter = Counter()
    disagreements = []
    for case in range(CASES):
        data = corrupt(raw, rnd)
        path = tmp_path / f"case{case % 8}.safetensors"
        path.write_bytes(data)
        ours, ours_value = verdict(load_safetensors, path)
        theirs, theirs_value = verdict(load_file, path)
        if ours == "error":
            assert isinstance(ours_value, SafetensorsError), f"case {case}: {type(ours_value).__name__}: {ours_value}"
            assert str(path) in str(ours_value), f"case {case}: the message does not name the file: {ours_value}"
        if ours != theirs:
            disagreements.append((case, ours, theirs, str(ours_value)[:200], str(theirs_value)[:200]))
            continue
        if ours == "ok":
            assert ours_value.keys() == theirs_value.keys()
            for name, array in theirs_value.items():
                expected = array.astype(np.float32) if array.dtype.kind == "f" else array
                np.testing.assert_array_equal(ours_value[name], expected, err_msg=f"case {case}: {name}")
        counts[ours] += 1
    assert not disagreements, f"{len(disagreements)} of {CASES} verdicts differ, e.g. {disagreements[:5]}"
    assert counts["error"] > CASES // 2 and counts["ok"] > 0, counts  # both verdicts are exercised


@pytest.mark.parametrize(
    ("header_bytes", "message"),
    [
        (json.dumps({"a": 1}).encode("utf-16"), "header is not valid UTF-8"),
        (b"\xef\xbb\xbf{}", "header is not valid JSON"),
        (b'{"__metadata__": {"format": 1}}', "__metadata__ must map strings to strings"),
        (b'{"__metadata__": {}, "__metadata__": {}}', "more than one __metadata__"),
        (b'{"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 0]}}',
         "overflows 64 bits"),
        (b'{"a": {"dtype": "F32", "shape": [true], "data_offsets": [0, 4]}}', "invalid shape"),
    ],
)
def test_spec_violations_named(tmp_path, header_bytes, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(join(header_bytes, b""))
    with pytest.raises(SafetensorsError, match=message):
        load_safetensors(path)
    with pytest.raises(Exception):  # noqa: B017 - the library refuses it too (its own error type)
        load_file(str(path))


def test_header_over_100_mb_refused_without_reading_it(tmp_path):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", 100_000_001))
        f.truncate(8 + 100_000_001)  # sparse: the reader must refuse before reading it
    with pytest.raises(SafetensorsError, match="larger than the format's limit of 100000000 bytes"):
        load_safetensors(path)
