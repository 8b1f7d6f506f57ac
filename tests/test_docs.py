"""The docs point at things that exist: every relative link, every file path, every nanohf name.

Checked in ``docs/*.md`` and ``README.md``, outside fenced code blocks:

- a relative Markdown link ``[text](target)`` names an existing file (``#anchors`` are dropped);
- a path in backticks such as ``nanohf/kernels/layernorm.py`` or ``tests/`` exists;
- a name in backticks that looks like code — snake_case with an underscore (``layernorm_backward``),
  a call (``backward()``), or ``Class.member`` (``BertLayer.forward``) — occurs in the package's
  source: the identifier as a whole word, the class as a ``class`` statement. Math symbols
  (``d_z``, ``db_k``, ``g(x)``, ``E.grad``) have one-letter parts and are left alone.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
SPAN = re.compile(r"(`+)(.+?)\1", re.S)
PATH = re.compile(r"^(?:nanohf|tests|benchmarks|examples|docs)/[\w./-]*$")
# Segments of at least two letters, so that math such as `d_z`, `db_k` or `g(x)` is not taken for code.
SNAKE = re.compile(r"^(_*[a-z][a-z0-9]+(?:_[a-z0-9]{2,})+_?)(?:\(.*\))?$")
CALL = re.compile(r"^(_*[a-z]\w+)\(.*\)$")
MEMBER = re.compile(r"^([A-Z]\w*[a-z]\w*)\.(\w+)(?:\(.*\))?$")


def prose(page: Path) -> str:
    """The page without its fenced code blocks (they hold code and diagrams, not references)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def spans(page: Path) -> list[str]:
    return [m.group(2).strip() for m in SPAN.finditer(prose(page))]


@pytest.fixture(scope="module")
def source():
    # The library and the examples (the chapter pages explain the examples' user code, as the course does).
    files = sorted((ROOT / "nanohf").rglob("*.py")) + sorted((ROOT / "examples").glob("*.py"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    return set(re.findall(r"\w+", text)), set(re.findall(r"^\s*class\s+(\w+)", text, re.M))


def test_pages_found():
    assert (ROOT / "docs" / "index.md") in PAGES and len(PAGES) > 2


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http:, https:, mailto: and in-page anchors
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            broken.append(target)
    assert not broken, f"{page.name}: links to missing files: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_paths_in_backticks_exist(page):
    missing = [s for s in spans(page) if PATH.match(s) and not (ROOT / s).exists()]
    assert not missing, f"{page.name}: paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_names_in_backticks_exist(page, source):
    words, classes = source
    unknown = []
    for span in spans(page):
        if m := MEMBER.match(span):
            if m.group(1) not in classes or m.group(2) not in words:
                unknown.append(span)
        elif m := SNAKE.match(span) or CALL.match(span):
            if m.group(1) not in words:
                unknown.append(span)
    assert not unknown, f"{page.name}: names not found in nanohf/ or examples/: {unknown}"


def test_the_checks_catch_mistakes(tmp_path, source):
    """The patterns flag a misspelt function, a missing file and a broken link."""
    words, classes = source
    assert SNAKE.match("layernorm_backward").group(1) in words
    assert SNAKE.match("layernorm_backwards").group(1) not in words
    assert CALL.match("pop_cache()").group(1) in words
    assert MEMBER.match("BertLayer.backward").group(1) in classes
    assert not any(p.match(math) for p in (SNAKE, CALL, MEMBER) for math in ("d_z", "db_k", "g(x)", "E.grad"))
    assert not (ROOT / "nanohf/kernels/layer_norm.py").exists()
    page = tmp_path / "page.md"
    page.write_text("[a](missing.md) `x_y` and\n```\n`not_a_name_at_all` [b](gone.md)\n```\n")
    assert LINK.findall(prose(page)) == ["missing.md"] and spans(page) == ["x_y"]
