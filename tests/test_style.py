"""The source stays ruff-clean and every file stays short enough to read in one sitting."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600


def test_ruff_clean():
    ruff = shutil.which("ruff")
    command = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    result = subprocess.run([*command, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff found problems:\n{result.stdout}{result.stderr}"


def test_no_file_over_600_lines():
    long_files = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.glob("nanohf/**/*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long_files, f"files over {MAX_LINES} lines: {long_files}"
