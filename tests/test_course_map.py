"""docs/course-map.md stays honest: every file, `file::name`, example command and page it points at exists, and
it walks every chapter it promises (the course's 1-7 and the book's chapter 2), one full row per section."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "course-map.md"
# A repository path inside a backtick span, optionally followed by ::Qualified.name (the docs' include syntax).
REFERENCE = re.compile(r"\b((?:nanohf|examples|tests|docs|data|benchmarks|tools)/[\w./-]*\w)(?:::([\w.]+))?")
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[\w-]+)?\)")


def spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def defines(path: Path, qualified: str) -> bool:
    """Whether ``path`` defines ``qualified`` ("name" or "Class.method", nested as deep as it goes)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for part in qualified.split("."):
        found = [node for node in body if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                 and node.name == part]  # fmt: skip
        if not found:
            return False
        body = found[0].body
    return True


def references(text: str) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for span in spans(text) for m in REFERENCE.finditer(span)]


def test_every_file_and_name_exists():
    text = MAP.read_text(encoding="utf-8")
    found = references(text)
    assert len(found) > 80, f"only {len(found)} references found: is the pattern still matching the page?"
    missing = []
    for path, name in found:
        target = ROOT / path
        if not target.exists():
            missing.append(f"{path} (no such file)")
        elif name is not None and not defines(target, name):
            missing.append(f"{path}::{name} (not defined there)")
    assert not missing, f"course-map.md points at {len(missing)} things that do not exist: {missing}"


def test_every_example_it_runs_exists_and_is_tested():
    text = MAP.read_text(encoding="utf-8")
    examples = sorted(set(re.findall(r"python (examples/\w+\.py)", text)))
    assert len(examples) >= 12, examples
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py"))
    untested = [e for e in examples if Path(e).stem not in tests]
    assert not untested, f"examples the map runs but no test names: {untested}"


def test_linked_pages_exist_and_are_in_the_nav():
    text = MAP.read_text(encoding="utf-8")
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(set(LINK.findall(text)))
    assert pages, "no page links found"
    absent = [p for p in pages if not (ROOT / "docs" / p).is_file() or p not in nav]
    assert not absent, f"pages the map links that are missing or not in mkdocs.yml's nav: {absent}"
    assert "course-map.md" in nav


def test_every_chapter_and_section_row_is_complete():
    text = MAP.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.M)
    for chapter in range(1, 8):
        assert any(h.startswith(f"Chapter {chapter} ") for h in headings), f"no section for chapter {chapter}"
    assert any("book, chapter 2" in h for h in headings), headings
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Section")]
    assert len(rows) >= 40, len(rows)
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5 and all(cells), f"a row needs five filled cells: {row}"
    for chapter in range(1, 8):  # the course's numbering: every row of chapter N starts "N."
        block = text.split(f"## Chapter {chapter} ", 1)[1].split("\n## ", 1)[0]
        firsts = [r.split("|")[1].strip() for r in block.splitlines() if r.startswith("| ") and "---" not in r
                  and not r.startswith("| Section")]  # fmt: skip
        assert firsts and all(f.startswith(f"{chapter}.") for f in firsts), (chapter, firsts)


def test_the_checks_catch_mistakes(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("class A:\n    def b(self):\n        pass\n\ndef c():\n    pass\n")
    assert defines(source, "A") and defines(source, "A.b") and defines(source, "c")
    assert not defines(source, "A.c") and not defines(source, "b") and not defines(source, "A.b.x")
    assert references("`nanohf/nn/layers.py::Linear`, `python examples/fill_mask.py`") == [
        ("nanohf/nn/layers.py", "Linear"), ("examples/fill_mask.py", None)]

