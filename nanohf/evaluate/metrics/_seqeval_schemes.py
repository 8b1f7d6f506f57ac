"""seqeval's strict mode (``mode="strict"``): entities read by the rules of one tagging scheme.

In the default (lenient) mode any chunk-looking run of tags is an entity. In strict mode a scheme says which
prefix may start an entity, which may continue it and which may close it; a run that starts but does not
end properly (IOB2 "I-PER" with no "B-PER" before it, say) is no entity at all.

Each rule is a pattern over (previous token, current token): the previous prefix in one set, the current
prefix in another, and a condition on their types ("any", "same" or "diff"). Reading a sentence with an "O"
appended, at position i:
    start(prev, tok)?  -> walk forward while inside(prev, next) holds; call the first failure j;
                          if end(tokens[j-1], tokens[j]) holds, (type, i, j) is an entity (j exclusive); go to j
    otherwise          -> go to i + 1
A tag is "<prefix><delimiter><type>" ("B-PER"), or "<type><delimiter><prefix>" with ``suffix=True``; the type
is what is left with the delimiters stripped, "_" if nothing is ("O" -> prefix O, type "_").
"""

ANY = frozenset("IOBESUL")

# scheme name -> (allowed prefixes, start patterns, inside patterns, end patterns); a pattern is
# (previous prefixes, current prefixes, type condition).
SCHEMES: dict[str, tuple] = {
    "IOB1": ("IOB",
             [("O", "I", "any"), ("I", "I", "diff"), ("B", "I", "any"), ("I", "B", "same"), ("B", "B", "same")],
             [("B", "I", "same"), ("I", "I", "same")],
             [("I", "I", "diff"), ("I", "O", "any"), ("I", "B", "any"), ("B", "O", "any"), ("B", "I", "diff"),
              ("B", "B", "same")]),
    "IOE1": ("IOE",
             [("O", "I", "any"), ("I", "I", "diff"), ("E", "I", "any"), ("E", "E", "same")],
             [("I", "I", "same"), ("I", "E", "same")],
             [("I", "I", "diff"), ("I", "O", "any"), ("I", "E", "diff"), ("E", "I", "same"), ("E", "E", "same")]),
    "IOB2": ("IOB",
             [(ANY, "B", "any")],
             [("B", "I", "same"), ("I", "I", "same")],
             [("I", "O", "any"), ("I", "I", "diff"), ("I", "B", "any"), ("B", "O", "any"), ("B", "I", "diff"),
              ("B", "B", "any")]),
    "IOE2": ("IOE",
             [("O", "I", "any"), ("O", "E", "any"), ("E", "I", "any"), ("E", "E", "any"), ("I", "I", "diff"),
              ("I", "E", "diff")],
             [("I", "E", "same"), ("I", "I", "same")],
             [("E", ANY, "any")]),
    "IOBES": ("IOBES",
              [(ANY, "B", "any"), (ANY, "S", "any")],
              [("B", "I", "same"), ("B", "E", "same"), ("I", "I", "same"), ("I", "E", "same")],
              [("S", ANY, "any"), ("E", ANY, "any")]),
    "BILOU": ("BILOU",
              [(ANY, "B", "any"), (ANY, "U", "any")],
              [("B", "I", "same"), ("B", "L", "same"), ("I", "I", "same"), ("I", "L", "same")],
              [("U", ANY, "any"), ("L", ANY, "any")]),
}  # fmt: skip

# auto-detection (strict mode without a scheme) looks at the set of prefixes of the references
_DETECT = [
    ("IOB2", ["IOB", "IB", "BO", "B"]),
    ("IOE2", ["IOE", "IE", "EO", "E"]),
    ("IOBES", ["IOBES", "IBES", "IOBE", "OBES", "IBE", "BES", "OBE", "BE", "S"]),
    ("BILOU", ["IOBLU", "IBLU", "IOBL", "OBLU", "IBL", "BLU", "OBL", "BL", "U"]),
]


def _parse(token: str, suffix: bool, delimiter: str) -> tuple[str, str]:
    """The prefix and type of a tag: "B-PER" -> ("B", "PER"); "O" -> ("O", "_")."""
    if not token or (token[-1] if suffix else token[0]) not in ANY:
        raise ValueError(f"seqeval: invalid tag {token!r}: its {'last' if suffix else 'first'} character must be "
                         f"one of the prefixes {sorted(ANY)}")  # fmt: skip
    prefix, rest = (token[-1], token[:-1]) if suffix else (token[0], token[1:])
    return prefix, rest.strip(delimiter) or "_"


def _matches(patterns, prev: tuple[str, str], cur: tuple[str, str]) -> bool:
    for prev_prefixes, cur_prefixes, condition in patterns:
        if prev[0] in prev_prefixes and cur[0] in cur_prefixes:
            if condition == "any" or (condition == "same") == (prev[1] == cur[1]):
                return True
    return False


def detect_scheme(sequences, suffix: bool = False, delimiter: str = "-") -> str:
    """The scheme whose prefixes the sequences use (IOB2, IOE2, IOBES or BILOU), as seqeval's auto_detect."""
    prefixes = {_parse(tag, suffix, delimiter)[0] for seq in sequences for tag in seq}
    for name, allowed in _DETECT:
        if any(prefixes == set(a) for a in allowed):
            return name
    raise ValueError(f"This scheme is not supported: prefixes {sorted(prefixes)} (strict mode detects IOB2, IOE2, "
                     f"IOBES and BILOU from the references; pass scheme=... for IOB1/IOE1)")  # fmt: skip


def strict_entities(tags: list[str], scheme: str, suffix: bool = False, delimiter: str = "-"):
    """(type, start, end) of each entity of one sentence under ``scheme`` (end exclusive)."""
    allowed, starts, insides, ends = SCHEMES[scheme]
    tokens = [_parse(t, suffix, delimiter) for t in tags] + [("O", "_")]
    entities, prev, i = [], ("O", "_"), 0
    while i < len(tokens):
        token = tokens[i]
        if token[0] not in allowed:
            raise ValueError(f"Invalid token is found: {tags[i]}. Allowed prefixes are: {'|'.join(allowed)}.")
        if _matches(starts, prev, token):
            end, inside_prev = len(tags) - 1, token  # seqeval's fallback when nothing stops the walk
            for j in range(i + 1, len(tokens)):
                if not _matches(insides, inside_prev, tokens[j]):
                    end = j
                    break
                inside_prev = tokens[j]
            if _matches(ends, tokens[end - 1], tokens[end]):
                entities.append((token[1], i, end))
            i = end
        else:
            i += 1
        prev = tokens[i - 1]
    return entities
