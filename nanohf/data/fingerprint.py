"""Fingerprints: a short hash that changes whenever the data or a transform applied to them changes.

Every `Dataset` carries one. A data set read from files or built from a dict is fingerprinted by its
content; each transform derives the new fingerprint from the old one and its own arguments
(`shuffle(seed=42)` -> hash(old, "shuffle", 42)), so nothing has to be re-read to know two data sets are equal.

`map` names its disk cache after hash(data fingerprint, the function, the map arguments). Hashing a
*function* is the interesting part: two runs of the same script create two different function objects, so
we hash what the function *does*:

* its code object: bytecode, constants, names and nested functions (not its file name or line numbers,
  so that adding a line above it does not throw the cache away);
* its default arguments and the values of its closure cells;
* the globals its code refers to (`tokenizer` in `lambda x: tokenizer(x["sentence"])`), recursively.

An object whose class defines `__nanohf_hash__()` is hashed by what that returns (a Dataset returns its
fingerprint and format, rather than having all its rows hashed). Other objects (a tokenizer) are hashed by
their type and attributes, skipping memo caches (attributes whose name contains "cache", and those listed in
MEMO_ATTRIBUTES): they grow while the tokenizer is used and do not change what it returns. A class is
hashed by its name only, so editing a class's methods does not invalidate the cache. Values we cannot hash
reproducibly raise `Unhashable`; `map` then computes without the disk cache and says so.
"""

import hashlib
import json
import pickle
import types

import numpy as np

DIGEST_SIZE = 16  # bytes: fingerprints are 32 hex characters
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set for classes created by a class statement
# Memo attributes without "cache" in their name, by the class that defines them: skipped when hashing.
MEMO_ATTRIBUTES = {"nanohf.tokenizers.base.PreTrainedTokenizerBase": ("_special_encodings",)}


def _qualified(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


class Unhashable(TypeError):
    """Raised for a value whose hash would not be the same in the next run (e.g. an open file)."""


class Hasher:
    """Feeds values into a blake2b hash; `hexdigest()` is the fingerprint."""

    def __init__(self):
        self._hash = hashlib.blake2b(digest_size=DIGEST_SIZE)
        # id -> (position, object), so cycles (a function calling itself) terminate. Holding the object keeps
        # it alive: a temporary freed mid-hash could otherwise hand its id to a different object.
        self._seen = {}

    def hexdigest(self):
        return self._hash.hexdigest()

    def _tag(self, tag, payload=b""):
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        # Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        self._hash.update(f"{tag}:{len(data)}:".encode() + data)

    def update(self, value):
        """Hash `value` (recursively for containers, functions and objects)."""
        if isinstance(value, str):
            self._tag("str", value.encode("utf-8", "surrogatepass"))
            return
        if value is None or isinstance(value, (bool, int, float, complex, bytes)):
            self._tag(type(value).__name__, repr(value))
            return
        if type(value) in (list, tuple, dict) and _plain(value):
            # Fast path (a 30,000-token vocabulary): for plain data, repr is exact and unambiguous.
            self._tag("plain-" + type(value).__name__, repr(value))
            return
        if isinstance(value, np.generic):
            self._tag("np." + value.dtype.str, value.tobytes())
            return
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                self._tag("ndarray-object", value.shape)
                for item in value.ravel():
                    self.update(item)
            else:
                self._tag("ndarray", f"{value.dtype.str}{value.shape}")
                self._tag("bytes", np.ascontiguousarray(value).tobytes())
            return
        if hasattr(type(value), "__nanohf_hash__"):  # an object that knows what identifies it (a Dataset)
            self._tag("hashed-by-itself", type(value).__qualname__)
            self.update(value.__nanohf_hash__())
            return
        if id(value) in self._seen:  # a cycle: refer back to the first occurrence
            self._tag("seen", self._seen[id(value)][0])
            return
        self._seen[id(value)] = (len(self._seen), value)
        if isinstance(value, (list, tuple)):
            self._tag(type(value).__name__, len(value))
            for item in value:
                self.update(item)
        elif isinstance(value, dict):
            self._tag("dict", len(value))
            for key, item in value.items():
                self.update(key)
                self.update(item)
        elif isinstance(value, (set, frozenset)):
            self._tag("set", len(value))
            for digest in sorted(hash_value(item) for item in value):
                self._tag("item", digest)
        elif isinstance(value, types.CodeType):
            self._update_code(value)
        elif isinstance(value, types.FunctionType):
            self._update_function(value)
        elif isinstance(value, types.MethodType):
            self._tag("method")
            self.update(value.__func__)
            self.update(value.__self__)
        elif isinstance(value, types.ModuleType):
            self._tag("module", value.__name__)
        elif isinstance(value, (type, types.BuiltinFunctionType)):
            self._tag("qualname", f"{getattr(value, '__module__', None)}.{value.__qualname__}")
        elif hasattr(value, "func") and hasattr(value, "args") and hasattr(value, "keywords"):  # functools.partial
            self._tag("partial")
            self.update((value.func, value.args, value.keywords))
        else:
            self._update_object(value)

    def _update_code(self, code):
        """Bytecode and everything it refers to, but not where it was written (file, line numbers)."""
        self._tag("code", code.co_code)
        for field in ("co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_flags", "co_names",
                      "co_varnames", "co_freevars", "co_cellvars"):
            self._tag(field, repr(getattr(code, field)))
        self._tag("consts", len(code.co_consts))
        for const in code.co_consts:
            self.update(const)

    def _update_function(self, fn):
        self._tag("function")
        self._update_code(fn.__code__)
        self.update(fn.__defaults__)
        self.update(fn.__kwdefaults__)
        if fn.__closure__:
            for cell in fn.__closure__:
                try:
                    self.update(cell.cell_contents)
                except ValueError:  # an empty cell (a name assigned after the function was defined)
                    self._tag("empty-cell")
        # The globals the function (or a function nested in it) uses, by name, in a stable order.
        for name in sorted(global_names(fn.__code__)):
            if name in fn.__globals__:
                self._tag("global", name)
                self.update(fn.__globals__[name])

    def _update_object(self, value):
        """An instance: its type and its attributes (minus caches), or its pickle if it has no __dict__."""
        cls = type(value)
        self._tag("object", f"{cls.__module__}.{cls.__qualname__}")
        state = getattr(value, "__dict__", None)
        # Only classes written in Python keep all their state in __dict__; a C type (an open file) keeps
        # it out of sight, so it goes through pickle, which refuses what it cannot reproduce.
        if state is not None and cls.__flags__ & _HEAP_TYPE:
            # Containers subclassing dict/list (BatchEncoding) hold their data outside __dict__.
            if isinstance(value, dict):
                self.update(dict(value))
            memos = {name for klass in cls.__mro__ for name in MEMO_ATTRIBUTES.get(_qualified(klass), ())}
            state = {k: v for k, v in sorted(state.items()) if "cache" not in k.lower() and k not in memos}
            self.update(state)
            return
        try:
            data = pickle.dumps(value, protocol=4)
        except Exception as error:
            raise Unhashable(f"cannot hash {cls.__qualname__} object: {error}") from error
        self._tag("pickle", data)


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def _plain(container):
    """Whether a list/tuple/dict holds only str, int, float, bool and None (keys included)."""
    if isinstance(container, dict):
        return set(map(type, container)) <= _PLAIN_TYPES and set(map(type, container.values())) <= _PLAIN_TYPES
    return set(map(type, container)) <= _PLAIN_TYPES


def global_names(code):
    """The global names a code object (and every code object nested in it) loads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= global_names(const)
    return names


def hash_value(*values):
    """The fingerprint of any hashable combination of values (see `Hasher.update`)."""
    hasher = Hasher()
    for value in values:
        hasher.update(value)
    return hasher.hexdigest()


def hash_columns(columns):
    """Content fingerprint of {name: column}: the raw bytes of numeric columns, the JSON of the others."""
    hasher = Hasher()
    for name, column in columns.items():
        hasher.update(name)
        hasher.update(type(column).__name__)
        for attribute in ("data", "values", "offsets"):
            array = getattr(column, attribute, None)
            if array is None:
                continue
            if array.dtype == object:
                try:  # much faster than hashing item by item
                    hasher.update(json.dumps(array.tolist(), ensure_ascii=False))
                except TypeError:
                    hasher.update(array)
            else:
                hasher.update(array)
    return hasher.hexdigest()
