"""The docs build as a site: ``mkdocs build --strict`` passes, every page is in the nav, and a broken
link or anchor fails the build (tests/test_docs.py checks the names and paths the pages mention)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGE = re.compile(r"!\[[^\]]*\]\((img/[^)\s]+)\)")


def build(project: Path, site: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(project / "mkdocs.yml"), "-d", str(site)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = build(ROOT, site)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}{result.stderr}"
    return site


def nav_pages() -> list[str]:
    return re.findall(r":\s*([\w-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)


def test_every_page_in_the_nav_once():
    pages = nav_pages()
    assert sorted(pages) == sorted(p.name for p in (ROOT / "docs").glob("*.md")), "docs/*.md and the nav differ"
    assert len(pages) == len(set(pages)) and pages[0] == "index.md"


def test_index_reading_order_is_the_nav():
    """docs/index.md's numbered reading order names every page of the nav (after the home page and the course
    map, which the "where to start" section points to), in the nav's order: one reading order, not two."""
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    order = index.split("## The reading order", 1)[1]
    order = "\n".join(line for line in order.splitlines() if re.match(r"^(\d+\.| {2,}\S)", line))
    linked = list(dict.fromkeys(re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]+)?\)", order)))
    assert linked == [p for p in nav_pages() if p not in ("index.md", "course-map.md")], linked
    start = index.split("## Where to start", 1)[1].split("\n## ", 1)[0]
    assert "course-map.md" in start and "parity.md" in start and "behind-the-pipeline.md" in start


def test_site_has_every_page_and_picture(site):
    for page in nav_pages():
        html = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert html.is_file(), f"{page} was not built"
    images = {m for p in (ROOT / "docs").glob("*.md") for m in IMAGE.findall(p.read_text(encoding="utf-8"))}
    assert {"img/attention_maps.png", "img/training_curves.png"} <= images
    for image in images:
        assert (site / image).read_bytes()[:4] == b"\x89PNG", f"{image} missing from the site"


def test_site_loads_nothing_from_the_web(site):
    """No page pulls a script or stylesheet from another host (the theme's highlight.js CDN is off): code is
    coloured at build time by Pygments, whose stylesheet the hook writes into the site, and math is MathML."""
    remote = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", re.I)
    pages = sorted(site.rglob("*.html"))
    assert pages
    for html in pages:
        text = html.read_text(encoding="utf-8")
        assert not remote.search(text), f"{html.relative_to(site)} loads {remote.search(text)[0]}"
    assert ".codehilite" in (site / "css" / "pygments.css").read_text(encoding="utf-8")
    assert '<div class="codehilite">' in (site / "data-and-trainer" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "broken, message",
    [("[gone](no-such-page.md)", "no-such-page.md"), ("[gone](tokenizers.md#no-such-anchor)", "no-such-anchor")],
)
def test_broken_link_fails_the_build(tmp_path, broken, message):
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")  # the hook stays the repo's (it reads the source)
    (tmp_path / "mkdocs.yml").write_text(config.replace("tools/docs_hooks.py", str(ROOT / "tools" / "docs_hooks.py")))
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    index = tmp_path / "docs" / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + f"\n{broken}\n", encoding="utf-8")
    result = build(tmp_path, tmp_path / "site")
    assert result.returncode != 0 and message in result.stdout + result.stderr, result.stdout + result.stderr
