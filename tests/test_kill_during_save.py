"""A process killed (SIGKILL) at any moment of save_pretrained never leaves a folder that loads wrong.

Each write goes to a temporary file that is renamed into place, so a killed save leaves every file either
old or new, never empty or cut; the temporary files it strands are removed by the next save. The folder is
saved over and over in a subprocess, killed after a seeded random delay, then loaded and compared.
"""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

import nanohf

SAVER = """
import sys, nanohf
tokenizer = nanohf.AutoTokenizer.from_pretrained(sys.argv[1])
model = nanohf.AutoModel.from_pretrained(sys.argv[2])
print("ready", flush=True)
while True:
    tokenizer.save_pretrained(sys.argv[3])
    model.save_pretrained(sys.argv[3])
"""
KILLS = 12


def test_sigkill_during_save_pretrained_never_leaves_a_broken_folder(minilm_dir, make_checkpoint, tmp_path):
    from conftest import TINY_BERT

    model_dir = make_checkpoint("BertModel", {**TINY_BERT, "vocab_size": 30522})
    out = tmp_path / "saved"
    reference_tokenizer = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    reference = nanohf.AutoModel.from_pretrained(model_dir)
    text = "A killed save leaves old files or new ones, never half of one."
    rnd = random.Random(7)
    checked = 0
    for kill in range(KILLS):
        saver = subprocess.Popen([sys.executable, "-c", SAVER, str(minilm_dir), str(model_dir), str(out)],
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.0, 0.4))
        os.kill(saver.pid, signal.SIGKILL)
        saver.wait()
        if not (out / "config.json").is_file():  # killed before the first save finished: nothing to check
            continue
        checked += 1
        tokenizer = nanohf.AutoTokenizer.from_pretrained(out)
        assert tokenizer(text)["input_ids"] == reference_tokenizer(text)["input_ids"], f"kill {kill}"
        model = nanohf.AutoModel.from_pretrained(out)
        for (name, ours), (_, theirs) in zip(model.named_parameters(), reference.named_parameters(), strict=True):
            np.testing.assert_array_equal(ours.data, theirs.data, err_msg=f"kill {kill}: {name}")
    assert checked >= KILLS // 2, f"only {checked} of {KILLS} kills came after a first complete save"
    reference_tokenizer.save_pretrained(out)  # the next save clears what the killed ones stranded
    reference.save_pretrained(out)
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, leftovers
