"""Cold start: a fresh Python process that imports the library, loads MiniLM and computes a first output.

The wall time of the whole process is measured from outside (interpreter start included, the same for
both). nanohf compiles its Numba kernels on first use and caches them on disk (``@njit(cache=True)``,
next to the kernels' source, or in $NUMBA_CACHE_DIR when set): each round points NUMBA_CACHE_DIR at a
new empty folder for the "empty kernel cache" run, then runs again with the folder now filled. Python's
own bytecode caches are warm for both libraries; transformers has no kernel cache, so its runs count
for both rows.
"""

import os
import tempfile

from common import minilm_dir, run_python

NANOHF = """
import sys
import nanohf
folder = sys.argv[1]
tokenizer = nanohf.AutoTokenizer.from_pretrained(folder)
model = nanohf.AutoModel.from_pretrained(folder)
with nanohf.no_grad():
    model(**tokenizer(["A first sentence to embed."], return_tensors="np")).last_hidden_state
"""

TRANSFORMERS = """
import os, sys
import torch
import transformers
torch.set_num_threads(os.cpu_count())
folder = sys.argv[1]
tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
model = transformers.AutoModel.from_pretrained(folder).eval()
with torch.no_grad():
    model(**tokenizer(["A first sentence to embed."], return_tensors="pt")).last_hidden_state
"""


def measure_cold_start(rounds: int, empty_kernel_cache: bool = True) -> dict[str, dict[str, list[float]]]:
    """{"empty kernel cache" | "warm kernel cache": {"nanohf": [s, ...], "transformers": [s, ...]}}.

    With ``empty_kernel_cache=False`` (the smoke test: compiling every kernel takes half a minute) only the
    warm row is measured, with nanohf's own kernel cache as it is.
    """
    folder = str(minilm_dir())
    states = ("empty kernel cache", "warm kernel cache") if empty_kernel_cache else ("warm kernel cache",)
    times = {state: {"nanohf": [], "transformers": []} for state in states}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as kernel_cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": kernel_cache} if empty_kernel_cache else None
            for state in states:  # the first run fills the new cache
                times[state]["nanohf"].append(run_python(["-c", NANOHF, folder], env)[0])
        theirs = run_python(["-c", TRANSFORMERS, folder])[0]
        for state in states:
            times[state]["transformers"].append(theirs)
    return times
