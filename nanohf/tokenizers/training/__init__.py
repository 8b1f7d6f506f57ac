"""The training algorithms behind `nanohf.tokenizers.trainers`, one module each, with the math in comments.

- counting.py: text -> {word: count} (normalise, pre-tokenise, count), with the input checks
- alphabet.py: the characters BPE and WordPiece start from (limit_alphabet, initial_alphabet)
- bpe.py: byte-pair encoding, merging the most frequent adjacent pair again and again
- bpe_kernel.py: its merge loop (pair counts, priority queue, in-place merges) in Numba
- wordpiece.py: WordPiece = BPE with a "##" continuation prefix, keeping only the vocabulary
- wordlevel.py: one token per word, the most frequent words first
- unigram.py: a unigram language model (seed pieces, EM with a sparse prior, pruning by loss)
- lattice.py: Numba kernels for Unigram (trie, forward-backward, Viterbi)
"""
