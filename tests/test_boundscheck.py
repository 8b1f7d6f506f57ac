"""The kernel tests and the bad-input cases again, with Numba's bounds checking on.

Compiled kernels skip bounds checks for speed, so an index past an array's end would read or write
memory silently. With NUMBA_BOUNDSCHECK=1 every such access raises IndexError instead: running the
kernel tests, the gradient checks and every bad-input and fuzz case this way proves that no kernel
indexes outside its arrays on any of them (checks at the entry points must catch bad input first).
A separate Numba cache keeps these bounds-checked builds away from the normal ones.
"""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
SUITES = ["test_kernels.py", "test_gradcheck.py", "test_no_crash.py", "test_bad_input.py", "test_fuzz_models.py"]


def test_kernels_and_bad_inputs_under_boundscheck(tmp_path):
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "NANOHF_FUZZ_CASES": "40"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *(str(TESTS / s) for s in SUITES)],
        capture_output=True, text=True, env=env, timeout=1800, cwd=TESTS.parent,
    )  # fmt: skip
    tail = "\n".join(result.stdout.splitlines()[-15:])
    assert result.returncode == 0, f"exit {result.returncode}, NUMBA_BOUNDSCHECK=1:\n{tail}\n{result.stderr[-2000:]}"
    assert " passed" in tail and "skipped" not in tail, tail
