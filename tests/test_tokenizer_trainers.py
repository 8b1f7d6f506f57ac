"""Tokenizer training against the Rust `tokenizers` trainers on the shipped corpora.

The first tests count words with the *reference* normalizers / pre-tokenizers, so they compare the training
algorithms alone; the later ones train through nanohf's own Tokenizer and `train_new_from_iterator`, and
compare the tokenizer.json files and the encodings.

  * BPE: vocabulary (ids included) and merges identical, in the same order.
  * WordPiece: the Rust trainer numbers the "##c" tokens in hash-map order (different ids each run), so
    the token set and the held-out tokenization are compared, and at 5k tokens the spread between runs of
    the reference is measured too.
  * Unigram: the same pieces; scores equal to float rounding except the required characters the Rust
    trainer adds in hash-map order.
  * WordLevel: identical.
"""

import itertools
import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from nanohf.tokenizers.training.bpe import train_bpe
from nanohf.tokenizers.training.counting import byte_level_word_counts, count_words, iter_texts, word_splitter
from nanohf.tokenizers.training.unigram import digamma, train_unigram
from nanohf.tokenizers.training.wordlevel import train_wordlevel
from nanohf.tokenizers.training.wordpiece import train_wordpiece

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "data"  # the shipped copies of ../shared/data (data/README.md)
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _sst2(n):
    lines = (ROOT / "data" / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t")[0] for line in lines[:n]]


def _mrpc(n):
    lines = (ROOT / "data" / "glue_mrpc" / "train.tsv").read_text(encoding="utf-8-sig").splitlines()[1:]
    return [s for line in lines[:n] for s in line.split("\t")[3:5]]


def _wnut(n):
    sentences, words = [], []
    for line in (SHARED / "wnut17" / "wnut17train.conll").read_text(encoding="utf-8").splitlines():
        if line.strip():
            words.append(line.split("\t")[0])
        elif words:
            sentences.append(" ".join(words))
            words = []
    return sentences[:n]


@pytest.fixture(scope="module")
def corpus():
    """~0.6 MB: Tiny Shakespeare's first 8,000 lines, 4,000 SST-2 sentences, 1,000 MRPC pairs, 1,000 WNUT
    tweets (emoji, hashtags, accents)."""
    shakespeare = (ROOT / "data" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").splitlines()
    return shakespeare[:8000] + _sst2(4000) + _mrpc(1000) + _wnut(1000)


@pytest.fixture(scope="module")
def small_corpus(corpus):
    """For Unigram, whose Rust trainer is slow on many rounds (a 2-best search per piece): ~0.15 MB."""
    return corpus[:3000] + corpus[-600:]


@pytest.fixture(scope="module")
def held_out():
    shakespeare = (ROOT / "data" / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").splitlines()
    return shakespeare[30000:30500] + _sst2(20000)[-500:] + _wnut(2000)[-300:]


def reference(model, trainer, corpus, normalizer=None, pre_tokenizer=None):
    tok = Tokenizer(model)
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def words_of(corpus, normalizer=None, pre_tokenizer=None):
    return count_words(iter_texts(corpus), word_splitter(normalizer, pre_tokenizer))


BPE_CASES = {
    "byte-level": dict(pre=pre_tokenizers.ByteLevel(), vocab_size=1500),
    "byte-level+alphabet": dict(pre=pre_tokenizers.ByteLevel(), vocab_size=800,
                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=["<|endoftext|>"]),
    "whitespace min_frequency": dict(pre=pre_tokenizers.Whitespace(), vocab_size=2000, min_frequency=5),
    "limit_alphabet": dict(pre=pre_tokenizers.Whitespace(), vocab_size=1200, limit_alphabet=40,
                           initial_alphabet=["é", "zz"], special_tokens=["[UNK]", "a", "[UNK]"]),
    "max_token_length": dict(pre=pre_tokenizers.Whitespace(), vocab_size=1500, max_token_length=4),
    "end_of_word_suffix": dict(pre=pre_tokenizers.Whitespace(), vocab_size=1000, end_of_word_suffix="</w>"),
}  # fmt: skip


@pytest.mark.parametrize("case", BPE_CASES)
def test_bpe_same_vocab_and_merges(corpus, case):
    settings = dict(BPE_CASES[case])
    pre = settings.pop("pre")
    ref = reference(models.BPE(), trainers.BpeTrainer(show_progress=False, **settings), corpus, None, pre)
    ref_model = json.loads(ref.to_str())["model"]
    vocab, merges = train_bpe(words_of(corpus, None, pre), **settings)
    ref_merges = [tuple(m) for m in ref_model["merges"]]
    first_difference = next((i for i, (a, b) in enumerate(zip(merges, ref_merges, strict=False)) if a != b), None)
    assert merges == ref_merges, f"{len(merges)} vs {len(ref_merges)} merges, first difference at {first_difference}"
    if "end_of_word_suffix" in settings:
        # Rust numbers the one-character "c</w>" forms in hash-map order; nanohf by word frequency. Same set, and
        # every other token (special, alphabet, merged) has the same id.
        assert set(vocab) == set(ref_model["vocab"])
        forms = {t for t in vocab if len(t) == 5 and t.endswith("</w>")}
        assert {t: i for t, i in vocab.items() if t not in forms} == {
            t: i for t, i in ref_model["vocab"].items() if t not in forms
        }
    else:
        assert vocab == ref_model["vocab"]


def test_byte_level_fast_count_is_the_generic_count(corpus):
    from nanohf.tokenizers import pre_tokenizers as nano_pre

    texts = corpus + ["", "  two  spaces ", "tab\there", "émoji 😀 naïve", "\n\n"]
    generic = words_of(texts, None, pre_tokenizers.ByteLevel())
    assert byte_level_word_counts(texts) == generic
    assert words_of(texts, None, nano_pre.ByteLevel()) == generic
    no_prefix = words_of(texts, None, pre_tokenizers.ByteLevel(add_prefix_space=False))
    assert byte_level_word_counts(texts, add_prefix_space=False) == no_prefix


def test_metaspace_fast_count_is_the_generic_count(corpus):
    from nanohf.tokenizers import pre_tokenizers as nano_pre
    from nanohf.tokenizers.training.counting import metaspace_word_splitter

    texts = corpus + ["", " ", "  a  b ", "▁x y", "a▁▁b", "tab\tand\u3000wide"]
    for scheme in ("always", "first", "never"):
        reference_words = words_of(texts, None, pre_tokenizers.Metaspace(prepend_scheme=scheme))
        assert words_of(texts, None, nano_pre.Metaspace(prepend_scheme=scheme)) == reference_words, scheme
        assert count_words(texts, metaspace_word_splitter("▁", scheme != "never")) == reference_words, scheme
    lower = normalizers.Lowercase()
    reference_words = words_of(texts, lower, pre_tokenizers.Metaspace(replacement="_"))
    assert count_words(texts, metaspace_word_splitter("_", True, lower)) == reference_words


def test_bert_fast_count_is_the_generic_count(corpus):
    from nanohf.tokenizers import normalizers as nano_norm
    from nanohf.tokenizers import pre_tokenizers as nano_pre
    from nanohf.tokenizers.training.counting import bert_word_splitter

    texts = corpus + ["Héllò\u00a0wörld\u3000日本語テキスト", "ΟΔΟΣ İstanbul ﬁne", "Ǆ ǅ ǆ ß ẞ",
                      "tab\tnew\nline\x1c\x1fsep\x00\ufffd", "a\u0301\u0308 ✓ «quoted» — dash… 1,000.5$"]  # fmt: skip
    for kwargs in (dict(lowercase=True), dict(lowercase=False), dict(lowercase=True, strip_accents=False),
                   dict(lowercase=False, strip_accents=True, handle_chinese_chars=False)):  # fmt: skip
        reference_words = words_of(texts, normalizers.BertNormalizer(**kwargs), pre_tokenizers.BertPreTokenizer())
        ours = words_of(texts, nano_norm.BertNormalizer(**kwargs), nano_pre.BertPreTokenizer())
        assert ours == reference_words, kwargs
        split = bert_word_splitter(kwargs["lowercase"], kwargs.get("handle_chinese_chars", True),
                                   kwargs.get("strip_accents"))  # fmt: skip
        assert count_words(texts, split) == reference_words, kwargs


def _encode_all(vocab, texts):
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return [e.tokens for e in tok.encode_batch(texts)]


def _agreement(vocab_a, vocab_b, held_out):
    """(share of a's tokens in b, share of held-out sentences tokenized identically)."""
    overlap = len(set(vocab_a) & set(vocab_b)) / len(vocab_a)
    same = sum(x == y for x, y in zip(_encode_all(vocab_a, held_out), _encode_all(vocab_b, held_out), strict=True))
    return overlap, same / len(held_out)


@pytest.mark.parametrize("vocab_size", [400, 1500])
def test_wordpiece_small_vocab_same_tokens(corpus, held_out, vocab_size):
    norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=BERT_SPECIALS, show_progress=False)
    ref_vocab = reference(models.WordPiece(unk_token="[UNK]"), trainer, corpus, norm, pre).get_vocab()
    vocab = train_wordpiece(words_of(corpus, norm, pre), vocab_size=vocab_size, special_tokens=BERT_SPECIALS)
    assert set(vocab) == set(ref_vocab), set(vocab) ^ set(ref_vocab)
    # special tokens and the alphabet are numbered alike; only the "##c" forms differ
    assert all(vocab[t] == ref_vocab[t] for t in vocab if not t.startswith("##") and vocab[t] < 5 + 60)
    assert _agreement(vocab, ref_vocab, held_out) == (1.0, 1.0)


def test_wordpiece_5k_within_the_reference_spread(corpus, held_out):
    """At 5,000 tokens, equal-count merges can tie-break differently from run to run of the reference
    (its "##c" ids change); nanohf must agree with each reference run as well as they agree together."""
    norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=5000, special_tokens=BERT_SPECIALS, show_progress=False)
    refs = [reference(models.WordPiece(unk_token="[UNK]"), trainer, corpus, norm, pre).get_vocab() for _ in range(3)]
    vocab = train_wordpiece(words_of(corpus, norm, pre), vocab_size=5000, special_tokens=BERT_SPECIALS)
    spread = [_agreement(a, b, held_out) for a, b in itertools.combinations(refs, 2)]
    ours = [_agreement(vocab, r, held_out) for r in refs]
    worst_ref = (min(s[0] for s in spread), min(s[1] for s in spread))
    assert min(o[0] for o in ours) >= worst_ref[0] - 0.002, (ours, spread)
    assert min(o[1] for o in ours) >= worst_ref[1] - 0.01, (ours, spread)


def test_wordlevel_identical(corpus):
    pre = pre_tokenizers.Whitespace()
    for kw in (dict(vocab_size=3000), dict(vocab_size=50000, min_frequency=3, special_tokens=["<unk>", "the"])):
        ref = reference(models.WordLevel(unk_token="<unk>"), trainers.WordLevelTrainer(show_progress=False, **kw),
                        corpus, None, pre)  # fmt: skip
        assert train_wordlevel(words_of(corpus, None, pre), **kw) == ref.get_vocab()


def test_digamma_values():
    # ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2, ψ(n+1) = ψ(n) + 1/n; the Rust trainer's series is good to ~5e-11
    gamma = 0.5772156649015329
    assert abs(digamma(1.0) + gamma) < 1e-10
    assert abs(digamma(0.5) + gamma + 2 * 0.6931471805599453) < 1e-10
    assert abs(digamma(11.0) - digamma(10.0) - 0.1) < 1e-10


@pytest.mark.parametrize("vocab_size", [300, 1000])
def test_unigram_lands_on_the_reference_vocabulary(small_corpus, vocab_size):
    corpus = small_corpus
    pre = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, unk_token="<unk>", special_tokens=["<unk>", "<pad>"],
                                      show_progress=False)  # fmt: skip
    ref = json.loads(reference(models.Unigram(), trainer, corpus, None, pre).to_str())["model"]
    vocab, unk_id = train_unigram(words_of(corpus, None, pre), vocab_size=vocab_size, unk_token="<unk>",
                                  special_tokens=["<unk>", "<pad>"])  # fmt: skip
    assert unk_id == ref["unk_id"] == 0
    ref_scores = {p: s for p, s in ref["vocab"]}
    overlap = len(set(ref_scores) & {p for p, _ in vocab}) / len(ref_scores)
    assert len(vocab) == len(ref["vocab"]) and overlap >= 0.99, f"overlap {overlap:.4f}"
    diffs = sorted(abs(ref_scores[p] - s) for p, s in vocab if p in ref_scores)
    # all but the few characters the reference scores in hash-map order agree to float rounding
    assert diffs[int(0.95 * len(diffs))] < 1e-9, f"95th percentile |Δscore| {diffs[int(0.95 * len(diffs))]:.3g}"


def test_training_is_deterministic(small_corpus):
    pre = pre_tokenizers.Whitespace()
    words = words_of(small_corpus, None, pre)
    again = words_of(list(reversed(small_corpus)), None, pre)
    wp = [json.dumps(train_wordpiece(w, vocab_size=1500, special_tokens=BERT_SPECIALS)) for w in (words, again)]
    assert wp[0] == wp[1]  # the word order of the corpus does not matter either
    uni = [json.dumps(train_unigram(words, vocab_size=500, unk_token="<unk>")) for _ in range(2)]
    assert uni[0] == uni[1]


def test_bad_input():
    with pytest.raises(TypeError, match="item 1 is a int"):
        list(iter_texts(["fine", 3]))
    with pytest.raises(TypeError, match="item 0, element 1 is a bytes"):
        list(iter_texts([["fine", b"bytes"]]))
    words = {"abcdefgh": 3, "ijklmn": 1}
    with pytest.raises(ValueError, match="vocab_size=5 is smaller than the initial vocabulary of 14 tokens"):
        train_bpe(words, vocab_size=5)
    with pytest.raises(ValueError, match="vocab_size=20 is smaller than the initial vocabulary of 27 tokens"):
        train_wordpiece(words, vocab_size=20, special_tokens=["[UNK]"])
    with pytest.raises(ValueError, match="smaller than the 14 characters"):
        train_unigram(words, vocab_size=10)


# ---------------------------------------------------------------------------------------------------------------
# Through nanohf's Tokenizer: trainers.*.train_tokenizer, tokenizer.json, train_new_from_iterator


def _pair(model_name, normalizer=None, pre_tokenizer=None):
    """The same empty pipeline in `tokenizers` and in nanohf, from the same JSON description."""
    from nanohf.tokenizers.tokenizer import Tokenizer as NanoTokenizer

    ref = Tokenizer(getattr(models, model_name)())
    if normalizer is not None:
        ref.normalizer = normalizer
    if pre_tokenizer is not None:
        ref.pre_tokenizer = pre_tokenizer
    return ref, NanoTokenizer.from_str(ref.to_str())


def _trainer_pair(name, **kwargs):
    from nanohf.tokenizers import trainers as nano_trainers

    return getattr(trainers, name)(show_progress=False, **kwargs), getattr(nano_trainers, name)(
        show_progress=False, **kwargs
    )


def test_pipeline_bpe_writes_the_reference_file(corpus, tmp_path):
    ref, ours = _pair("BPE", None, pre_tokenizers.ByteLevel(add_prefix_space=False))
    ref_trainer, our_trainer = _trainer_pair("BpeTrainer", vocab_size=1200, special_tokens=["<|endoftext|>"],
                                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())  # fmt: skip
    ref.train_from_iterator(corpus, trainer=ref_trainer)
    ours.train_from_iterator(iter([corpus[i : i + 100] for i in range(0, len(corpus), 100)]), trainer=our_trainer)
    assert ours.to_str() == ref.to_str()
    texts = corpus[-50:] + ["<|endoftext|> émoji 😀"]
    assert [e.ids for e in ours.encode_batch(texts)] == [e.ids for e in ref.encode_batch(texts)]


def test_pipeline_files_and_added_tokens(corpus, tmp_path):
    """train(files): lines with their line ends, as Rust reads them; special tokens already added to the
    tokenizer are cut out of the text before counting, as Rust's added vocabulary does."""
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(corpus[:3000]) + "\n[MASK] hello [MASK]\n", encoding="utf-8")
    ref, ours = _pair("WordPiece", normalizers.BertNormalizer(), pre_tokenizers.BertPreTokenizer())
    for tok in (ref, ours):
        tok.add_special_tokens(["[MASK]"])
    ref_trainer, our_trainer = _trainer_pair("WordPieceTrainer", vocab_size=600, special_tokens=BERT_SPECIALS)
    ref.train([str(path)], trainer=ref_trainer)
    ours.train([str(path)], trainer=our_trainer)
    ours_set, ref_set = set(ours.get_vocab()), set(ref.get_vocab())
    assert {"##A", "##S", "##K", "##]"} <= ours_set & ref_set  # "[MASK]" was counted as a word, uncased
    # the last merges of this corpus tie (##f ##f / ##i ##f at equal counts): at most one token swapped
    assert len(ours_set ^ ref_set) <= 2, ours_set ^ ref_set
    pairs = zip(ours.encode_batch(corpus[-300:]), ref.encode_batch(corpus[-300:]), strict=True)
    same = [a.tokens == b.tokens for a, b in pairs]
    # (measured: 288 of 300 — "##ff" is in every "off")
    assert sum(same) >= 0.95 * len(same), f"{sum(same)} of {len(same)} held-out lines tokenized alike"


def test_pipeline_unigram_and_wordlevel(small_corpus):
    ref, ours = _pair("Unigram", None, pre_tokenizers.Metaspace())
    ref_trainer, our_trainer = _trainer_pair("UnigramTrainer", vocab_size=400, unk_token="<unk>",
                                             special_tokens=["<pad>", "<unk>"])  # fmt: skip
    ref.train_from_iterator(small_corpus, trainer=ref_trainer)
    ours.train_from_iterator(small_corpus, trainer=our_trainer)
    ref_model, our_model = json.loads(ref.to_str())["model"], json.loads(ours.to_str())["model"]
    assert our_model["unk_id"] == ref_model["unk_id"] == 1
    assert {p for p, _ in our_model["vocab"]} == {p for p, _ in ref_model["vocab"]}
    ref_len = sum(len(e.ids) for e in ref.encode_batch(small_corpus[-300:]))
    our_len = sum(len(e.ids) for e in ours.encode_batch(small_corpus[-300:]))
    assert abs(our_len - ref_len) <= 0.002 * ref_len, (our_len, ref_len)

    ref, ours = _pair("WordLevel", normalizers.Lowercase(), pre_tokenizers.Whitespace())
    ref_trainer, our_trainer = _trainer_pair("WordLevelTrainer", vocab_size=2000, special_tokens=["[UNK]"])
    ref.train_from_iterator(small_corpus, trainer=ref_trainer)
    ours.train_from_iterator(small_corpus, trainer=our_trainer)
    assert ours.get_vocab() == ref.get_vocab()


def test_pipeline_same_file_bytes_twice(small_corpus, tmp_path):
    from nanohf.tokenizers import trainers as nano_trainers

    paths = []
    for i in range(2):
        _, ours = _pair("WordPiece", normalizers.BertNormalizer(), pre_tokenizers.BertPreTokenizer())
        ours.train_from_iterator(small_corpus, trainer=nano_trainers.WordPieceTrainer(
            vocab_size=800, special_tokens=BERT_SPECIALS, show_progress=False))  # fmt: skip
        paths.append(tmp_path / f"wordpiece{i}.json")
        ours.save(str(paths[-1]))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_pipeline_bad_input():
    from nanohf.tokenizers import trainers as nano_trainers

    _, ours = _pair("BPE", None, pre_tokenizers.Whitespace())
    with pytest.raises(TypeError, match="item 2 is a int"):
        ours.train_from_iterator(["a b", "c", 7], trainer=nano_trainers.BpeTrainer(show_progress=False))
    with pytest.raises(ValueError, match="the training corpus is empty"):
        ours.train_from_iterator(["", "   "], trainer=nano_trainers.BpeTrainer(show_progress=False))
    with pytest.raises(ValueError, match="vocab_size=3 is smaller than the initial vocabulary"):
        ours.train_from_iterator(["abc def"], trainer=nano_trainers.BpeTrainer(vocab_size=3, show_progress=False))
    with pytest.raises(TypeError, match="WordPieceTrainer can only train a WordPiece, not a BPE"):
        ours.train_from_iterator(["abc"], trainer=nano_trainers.WordPieceTrainer(show_progress=False))
    _, ours = _pair("WordLevel", None, pre_tokenizers.Whitespace())
    with pytest.raises(ValueError, match="smaller than the 2 special tokens"):
        trainer = nano_trainers.WordLevelTrainer(vocab_size=1, special_tokens=["a", "b"], show_progress=False)
        ours.train_from_iterator(["abc"], trainer=trainer)


def _batches(texts, size=200):
    return (texts[i : i + size] for i in range(0, len(texts), size))


@pytest.fixture(scope="module")
def gpt2_pair():
    import warnings

    import transformers

    from nanohf.tokenizers import GPT2Tokenizer

    files = ROOT / "data" / "tokenizers" / "gpt2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.GPT2Tokenizer(
            vocab_file=str(files / "encoder.json"), merges_file=str(files / "vocab.bpe")
        )
    return GPT2Tokenizer(files / "encoder.json", files / "vocab.bpe"), theirs


PROBES = ["To be, or not to be: that is the question.", "émoji 😀 naïve café", "  two  spaces\tand a tab", ""]


def test_train_new_from_iterator_gpt2_is_transformers(corpus, gpt2_pair, tmp_path):
    ours, theirs = gpt2_pair
    new_ours = ours.train_new_from_iterator(_batches(corpus), 1000, show_progress=False)
    new_theirs = theirs.train_new_from_iterator(_batches(corpus), 1000)
    assert type(new_ours) is type(ours) and len(new_ours) == len(new_theirs) == 1000
    assert new_ours.get_vocab() == new_theirs.get_vocab()
    their_merges = json.loads(new_theirs.backend_tokenizer.to_str())["model"]["merges"]
    new_ours.save_pretrained(tmp_path)
    merges = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()[1:]
    assert merges == [" ".join(m) for m in their_merges]
    assert new_ours.special_tokens_map == new_theirs.special_tokens_map
    texts = corpus[-100:] + PROBES
    assert new_ours(texts)["input_ids"] == new_theirs(texts)["input_ids"]
    # the saved folder loads in transformers and encodes alike
    import transformers

    reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded(texts)["input_ids"] == new_theirs(texts)["input_ids"]


def test_train_new_from_iterator_special_tokens(corpus, gpt2_pair):
    ours, theirs = gpt2_pair
    kwargs = dict(new_special_tokens=["<|pad|>"], special_tokens_map={"<|endoftext|>": "<|end|>"})
    new_ours = ours.train_new_from_iterator(_batches(corpus[:3000]), 500, show_progress=False, **kwargs)
    new_theirs = theirs.train_new_from_iterator(_batches(corpus[:3000]), 500, **kwargs)
    assert new_ours.get_vocab() == new_theirs.get_vocab()
    assert new_ours.convert_tokens_to_ids(["<|end|>", "<|pad|>"]) == [0, 1]
    assert new_ours.eos_token == new_theirs.eos_token == "<|end|>"
    texts = ["a <|end|> b <|pad|>"] + PROBES
    assert new_ours(texts)["input_ids"] == new_theirs(texts)["input_ids"]


def test_train_new_from_iterator_roberta(corpus, roberta_tokenizer_files):
    import warnings

    import transformers

    from nanohf.tokenizers import RobertaTokenizer

    ours = RobertaTokenizer.from_pretrained(roberta_tokenizer_files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(roberta_tokenizer_files)
    new_ours = ours.train_new_from_iterator(_batches(corpus[:4000]), 700, show_progress=False)
    new_theirs = theirs.train_new_from_iterator(_batches(corpus[:4000]), 700)
    assert type(new_ours) is RobertaTokenizer and new_ours.get_vocab() == new_theirs.get_vocab()
    texts = corpus[-50:] + PROBES + ["<mask> is <s>"]
    assert new_ours(texts)["input_ids"] == new_theirs(texts)["input_ids"]
    assert new_ours(texts[0], texts[1])["input_ids"] == new_theirs(texts[0], texts[1])["input_ids"]


def test_train_new_from_iterator_bert(corpus, held_out):
    """WordPiece: same special-token ids and template; token set and held-out ids as close as two runs of
    transformers' own train_new_from_iterator are to each other (they differ: the Rust ## ids)."""
    import transformers

    from nanohf.tokenizers import BertTokenizer

    vocab = ROOT / "data" / "tokenizers" / "bert-base-uncased" / "vocab.txt"
    ours, theirs = BertTokenizer(vocab), transformers.BertTokenizer(str(vocab))
    new_ours = ours.train_new_from_iterator(_batches(corpus), 800, show_progress=False)
    runs = [theirs.train_new_from_iterator(_batches(corpus), 800) for _ in range(2)]
    assert type(new_ours) is BertTokenizer and len(new_ours) == 800
    assert (
        new_ours.convert_tokens_to_ids(BERT_SPECIALS) == runs[0].convert_tokens_to_ids(BERT_SPECIALS) == [0, 1, 2, 3, 4]
    )
    assert new_ours.special_tokens_map == runs[0].special_tokens_map
    ref_sets = [set(r.get_vocab()) for r in runs]
    ours_set = set(new_ours.get_vocab())
    assert len(ours_set ^ ref_sets[0]) <= max(2, len(ref_sets[0] ^ ref_sets[1])), ours_set ^ ref_sets[0]
    # ids differ by construction (## numbering); compare the tokens
    ours_tokens = [new_ours.convert_ids_to_tokens(ids) for ids in new_ours(held_out)["input_ids"]]
    their_tokens = [runs[0].convert_ids_to_tokens(ids) for ids in runs[0](held_out)["input_ids"]]
    same = sum(a == b for a, b in zip(ours_tokens, their_tokens, strict=True)) / len(held_out)
    assert same >= 0.97, f"{same:.3f} of held-out lines tokenized alike"


def test_course_chapters_6_and_7_gpt2_52000(corpus, gpt2_pair):
    """Chapter 6: GPT-2's tokenizer retrained with vocab_size=52000 (this corpus runs out of pairs first, and
    both libraries stop at the same merge); chapter 7: that tokenizer cuts texts into 128-token windows for a
    causal LM (truncation, return_overflowing_tokens, return_length)."""
    ours, theirs = gpt2_pair
    new_ours = ours.train_new_from_iterator(_batches(corpus), 52000, show_progress=False)
    new_theirs = theirs.train_new_from_iterator(_batches(corpus), 52000)
    assert new_ours.get_vocab() == new_theirs.get_vocab() and len(new_ours) < 52000
    texts = ["\n".join(corpus[i : i + 40]) for i in range(0, 2000, 40)]
    kwargs = dict(truncation=True, max_length=128, return_overflowing_tokens=True, return_length=True)
    a, b = new_ours(texts, **kwargs), new_theirs(texts, **kwargs)
    for key in ("input_ids", "length", "overflow_to_sample_mapping"):
        assert list(a[key]) == list(b[key]), key
    assert new_ours.eos_token_id == new_theirs.eos_token_id == 0 and new_ours.bos_token_id == 0


@pytest.mark.parametrize(
    "settings",
    [
        dict(vocab_size=500, max_piece_length=4, shrinking_factor=0.5, n_sub_iterations=1),
        dict(vocab_size=400, unk_token="<unk>", special_tokens=["<s>", "</s>"], initial_alphabet=["é", "ß", "zz"]),
    ],
    ids=["piece-length/shrinking/sub-iterations", "unk-added/initial-alphabet"],
)
def test_unigram_settings_as_the_reference(small_corpus, settings):
    pre = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(show_progress=False, **settings)
    ref = json.loads(reference(models.Unigram(), trainer, small_corpus, None, pre).to_str())["model"]
    vocab, unk_id = train_unigram(words_of(small_corpus, None, pre), **settings)
    assert unk_id == ref["unk_id"]
    assert [p for p, _ in vocab[:3]] == [p for p, _ in ref["vocab"][:3]]  # special tokens (and unk) first
    ours, theirs = {p for p, _ in vocab}, {p for p, _ in ref["vocab"]}
    # measured: identical piece sets in both cases; 1% of slack for ties in the loss order
    assert len(vocab) == len(ref["vocab"]) and len(ours ^ theirs) <= 0.01 * len(theirs), ours ^ theirs
    assert max(len(p) for p in ours) <= max(settings.get("max_piece_length", 16), 3)


@pytest.mark.parametrize("name", ["T5Tokenizer", "AlbertTokenizer", "XLNetTokenizer", "XLMRobertaTokenizer"])
def test_train_new_from_iterator_sentencepiece_family(small_corpus, held_out, name):
    """Unigram tokenizers (PreTrainedTokenizerFast subclasses) retrain through their tokenizer.json, as
    transformers does: same pieces and special tokens; the ids of the last pieces can differ (the characters
    Rust scores in hash-map order), so held-out texts are compared as tokens."""
    import warnings

    import transformers

    from nanohf.tokenizers import sentencepiece_family

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(transformers, name)().train_new_from_iterator(small_corpus, 500)
    ours = getattr(sentencepiece_family, name)().train_new_from_iterator(small_corpus, 500, show_progress=False)
    assert type(ours).__name__ == name and len(ours) == len(theirs)
    assert set(ours.get_vocab()) == set(theirs.get_vocab())  # measured: identical
    assert ours.added_tokens_decoder.keys() == theirs.added_tokens_decoder.keys()
    assert [t.content for t in ours.added_tokens_decoder.values()] == [
        t.content for t in theirs.added_tokens_decoder.values()
    ]
    ours_tokens = [ours.convert_ids_to_tokens(ids) for ids in ours(held_out[:300])["input_ids"]]
    their_tokens = [theirs.convert_ids_to_tokens(ids) for ids in theirs(held_out[:300])["input_ids"]]
    same = sum(a == b for a, b in zip(ours_tokens, their_tokens, strict=True)) / len(ours_tokens)
    assert same >= 0.99, f"{same:.3f} of held-out lines tokenized alike"


def test_default_trainer_is_the_models_own():
    """train_from_iterator(trainer=None) trains with the model's trainer and its defaults, as the Rust library."""
    import tokenizers as rust

    from nanohf.tokenizers import Tokenizer, models, pre_tokenizers

    corpus = ["hello world", "hello there", "a tokenizer learns its merges"] * 10
    ours = Tokenizer(models.BPE(unk_token="[UNK]"))
    ours.pre_tokenizer = pre_tokenizers.Whitespace()
    ours.train_from_iterator(corpus)
    theirs = rust.Tokenizer(rust.models.BPE(unk_token="[UNK]"))
    theirs.pre_tokenizer = rust.pre_tokenizers.Whitespace()
    theirs.train_from_iterator(corpus)
    assert ours.get_vocab() == theirs.get_vocab()
