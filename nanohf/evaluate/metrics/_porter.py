"""The Porter stemmer, in NLTK's default mode (NLTK_EXTENSIONS) — what rouge_score uses for use_stemmer=True.

Porter (1980) strips English suffixes in five steps of rewrite rules. A word is read as consonants (c) and
vowels (v) — "y" is a consonant at the start or after a vowel, a vowel after a consonant — and its *measure*
m is the number of "vc" pairs, roughly its syllables. Each rule "suffix -> replacement if condition(stem)"
looks at the stem left without the suffix; in a list of rules the first whose suffix matches decides (if
its condition fails the word stays as it is). NLTK's extensions: a table of irregular forms (sky, dying, ...),
words of at most 2 letters left alone, 4-letter "-ies"/"-ied" -> "-ie", "-alli", "-fulli", "-logi" rules,
a two-letter vc stem counted as cvc, and step 1c's "y -> i" only after a consonant that is not the first letter.
"""

IRREGULAR = {"skies": "sky", "sky": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
             "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
             "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
             "exceed": "exceed", "succeed": "succeed"}  # fmt: skip
VOWELS = frozenset("aeiou")


def _consonants(word: str) -> list[bool]:
    flags = []
    for i, ch in enumerate(word):
        flags.append(False if ch in VOWELS else (not flags[i - 1] if ch == "y" and i > 0 else True))
    return flags


def measure(stem: str) -> int:
    return "".join("c" if c else "v" for c in _consonants(stem)).count("vc")


def _has_vowel(stem: str) -> bool:
    return not all(_consonants(stem))


def _double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonants(word)[-1]


def _cvc(word: str) -> bool:
    """Ends consonant-vowel-consonant, the last not w, x or y (e.g. -hop); or is a two-letter vc word."""
    flags = _consonants(word)
    if len(word) >= 3 and flags[-3] and not flags[-2] and flags[-1] and word[-1] not in "wxy":
        return True
    return len(word) == 2 and not flags[0] and flags[1]


def _rules(word: str, rules) -> str:
    """The first rule whose suffix ends ``word`` decides. "*d" stands for a double consonant."""
    for suffix, replacement, condition in rules:
        if suffix == "*d":
            if _double_consonant(word):
                stem = word[:-2]
                return stem + replacement if condition is None or condition(stem) else word
            continue
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else word
    return word


def _positive(stem: str) -> bool:
    return measure(stem) > 0


def _step1a(word: str) -> str:
    if word.endswith("ies") and len(word) == 4:
        return word[:-3] + "ie"
    return _rules(word, [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)])


def _step1b(word: str) -> str:
    if word.endswith("ied"):
        return word[:-3] + ("ie" if len(word) == 4 else "i")
    if word.endswith("eed"):
        return word[:-3] + "ee" if measure(word[:-3]) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            stem = word[: -len(suffix)]
            break
    else:
        return word
    # After removing -ed/-ing: restore an "e" (-at, -bl, -iz, or a short cvc stem), or undouble a consonant.
    return _rules(stem, [("at", "ate", None), ("bl", "ble", None), ("iz", "ize", None),
                         ("*d", stem[-1], lambda _: stem[-1] not in "lsz"),
                         ("", "e", lambda s: measure(s) == 1 and _cvc(s))])  # fmt: skip


def _step1c(word: str) -> str:
    return _rules(word, [("y", "i", lambda stem: len(stem) > 1 and _consonants(stem)[-1])])


STEP2 = [("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"), ("bli", "ble"),
         ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"),
         ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"),
         ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"), ("fulli", "ful")]  # fmt: skip
STEP3 = [("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", "")]
STEP4 = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate",
         "iti", "ous", "ive", "ize"]  # fmt: skip


def _step2(word: str) -> str:
    if word.endswith("alli") and _positive(word[:-4]):
        return _step2(word[:-4] + "al")
    rules = [(s, r, _positive) for s, r in STEP2] + [("logi", "log", lambda _: _positive(word[:-3]))]
    return _rules(word, rules)


def _step4(word: str) -> str:
    def condition(suffix):
        if suffix == "ion":
            return lambda stem: measure(stem) > 1 and stem[-1] in "st"
        return lambda stem: measure(stem) > 1

    return _rules(word, [(s, "", condition(s)) for s in STEP4])


def _step5a(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        m = measure(stem)
        if m > 1 or (m == 1 and not _cvc(stem)):
            return stem
    return word


def stem(word: str) -> str:
    """The stem of one word (lowercased first)."""
    lowered = word.lower()
    if lowered in IRREGULAR:
        return IRREGULAR[lowered]
    if len(word) <= 2:
        return lowered
    lowered = _step1c(_step1b(_step1a(lowered)))
    lowered = _step4(_rules(_step2(lowered), [(s, r, _positive) for s, r in STEP3]))
    lowered = _step5a(lowered)
    return _rules(lowered, [("ll", "l", lambda _: measure(lowered[:-1]) > 1)])
