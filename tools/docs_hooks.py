"""MkDocs hooks that keep the docs honest: code excerpts come from the source, formulas render as math.

Registered in mkdocs.yml (``hooks: [tools/docs_hooks.py]``); both steps run on each page's Markdown
before MkDocs converts it to HTML, so the files in docs/ stay readable as plain Markdown too.

1. **Excerpts.** A fenced block whose only line is an include directive

       ```python
       --8<-- nanohf/models/bert.py::BertLayer.forward BertLayer.backward
       ```

   is filled with the source of those functions or classes (found by name with ``ast``, decorators
   included, dedented), so an excerpt can never drift from the code it shows. A name that no longer
   exists fails the build, naming the page, the file and the name.

2. **Math.** ``$$ … $$`` (display, on lines of its own) and ``$…$`` (inline: no space just inside
   the dollars; it may wrap onto the next line of its paragraph, as the pages are hard-wrapped) are
   LaTeX, converted at build time to MathML by ``latex2mathml``: browsers render MathML natively,
   so the site needs no JavaScript and no CDN. Dollars inside code spans and fenced blocks are left
   alone.

3. **Code colours.** Fenced blocks are coloured at build time by Pygments (Markdown's ``codehilite``);
   ``on_post_build`` writes the matching stylesheet, ``css/pygments.css``, into the site, in place of
   the theme's highlight.js, which would load from a CDN.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
INCLUDE = re.compile(r"^--8<--\s+(?P<path>\S+)::(?P<names>.+?)\s*$")
DISPLAY_MATH = re.compile(r"^[ \t]*\$\$\n?(?P<tex>.+?)\n?[ \t]*\$\$[ \t]*$", re.M | re.S)
# Inline math may wrap onto the next line of its paragraph, never across a blank line.
INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)(?P<tex>(?:[^$\n]|\n(?![ \t]*\n))+?)(?<=\S)\$(?![\w$])")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)


class DocsError(ValueError):
    """An include directive or a formula the build cannot honour; the message names the page."""


def object_source(path: str, qualname: str, root: Path = ROOT) -> str:
    """The dedented source of ``qualname`` (``function``, ``Class`` or ``Class.method``) in ``path``."""
    file = root / path
    if not file.is_file():
        raise DocsError(f"include: no file {path}")
    text = file.read_text(encoding="utf-8")
    nodes: list[ast.AST] = ast.parse(text, filename=path).body
    node = None
    for part in qualname.split("."):
        node = next((n for n in nodes if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise DocsError(f"include: {path} has no {qualname}")
        nodes = node.body
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = text.splitlines()[first - 1:node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def expand_includes(markdown: str, page: str = "?", root: Path = ROOT) -> str:
    """Fill every include fence with the source it names (see the module docstring)."""

    def fill(match: re.Match) -> str:
        body = match["body"].strip()
        directive = INCLUDE.match(body)
        if directive is None:
            return match[0]
        try:
            parts = [object_source(directive["path"], name, root) for name in directive["names"].split()]
        except DocsError as error:
            raise DocsError(f"{page}: {error}") from None
        return f"{match['fence']}{match['lang']}\n" + "\n\n".join(parts) + f"\n{match['fence']}"

    return FENCE.sub(fill, markdown)


def _latex_to_mathml(tex: str, display: bool, page: str) -> str:
    from latex2mathml.converter import convert  # the docs extra installs it; imported only to build

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises several types for malformed input
        raise DocsError(f"{page}: cannot render the formula {tex.strip()!r}: {error}") from None


def render_math(markdown: str, page: str = "?") -> str:
    """Replace ``$$…$$`` and ``$…$`` outside code by MathML."""
    pieces = []
    last = 0
    for fence in FENCE.finditer(markdown):  # text between fenced blocks is prose; blocks stay as they are
        pieces.append(_render_prose(markdown[last:fence.start()], page))
        pieces.append(fence[0])
        last = fence.end()
    pieces.append(_render_prose(markdown[last:], page))
    return "".join(pieces)


def _render_prose(text: str, page: str) -> str:
    text = DISPLAY_MATH.sub(lambda m: "\n" + _latex_to_mathml(m["tex"], True, page) + "\n\n", text)
    spans = []
    last = 0
    for span in CODE_SPAN.finditer(text):  # never touch `code`, where $ is a shell variable or a template
        spans.append(INLINE_MATH.sub(lambda m: _latex_to_mathml(m["tex"], False, page), text[last:span.start()]))
        spans.append(span[0])
        last = span.end()
    spans.append(INLINE_MATH.sub(lambda m: _latex_to_mathml(m["tex"], False, page), text[last:]))
    return "".join(spans)


def on_page_markdown(markdown: str, page, config, files) -> str:  # MkDocs' hook signature
    name = page.file.src_path
    return render_math(expand_includes(markdown, name), name)


def on_post_build(config) -> None:  # MkDocs' hook signature: the site is built, add Pygments' stylesheet
    from pygments.formatters import HtmlFormatter

    css = Path(config["site_dir"]) / "css" / "pygments.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(HtmlFormatter(style="default").get_style_defs(".codehilite"), encoding="utf-8")
