"""`normalizers.Precompiled`: SentencePiece's own normalizer, as real T5 / ALBERT / XLNet / XLM-R / mT5
tokenizer.json files carry it ("precompiled_charsmap", base64).

The charsmap is SentencePiece's compiled rule table (for "nmt_nfkc": NFKC plus a few fixes):

    4 bytes   little-endian size n of the trie
    n bytes   a Darts-clone double-array trie (uint32 units) over UTF-8 byte strings; a key's value is an
              offset into the blob below
    the rest  the replacement strings, each ended by a NUL byte

As in the Rust library (normalizers/precompiled.rs and the spm_precompiled crate): the text is cut into
grapheme clusters; a cluster shorter than 6 bytes is looked up whole, otherwise (or when the whole is not a
key) each of its characters is; the lookup is a common-prefix search of the bytes, and the first (shortest)
key found gives the replacement. New characters align like any rewrite (normalized.py): a longer replacement
inserts its extra characters at the end, a shorter one folds the deleted ones into its last character.
"""

import base64
import struct

import regex

_GRAPHEME = regex.compile(r"\X")


class DoubleArray:
    """A Darts-clone double-array trie: `units` as a list of uint32."""

    def __init__(self, units: list[int]):
        self.units = units

    def common_prefix_search(self, key: bytes) -> list[int]:
        """Values of every key of the trie that is a prefix of `key`, shortest first."""
        units = self.units
        node = 0
        unit = units[node]
        node ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)  # offset of the root
        results = []
        for byte in key:
            if byte == 0:
                break
            node ^= byte
            if node >= len(units):
                break
            unit = units[node]
            if unit & ((1 << 31) | 0xFF) != byte:  # the label stored in the unit must be this byte
                break
            node ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:  # has a leaf: a key ends here
                results.append(units[node] & ((1 << 31) - 1))
        return results


class PrecompiledCharsmap:
    """A parsed charsmap: `transform(chunk)` -> its replacement, or None."""

    def __init__(self, data: bytes):
        if len(data) < 4:
            raise ValueError("precompiled_charsmap is too short to hold a trie size")
        (trie_size,) = struct.unpack_from("<I", data, 0)
        if 4 + trie_size > len(data) or trie_size % 4:
            raise ValueError(f"precompiled_charsmap: trie size {trie_size} does not fit its {len(data)} bytes")
        self.trie = DoubleArray(list(struct.unpack_from(f"<{trie_size // 4}I", data, 4)))
        self.normalized = data[4 + trie_size:]
        self._cache: dict[str, str | None] = {}

    def transform(self, chunk: str) -> str | None:
        if chunk in self._cache:
            return self._cache[chunk]
        found = self.trie.common_prefix_search(chunk.encode("utf-8"))
        out = None
        if found:
            start = found[0]
            end = self.normalized.find(b"\0", start)
            out = self.normalized[start:end if end >= 0 else len(self.normalized)].decode("utf-8")
        self._cache[chunk] = out
        return out


def _replace(dest: list, old: str, new: str) -> None:
    """Append `new` replacing `old` to the (char, change) list, as the Rust library's `replace` does."""
    dest += [[c, 0] for c in new]
    diff = len(new) - len(old)
    if diff > 0:
        for item in dest[-diff:]:
            item[1] = 1
    elif diff < 0 and dest:
        dest[-1][1] += diff


class Precompiled:
    """Normalizer from a SentencePiece charsmap (bytes, a list of ints, or tokenizer.json's base64 string)."""

    def __init__(self, precompiled_charsmap):
        if isinstance(precompiled_charsmap, str):
            precompiled_charsmap = base64.b64decode(precompiled_charsmap)
        self.precompiled_charsmap = bytes(precompiled_charsmap)
        self._map = PrecompiledCharsmap(self.precompiled_charsmap)

    def normalize(self, normalized) -> None:
        transform = self._map.transform
        dest, modified = [], False
        for grapheme in _GRAPHEME.findall(normalized.normalized):
            if len(grapheme.encode("utf-8")) < 6:
                new = transform(grapheme)
                if new is not None:
                    modified = True
                    _replace(dest, grapheme, new)
                    continue
            for ch in grapheme:
                new = transform(ch)
                if new is None:
                    dest.append([ch, 0])
                else:
                    modified = True
                    _replace(dest, ch, new)
        if modified:
            normalized.transform((c, change) for c, change in dest)

    def normalize_str(self, sequence: str) -> str:
        from .normalized import NormalizedString

        piece = NormalizedString(sequence)
        self.normalize(piece)
        return piece.normalized

    def to_dict(self) -> dict:
        return {"type": "Precompiled",
                "precompiled_charsmap": base64.b64encode(self.precompiled_charsmap).decode("ascii")}
