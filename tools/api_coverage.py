"""The API-coverage table: nanohf's public names against the libraries they re-tell, by inspect.signature.

    python tools/api_coverage.py            # rewrites docs/api-coverage.md
    python tools/api_coverage.py --check    # exit 1 if the page is stale or a difference is unexplained

For every name nanohf exports (nanohf/__init__.py's export table) that transformers also has, plus
accelerate's Accelerator and datasets' Dataset / DatasetDict / IterableDataset / load_dataset (the
"references" of tools/api_coverage_notes.json), the reference's public methods — those defined by the
reference package itself, not inherited from torch — are compared with nanohf's: is the method there,
and for each of its parameters, is it there with the same default, in the same positional order.

Counting: each reference method counts 1 (present) + 1 per parameter (present with the same default);
``matched / total`` sums them per class. Methods a class inherits from another class of the table
(PreTrainedModel, PreTrainedConfig) are counted once, under that class.

Every difference needs an explanation in tools/api_coverage_notes.json, keyed ``Class.method`` (a missing
method) or ``Class.method(param)`` (a missing parameter or another default), or a shell-style pattern such
as ``*.to(non_blocking)``; the longest matching pattern wins. tests/test_api_coverage.py fails on a
difference without one, and when the committed page differs from what this script writes.
"""

import argparse
import fnmatch
import importlib
import inspect
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "tools" / "api_coverage_notes.json"
PAGE = ROOT / "docs" / "api-coverage.md"
PACKAGES = ("transformers", "accelerate", "datasets")
KEPT_DUNDERS = ("__init__", "__call__")


@dataclass
class Difference:
    key: str  # "Class.method" or "Class.method(param)"
    kind: str  # "missing method", "missing parameter", "only through **kwargs", "default", "positional order"
    detail: str = ""
    note: str | None = None


@dataclass
class Entry:
    name: str  # the nanohf name
    reference: str  # "transformers.BertModel"
    matched: int = 0
    total: int = 0
    differences: list[Difference] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)  # nanohf-only parameters (informational)


def load_notes(path: Path = NOTES) -> dict:
    return json.loads(path.read_text())


def resolve(dotted: str):
    """``"pkg.mod.Name"`` -> the object (the longest importable module prefix, then attributes)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def targets(notes: dict) -> list[tuple[str, str]]:
    """(nanohf dotted name, reference dotted name) for every compared pair, sorted by nanohf name."""
    import transformers

    import nanohf

    pairs = {}
    for module, names in nanohf._EXPORTS.items():
        for name in names:
            if name in notes["references"]:
                continue
            if hasattr(transformers, name):
                pairs[f"{module}.{name}"] = f"transformers.{name}"
    for ours, theirs in notes["references"].items():
        ours_dotted = f"{nanohf._MODULE_OF[ours]}.{ours}" if ours in nanohf._MODULE_OF else ours
        pairs[ours_dotted] = theirs
    return sorted(pairs.items(), key=lambda p: p[0].rsplit(".", 1)[-1])


def _package_of(obj) -> str:
    return (getattr(obj, "__module__", None) or "").split(".")[0]


def reference_members(cls, skip_bases: tuple) -> dict[str, object]:
    """Public methods (and __init__ / __call__) defined by a class of the reference package in ``cls``'s MRO,
    except those coming from ``skip_bases`` (table entries counted on their own)."""
    members = {}
    for name in dir(cls):
        if name.startswith("_") and name not in KEPT_DUNDERS:
            continue
        owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
        if owner is None or _package_of(owner) not in PACKAGES or owner in skip_bases:
            continue
        raw = owner.__dict__[name]
        if isinstance(raw, (staticmethod, classmethod)) or inspect.isfunction(raw):
            members[name] = getattr(cls, name)
    return members


def _signature(obj) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def _params(obj, drop_self: bool) -> dict[str, inspect.Parameter] | None:
    sig = _signature(obj)
    if sig is None:
        return None
    params = list(sig.parameters.values())
    if drop_self and params and params[0].name in ("self", "cls"):
        params = params[1:]
    return {_param_key(p): p for p in params}


def _param_key(p: inspect.Parameter) -> str:
    if p.kind is p.VAR_POSITIONAL:
        return f"*{p.name}"
    if p.kind is p.VAR_KEYWORD:
        return f"**{p.name}"
    return p.name


def _show(value) -> str:
    if value is inspect.Parameter.empty:
        return "(required)"
    text = repr(value)
    if hasattr(value, "value") and type(value).__module__.split(".")[0] in PACKAGES + ("nanohf",):
        text = repr(value.value)  # an enum: its value
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def _same_default(a, b) -> bool:
    if a is inspect.Parameter.empty or b is inspect.Parameter.empty:
        return a is b
    try:
        if a is b or (type(a) is type(b) and bool(a == b)):
            return True
    except Exception:  # arrays, odd __eq__
        pass
    return _show(a) == _show(b)


def compare_callable(label: str, theirs, ours, entry: Entry, drop_self: bool) -> None:
    """One method: presence, then each parameter of ``theirs``."""
    their_params = _params(theirs, drop_self)
    entry.total += 1 + (len(their_params) if their_params else 0)
    if ours is None:
        entry.differences.append(Difference(label, "missing method"))
        return
    entry.matched += 1
    our_params = _params(ours, drop_self) if callable(ours) else None
    if their_params is None or our_params is None:
        entry.matched += len(their_params or {})
        return
    has_kwargs = any(k.startswith("**") for k in our_params)
    for key, param in their_params.items():
        mine = our_params.get(key)
        if mine is None:
            kind = "only through **kwargs" if has_kwargs and not key.startswith("*") else "missing parameter"
            entry.differences.append(Difference(f"{label}({key})", kind, f"default {_show(param.default)}"))
        elif not key.startswith("*") and not _same_default(param.default, mine.default):
            detail = f"reference {_show(param.default)}, nanohf {_show(mine.default)}"
            entry.differences.append(Difference(f"{label}({key})", "default", detail))
        else:
            entry.matched += 1
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    # Where both take a parameter positionally, it must sit at the same place among the shared ones.
    shared = [k for k, p in their_params.items() if p.kind in positional and k in our_params
              and our_params[k].kind in positional]  # fmt: skip
    ours_order = [k for k in our_params if k in shared]
    if shared != ours_order:
        first = next(i for i, (a, b) in enumerate(zip(shared, ours_order, strict=True)) if a != b)
        entry.differences.append(
            Difference(
                f"{label}(*order)",
                "positional order",
                f"reference ..., {shared[first]}; nanohf ..., {ours_order[first]}",
            )
        )
    entry.extras += [f"{label}({k})" for k in our_params if k not in their_params and not k.startswith("*")]


def compare(ours_dotted: str, theirs_dotted: str, table_classes: dict) -> Entry:
    ours, theirs = resolve(ours_dotted), resolve(theirs_dotted)
    name = ours_dotted.rsplit(".", 1)[-1]
    entry = Entry(name, theirs_dotted)
    if not inspect.isclass(theirs):
        compare_callable(name, theirs, ours, entry, drop_self=False)
        return entry
    skip = tuple(base for base in theirs.__mro__[1:] if base in table_classes)
    for member, their_obj in sorted(reference_members(theirs, skip).items()):
        our_obj = getattr(ours, member, None) if inspect.isclass(ours) else None
        if member == "__init__" and our_obj is object.__init__:
            our_obj = None
        static = isinstance(inspect.getattr_static(theirs, member), staticmethod)
        compare_callable(f"{name}.{member}", their_obj, our_obj, entry, drop_self=not static)
    return entry


def explain(entries: list[Entry], notes: dict) -> list[Difference]:
    """Attach a note to every difference; returns those without one."""
    patterns = sorted(notes["notes"].items(), key=lambda kv: (-len(kv[0].replace("*", "")), kv[0]))
    unexplained = []
    for entry in entries:
        for diff in entry.differences:
            diff.note = notes["notes"].get(diff.key) or next(
                (note for pattern, note in patterns if fnmatch.fnmatchcase(diff.key, pattern)), None
            )
            if diff.note is None:
                unexplained.append(diff)
    return unexplained


def unused_notes(entries: list[Entry], notes: dict) -> list[str]:
    """Note keys that explain no difference today (the difference was fixed, or the name changed)."""
    keys = [d.key for e in entries for d in e.differences]
    return [k for k in notes["notes"] if not any(fnmatch.fnmatchcase(key, k) for key in keys)]


def build(notes: dict | None = None) -> tuple[list[Entry], list[Difference]]:
    notes = load_notes() if notes is None else notes
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    pairs = targets(notes)
    table_classes = {}
    for _, theirs in pairs:
        obj = resolve(theirs)
        if inspect.isclass(obj):
            table_classes[obj] = theirs
    entries = [compare(ours, theirs, table_classes) for ours, theirs in pairs]
    return entries, explain(entries, notes)


def render(entries: list[Entry]) -> str:
    import accelerate
    import datasets
    import transformers

    matched, total = sum(e.matched for e in entries), sum(e.total for e in entries)
    lines = [
        "# API coverage",
        "",
        f"nanohf's public names against transformers {transformers.__version__}, accelerate "
        f"{accelerate.__version__} and datasets {datasets.__version__}: {matched} of {total} items match "
        f"({100 * matched / total:.1f}%).",
        "",
        "Written by `tools/api_coverage.py` from `inspect.signature` (do not edit by hand; "
        "`tests/test_api_coverage.py` fails when this page is stale or a difference has no explanation). "
        "An *item* is a public method of the reference class (present or not) or one of its parameters "
        "(present with the same default or not); methods inherited from another class of the table are "
        "counted under that class. Explanations live in `tools/api_coverage_notes.json`.",
        "",
        "| nanohf | reference | matched / total | % | differences |",
        "|---|---|---:|---:|---:|",
    ]
    for e in entries:
        lines.append(f"| {e.name} | {e.reference} | {e.matched} / {e.total} | {100 * e.matched / max(e.total, 1):.0f} "
                     f"| {len(e.differences)} |")  # fmt: skip
    for e in entries:
        lines += ["", f"## {e.name}", "", f"Reference: {e.reference}; {e.matched} of {e.total} items match.", ""]
        if not e.differences and not e.extras:
            lines.append("Everything matches.")
            continue
        block = []
        width = max([len(d.key) for d in e.differences] + [10])
        for d in e.differences:
            detail = f" [{d.detail}]" if d.detail and d.kind != "missing parameter" else ""
            block.append(f"{d.key:<{width}}  {d.kind}{detail}: {d.note or 'UNEXPLAINED'}")
        if e.extras:
            block.append("nanohf only: " + ", ".join(e.extras))
        lines += ["```text", *block, "```"]
    return "\n".join(lines) + "\n"


def coverage_numbers(entries: list[Entry]) -> dict[str, list[int]]:
    return {e.name: [e.matched, e.total] for e in entries}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; fail if stale or unexplained")
    parser.add_argument("--json", help="also write {name: [matched, total]} to this file")
    parser.add_argument("--unused", action="store_true", help="list the notes no difference uses (to prune)")
    args = parser.parse_args(argv)
    entries, unexplained = build()
    text = render(entries)
    if args.json:
        Path(args.json).write_text(json.dumps(coverage_numbers(entries), indent=1) + "\n")
    for diff in unexplained:
        print(f"unexplained: {diff.key} ({diff.kind} {diff.detail})", file=sys.stderr)
    if args.unused:
        for key in unused_notes(entries, load_notes()):
            print(f"unused note: {key}")
    if args.check:
        stale = not PAGE.is_file() or PAGE.read_text() != text
        if stale:
            print(f"{PAGE} is stale: run python tools/api_coverage.py", file=sys.stderr)
        return 1 if stale or unexplained else 0
    tmp = PAGE.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, PAGE)
    print(f"wrote {PAGE}: {sum(e.matched for e in entries)} / {sum(e.total for e in entries)} items match, "
          f"{len(unexplained)} differences unexplained")  # fmt: skip
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
