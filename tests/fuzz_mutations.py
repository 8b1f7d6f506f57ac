"""Seeded corruptions of the files a folder is made of, for the file fuzzers in tests/fuzz_worker.py.

    how, data = mutate("tokenizer.json", raw_bytes, random.Random(seed))

``how`` says what was done (for the report of a failing case), ``data`` is the corrupted content:

- any file: byte flips, a truncation, bytes inserted;
- a JSON file: one node (reached by a random walk from the root) replaced by a value of another type, a
  huge or negative number, null, a deeply nested value or a string that is not UTF-8; a key deleted or
  repeated; an id given twice; two values swapped;
- a safetensors file: a tensor removed, added, reshaped or retyped, or its header's JSON edited;
- the file deleted;
- a text file (vocab.txt, merges.txt): a line deleted, repeated, swapped, blanked or replaced by junk,
  bytes that are not UTF-8, other line ends.
"""

import json
import random

import numpy as np


class Raw(bytes):
    """JSON text written verbatim: values :func:`json.dumps` cannot produce (deep nesting, bad UTF-8, 1e999)."""


class Pairs(list):
    """A JSON object written from (key, value) pairs, so that a key may come twice."""


DEEP = Raw(b"[" * 100_000 + b"]" * 100_000)
JSON_JUNK = [
    None, True, False, 0, -1, 1, 2, 2**31, 2**63, 10**30, -(10**30), 1.5, -0.5, 1e308, "", "abc", "[UNK]", "<s>",
    "\u00e9", "null", [], [1], [None], ["a", "b"], [[]], {}, {"a": 1}, {"content": 5}, {"id": "x"},
    Raw(b"1e999"), Raw(b"-1e999"), Raw(b'"\xff\xfe"'), Raw(b'"a\xc3"'), Raw(b"NaN"), Raw(b"Infinity"), DEEP,
    Raw(b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
]  # fmt: skip
TEXT_JUNK = ["", " ", "\t", "a b c", "##", "[UNK]", "\u00e9\u0301", "x" * 5000, "#version: 0.2", "\x00", "a  b"]


def dump(value) -> bytes:
    """JSON bytes of ``value``, with :class:`Raw` parts verbatim and :class:`Pairs` as objects."""
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict | Pairs):
        items = value.items() if isinstance(value, dict) else value
        return b"{" + b",".join(json.dumps(str(k)).encode() + b":" + dump(v) for k, v in items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(dump(v) for v in value) + b"]"
    return json.dumps(value, ensure_ascii=False).encode()


def walk(root, rnd: random.Random) -> list:
    """A random path (keys / indices) from the root: each step goes one level down with probability 3/4."""
    path, node = [], root
    while isinstance(node, dict | list) and node and rnd.random() < 0.75:
        key = rnd.choice(list(node)) if isinstance(node, dict) else rnd.randrange(len(node))
        path.append(key)
        node = node[key]
    return path


def get(root, path):
    for key in path:
        root = root[key]
    return root


def replace(root, path, value):
    """``root`` with the node at ``path`` replaced by ``value`` (the root itself when ``path`` is empty)."""
    if not path:
        return value
    get(root, path[:-1])[path[-1]] = value
    return root


def mutate_json(value, rnd: random.Random) -> tuple[str, bytes]:
    path = walk(value, rnd)
    node = get(value, path)
    where = "/".join(map(str, path)) or "(root)"
    op = rnd.choice(["junk", "junk", "junk", "delete", "repeat", "duplicate id", "swap", "wrap", "bad utf-8"])
    if op == "delete" and path:
        parent = get(value, path[:-1])
        del parent[path[-1]]
        return f"deleted {where}", dump(value)
    if op == "repeat" and isinstance(node, dict) and node:  # one key twice: which one wins?
        key = rnd.choice(list(node))
        pairs = Pairs([*node.items(), (key, rnd.choice(JSON_JUNK[:20]))])
        return f"repeated key {key!r} in {where}", dump(replace(value, path, pairs))
    if op == "duplicate id" and isinstance(node, dict) and len(node) > 1:  # two tokens with one id
        a, b = rnd.sample(list(node), 2)
        node[a] = node[b]
        return f"{where}/{a} given the value of {b}", dump(value)
    if op == "duplicate id" and isinstance(node, list) and len(node) > 1:
        i, j = rnd.sample(range(len(node)), 2)
        if isinstance(node[i], dict) and isinstance(node[j], dict) and "id" in node[j]:
            node[i]["id"] = node[j]["id"]
        else:
            node[i] = node[j]
        return f"{where}[{i}] given the id / value of [{j}]", dump(value)
    if op == "swap" and isinstance(node, dict | list) and len(node) > 1:
        a, b = rnd.sample(list(node) if isinstance(node, dict) else range(len(node)), 2)
        node[a], node[b] = node[b], node[a]
        return f"swapped {where}/{a} and {b}", dump(value)
    if op == "wrap":
        return f"{where} wrapped in a list", dump(replace(value, path, [node]))
    if op == "bad utf-8" and isinstance(node, str):
        raw = node.encode()
        cut = rnd.randrange(len(raw) + 1)
        bad = Raw(json.dumps(raw[:cut].decode("utf-8", "ignore")).encode()[:-1] + b"\xc3\x28" + b'"')
        return f"{where} given bytes that are not UTF-8", dump(replace(value, path, bad))
    junk = rnd.choice(JSON_JUNK)
    return f"{where} = {bytes(junk)[:20] if isinstance(junk, Raw) else junk!r:.40}", dump(replace(value, path, junk))


def mutate_text(text: str, rnd: random.Random) -> tuple[str, bytes]:
    lines = text.split("\n")
    i = rnd.randrange(len(lines))
    op = rnd.choice(["delete", "repeat", "swap", "junk", "junk", "bad utf-8", "crlf", "no newline"])
    if op == "delete":
        del lines[i]
    elif op == "repeat":
        lines.insert(rnd.randrange(len(lines) + 1), lines[i])
    elif op == "swap":
        j = rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "junk":
        lines[i] = rnd.choice(TEXT_JUNK)
    elif op == "bad utf-8":
        head = "\n".join(lines[:i]).encode()
        return f"line {i} not UTF-8", head + b"\n\xff\xfe" + "\n".join(lines[i:]).encode()
    elif op == "crlf":
        return "CRLF line ends", "\r\n".join(lines).encode()
    else:
        return "last newline removed", text.rstrip("\n").encode()
    return f"{op} line {i}", "\n".join(lines).encode()


def mutate_bytes(raw: bytes, rnd: random.Random) -> tuple[str, bytes]:
    op = rnd.choice(["flip", "flip", "truncate", "insert"])
    data = bytearray(raw)
    if op == "truncate" or not data:
        cut = rnd.choice([0, 1, len(raw) // 2, max(len(raw) - 1, 0), rnd.randrange(len(raw) + 1)])
        return f"truncated to {cut} of {len(raw)} bytes", bytes(data[:cut])
    if op == "insert":
        at = rnd.randrange(len(data) + 1)
        junk = rnd.choice([b"\x00", b"\xff", b"{", b"}", b'"', b",", b"\\", b"\n", b"[" * 3])
        return f"{junk!r} inserted at byte {at}", bytes(data[:at] + junk + data[at:])
    flips = [rnd.randrange(len(data)) for _ in range(rnd.choice([1, 1, 2, 4]))]
    for at in flips:
        data[at] = rnd.choice([rnd.randrange(256), data[at] ^ (1 << rnd.randrange(8)), ord('"'), 0, 0xFF])
    return f"bytes {flips} changed", bytes(data)


def mutate_safetensors(raw: bytes, rnd: random.Random) -> tuple[str, bytes]:
    """A tensor dropped, added, reshaped or retyped (a valid file that does not fit), or the header's JSON edited."""
    from safetensors.numpy import load, save

    tensors = load(raw)
    name = rnd.choice(sorted(tensors))
    op = rnd.choice(["drop", "drop", "stray", "reshape", "retype", "header"])
    if op == "drop":
        del tensors[name]
        return f"tensor {name!r} removed", save(tensors)
    if op == "stray":
        tensors[name + ".extra"] = np.zeros(3, np.float32)
        return f"tensor {name + '.extra'!r} added", save(tensors)
    if op == "reshape":
        tensors[name] = np.zeros((tensors[name].size + 1,), tensors[name].dtype)
        return f"tensor {name!r} reshaped", save(tensors)
    if op == "retype":
        tensors[name] = tensors[name].astype(np.int32 if tensors[name].dtype.kind == "f" else np.float64)
        return f"tensor {name!r} now {tensors[name].dtype}", save(tensors)
    n = int.from_bytes(raw[:8], "little")
    how, header = mutate_json(json.loads(raw[8 : 8 + n]), rnd)
    return f"header: {how}", len(header).to_bytes(8, "little") + header + raw[8 + n :]


def mutate(name: str, raw: bytes, rnd: random.Random) -> tuple[str, bytes | None]:
    """One corruption of the file ``name`` holding ``raw`` (None: the file deleted): structural (JSON, lines,
    tensors) 3 times in 5, else bytes."""
    if rnd.random() < 0.04:
        return "file deleted", None
    if rnd.random() < 0.4:
        return mutate_bytes(raw, rnd)
    if name.endswith(".safetensors"):
        return mutate_safetensors(raw, rnd)
    if name.endswith(".json"):
        return mutate_json(json.loads(raw), rnd)
    if name.endswith(".txt"):
        return mutate_text(raw.decode("utf-8"), rnd)
    return mutate_bytes(raw, rnd)
