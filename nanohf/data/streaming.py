"""`IterableDataset`: examples read lazily, one at a time, as 🤗 datasets' streaming mode.

    stream = load_dataset("json", data_files="pubmed.jsonl.gz", split="train", streaming=True)
    next(iter(stream))                                   # the first example, without reading the rest
    tokenized = stream.map(lambda x: tokenizer(x["text"]), batched=True)
    shuffled = stream.shuffle(buffer_size=10_000, seed=42)
    head, rest = stream.take(5), stream.skip(5)
    ds.to_iterable_dataset()                              # a Dataset's rows, streamed

Nothing is computed until iteration: each transform wraps the previous *source* (an object whose
`iterate()` yields example dicts), and iterating builds the chain of generators. A source made of several
shards (one per data file, or `to_iterable_dataset(num_shards=n)`) can be reordered shard by shard.

`shuffle(seed, buffer_size)` is 🤗 datasets' buffer shuffle: the shard order is permuted first (with a copy of
the generator), then examples fill a buffer of `buffer_size`; when it is full, a permutation of it
(`rng.permutation`) yields all but buffer_size // 2 of them, the rest stay for the next round; at the end
the remaining buffer is yielded in permuted order. For one shard, the same seed gives the same order as
🤗 datasets. `set_epoch(e)` reshuffles: the shards with `default_rng(e)`, the buffer with the seed
`rng.integers(0, 2**63) - e`, as 🤗 datasets shifts its generators.
"""

import copy
import itertools

import numpy as np

from .columns import column_from_values
from .features import Features, Value, align_features
from .readers import read_csv, read_json, read_parquet, read_text, read_texts

STRATEGIES = ("first_exhausted", "all_exhausted", "all_exhausted_without_replacement")  # interleave's stopping


# ---------------------------------------------------------------------- sources
class ShufflingDisallowed(Exception):
    """take/skip fix the shard order: a shuffle above them leaves the shards alone (as 🤗 datasets)."""


class Shards:
    """The base source: `generate(shard)` yields the examples of one shard; shards are visited in order.

    arrow: the rows come from a table (files, a Dataset), which 🤗 datasets reads in Arrow batches; its buffer
    shuffle then takes rows in groups (see BufferShuffled), and so do we, to give the same order.
    """

    arrow = True

    def __init__(self, generate, shards, arrow=True):
        self.generate, self.shards, self.arrow = generate, list(shards), arrow

    @property
    def num_shards(self):
        return len(self.shards)

    def iterate(self):
        for shard in self.shards:
            yield from self.generate(shard)

    def shuffle_sources(self, generator):
        order = list(range(len(self.shards)))
        copy.deepcopy(generator).shuffle(order)
        return Shards(self.generate, [self.shards[i] for i in order], self.arrow)

    def shifted(self, epoch):
        return self


class _Wrapper:
    """A source transforming one parent source; shard shuffles and epoch shifts pass through to it."""

    blocks_shuffle = False  # take/skip: the shard order stays fixed
    keeps_arrow = False  # take/skip/shuffle pass Arrow batches on; a Python function (map, filter) does not

    def __init__(self, parent, **params):
        self.parent, self.params = parent, params

    @property
    def arrow(self):
        return self.keeps_arrow and self.parent.arrow

    @property
    def num_shards(self):
        return self.parent.num_shards

    def _copy(self, parent, **changes):
        return type(self)(parent, **{**self.params, **changes})

    def shuffle_sources(self, generator):
        if self.blocks_shuffle:
            raise ShufflingDisallowed
        return self._copy(self.parent.shuffle_sources(generator))

    def shifted(self, epoch):
        return self._copy(self.parent.shifted(epoch))


class Mapped(_Wrapper):
    def iterate(self):
        p = self.params
        function, batched = p["function"], p["batched"]
        if not batched:
            for index, example in enumerate(self.parent.iterate()):
                yield _merge(example, _apply(function, example, index, p), p["remove_columns"])
            return
        examples = self.parent.iterate()
        index = 0
        while True:
            rows = list(itertools.islice(examples, p["batch_size"]))
            if not rows or (p["drop_last_batch"] and len(rows) < p["batch_size"]):
                return
            names = list(dict.fromkeys(k for row in rows for k in row))
            batch = {name: [row.get(name) for row in rows] for name in names}
            output = _apply(function, batch, list(range(index, index + len(rows))), p)
            output = {name: list(values) for name, values in (output or {}).items()}
            index += len(rows)
            merged = _merge(batch, output, p["remove_columns"])
            lengths = {name: len(values) for name, values in merged.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"Column lengths mismatch: columns {lengths} returned by the map function for a "
                                 f"batch of {len(rows)}; remove the input columns (remove_columns=...) when the "
                                 "function changes the number of rows.")
            for i in range(next(iter(lengths.values()), 0)):
                yield {name: values[i] for name, values in merged.items()}


def _apply(function, inputs, index, p, check=True):
    args = [inputs] if p["input_columns"] is None else [inputs[c] for c in p["input_columns"]]
    if p["with_indices"]:
        args.append(index)
    output = function(*args, **p["fn_kwargs"])
    if check and output is not None and not isinstance(output, dict):
        raise TypeError(f"Provided `function` which is applied to all elements of table returns a variable of type "
                        f"{type(output)}. Make sure provided `function` returns a variable of type `dict` (or None).")
    return output


def _merge(inputs, output, remove_columns):
    """The input columns (minus removed ones) updated with the function's output."""
    merged = {name: value for name, value in inputs.items() if name not in (remove_columns or ())}
    merged.update(output or {})
    return merged


class Filtered(_Wrapper):
    def iterate(self):
        p = self.params
        if not p["batched"]:
            for index, example in enumerate(self.parent.iterate()):
                if _apply(p["function"], example, index, p, check=False):
                    yield example
            return
        examples, index = self.parent.iterate(), 0
        while rows := list(itertools.islice(examples, p["batch_size"])):
            batch = {name: [row.get(name) for row in rows] for name in dict.fromkeys(k for r in rows for k in r)}
            mask = _apply(p["function"], batch, list(range(index, index + len(rows))), p, check=False)
            index += len(rows)
            yield from (row for row, keep in zip(rows, mask, strict=True) if keep)


class BufferShuffled(_Wrapper):
    """rows arrive `group` at a time (🤗 datasets' Arrow batches of max(1, buffer_size // input shards)), and the
    buffer is only checked after a whole group, as its Arrow path does; group is 1 for Python examples."""

    keeps_arrow = True

    def iterate(self):
        size, rng, group = self.params["buffer_size"], copy.deepcopy(self.params["generator"]), self.params["group"]
        buffer = []
        examples = self.parent.iterate()
        while rows := list(itertools.islice(examples, group)):
            buffer.extend(rows)
            if len(buffer) >= size:
                order = rng.permutation(len(buffer))
                keep = size // 2
                out = len(buffer) - keep
                for i in order[:out]:
                    yield buffer[i]
                buffer = [buffer[i] for i in order[out:]]
        if buffer:
            for i in rng.permutation(len(buffer)):
                yield buffer[i]

    def shifted(self, epoch):
        seed = copy.deepcopy(self.params["generator"]).integers(0, 1 << 63) - epoch
        return self._copy(self.parent.shifted(epoch), generator=np.random.default_rng(seed))


class Taken(_Wrapper):
    blocks_shuffle = keeps_arrow = True

    def iterate(self):
        return itertools.islice(self.parent.iterate(), self.params["n"])


class Skipped(_Wrapper):
    blocks_shuffle = keeps_arrow = True

    def iterate(self):
        return itertools.islice(self.parent.iterate(), self.params["n"], None)


class _Multi:
    """A source over several sources (concatenation, zip, interleave)."""

    arrow = False

    def __init__(self, parents, **params):
        self.parents, self.params = list(parents), params

    @property
    def num_shards(self):
        return sum(p.num_shards for p in self.parents)

    def _copy(self, parents, **changes):
        return type(self)(parents, **{**self.params, **changes})

    def shuffle_sources(self, generator):
        return self._copy([p.shuffle_sources(generator) for p in self.parents])

    def shifted(self, epoch):
        return self._copy([p.shifted(epoch) for p in self.parents])


class Concatenated(_Multi):
    def iterate(self):
        names = self.params["names"]
        for parent in self.parents:
            for example in parent.iterate():
                yield example if names is None else {name: example.get(name) for name in names}


class Zipped(_Multi):
    def iterate(self):
        for examples in zip(*(p.iterate() for p in self.parents), strict=False):
            merged = {}
            for example in examples:
                merged.update(example)
            yield merged


class Interleaved(_Multi):
    """🤗 datasets' (Randomly)CyclingMultiSourcesExamplesIterable: each source is read one example ahead, so it
    counts as exhausted as soon as its last example is taken."""

    def _picks(self):
        generator, probabilities = self.params["generator"], self.params["probabilities"]
        n = len(self.parents)
        if generator is None:
            yield from itertools.cycle(range(n))
        rng = copy.deepcopy(generator)
        while True:
            draws = rng.integers(0, n, size=1000) if probabilities is None else rng.choice(n, size=1000,
                                                                                             p=probabilities)
            yield from (int(i) for i in draws)

    def iterate(self):
        strategy, names = self.params["stopping_strategy"], self.params["names"]
        stop = all if strategy in ("all_exhausted", "all_exhausted_without_replacement") else any
        iterators = [p.iterate() for p in self.parents]
        missing = object()
        ahead = [next(it, missing) for it in iterators]
        exhausted = [False] * len(iterators)
        for i in self._picks():
            if stop(exhausted):
                return
            if exhausted[i] and strategy == "all_exhausted_without_replacement":
                continue
            if ahead[i] is missing:  # an empty source
                exhausted[i] = True
                continue
            example = ahead[i]
            ahead[i] = next(iterators[i], missing)
            if ahead[i] is missing:
                exhausted[i] = True
                if strategy != "all_exhausted_without_replacement":
                    iterators[i] = self.parents[i].iterate()
                    ahead[i] = next(iterators[i], missing)
            yield example if names is None else {name: example.get(name) for name in names}

    def shifted(self, epoch):
        generator = self.params["generator"]
        if generator is not None:
            generator = np.random.default_rng(copy.deepcopy(generator).integers(0, 1 << 63) - epoch)
        return self._copy([p.shifted(epoch) for p in self.parents], generator=generator)


# ---------------------------------------------------------------------- the data set
def _as_list(names):
    return [names] if isinstance(names, str) else (None if names is None else list(names))


class IterableDataset:
    """A stream of example dicts with 🤗 datasets' IterableDataset API; transforms return new streams.

    The constructor is internal (`load_dataset(..., streaming=True)`, `Dataset.to_iterable_dataset()`,
    `IterableDataset.from_generator`): `source` yields the examples (see the module docstring).
    """

    def __init__(self, source, features=None, epoch=0, format_type=None):
        self._ex_iterable = source
        # features: known Features, None (unknown), or a function that works them out (the first file's types,
        # read only when asked for, as 🤗 datasets reads the first batch to know a stream's features).
        self._lazy_features = features if callable(features) else None
        self._known_features = None if features is None or callable(features) else Features(features)
        self._epoch = epoch
        self._format_type = format_type

    @property
    def _features(self):
        if self._known_features is None and self._lazy_features is not None:
            self._known_features, self._lazy_features = Features(self._lazy_features() or {}), None
        return self._known_features

    def _derive(self, source, features="same"):
        if features == "same":
            features = self._lazy_features if self._known_features is None and self._lazy_features else \
                self._known_features
        return IterableDataset(source, features, self._epoch, self._format_type)

    @classmethod
    def from_generator(cls, generator, features=None, gen_kwargs=None):
        """A stream of what `generator(**gen_kwargs)` yields (called again for each pass)."""
        kwargs = gen_kwargs or {}
        return cls(Shards(lambda _: generator(**kwargs), [None], arrow=False), features)

    # ------------------------------------------------------------------ description
    @property
    def features(self):
        return None if self._features is None else self._features.copy()

    @property
    def column_names(self):
        return None if self._features is None else list(self._features)

    @property
    def num_shards(self):
        return self._ex_iterable.num_shards

    n_shards = num_shards

    @property
    def epoch(self):
        return self._epoch

    def set_epoch(self, epoch):
        """Iterations from now on use the shuffles of epoch `epoch` (see the module docstring)."""
        self._epoch = int(epoch)

    def __repr__(self):
        features = self.column_names or "Unknown"
        return f"IterableDataset({{\n    features: {features},\n    num_shards: {self.num_shards}\n}})"

    # ------------------------------------------------------------------ iteration
    def _source_for_epoch(self):
        source = self._ex_iterable
        if self._epoch:
            try:
                source = source.shuffle_sources(np.random.default_rng(self._epoch))
            except ShufflingDisallowed:
                pass
            source = source.shifted(self._epoch)
        return source

    def __iter__(self):
        for example in self._source_for_epoch().iterate():
            yield self._format(example)

    def _format(self, example):
        if self._format_type != "numpy":
            return example
        return {name: _to_numpy(value) for name, value in example.items()}

    def iter(self, batch_size, drop_last_batch=False):
        """Batches of batch_size examples as dicts of lists (arrays with format "numpy")."""
        examples = iter(self)
        while rows := list(itertools.islice(examples, batch_size)):
            if drop_last_batch and len(rows) < batch_size:
                return
            batch = {name: [row.get(name) for row in rows] for name in dict.fromkeys(k for r in rows for k in r)}
            if self._format_type == "numpy":
                batch = {name: _stack(values) for name, values in batch.items()}
            yield batch

    def with_format(self, type=None):
        """Examples as Python objects (None) or NumPy arrays ("numpy")."""
        if type not in (None, "python", "numpy", "np"):
            raise ValueError(f"Unknown format type {type!r} for an IterableDataset; choose None or 'numpy'.")
        copy_ = self._derive(self._ex_iterable)
        copy_._format_type = "numpy" if type in ("numpy", "np") else None
        return copy_

    # ------------------------------------------------------------------ transforms
    def map(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
            drop_last_batch=False, remove_columns=None, features=None, fn_kwargs=None):
        """Apply `function` to each example (or batch of batch_size, batched=True) as it is read."""
        if batched and (batch_size is None or batch_size <= 0):
            batch_size = 10**18
        remove_columns = _as_list(remove_columns)
        source = Mapped(self._ex_iterable, function=function if function is not None else (lambda x: x),
                        with_indices=with_indices, input_columns=_as_list(input_columns), batched=batched,
                        batch_size=batch_size, drop_last_batch=drop_last_batch, remove_columns=remove_columns,
                        fn_kwargs=fn_kwargs or {})
        return self._derive(source, Features(features) if features is not None else None)

    def filter(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
               fn_kwargs=None):
        """Keep the examples for which `function` is true (one bool per example of a batch, batched=True)."""
        source = Filtered(self._ex_iterable, function=function if function is not None else (lambda x: True),
                          with_indices=with_indices, input_columns=_as_list(input_columns), batched=batched,
                          batch_size=batch_size if batch_size and batch_size > 0 else 10**18, fn_kwargs=fn_kwargs or {})
        return self._derive(source)

    def shuffle(self, seed=None, generator=None, buffer_size=1000):
        """Buffer shuffle (see the module docstring): the same seed gives 🤗 datasets' order for one shard."""
        generator = np.random.default_rng(seed) if generator is None else copy.deepcopy(generator)
        input_shards = 10  # 🤗 datasets' max_buffer_input_shards
        try:
            source = self._ex_iterable.shuffle_sources(generator)
        except ShufflingDisallowed:
            source, input_shards = self._ex_iterable, 1
        group = max(1, int(buffer_size) // input_shards) if source.arrow else 1
        return self._derive(BufferShuffled(source, generator=generator, buffer_size=int(buffer_size), group=group))

    def take(self, n):
        """The first n examples."""
        return self._derive(Taken(self._ex_iterable, n=int(n)))

    def skip(self, n):
        """All but the first n examples."""
        return self._derive(Skipped(self._ex_iterable, n=int(n)))

    def _per_example(self, function, features):
        return self._derive(PerExample(self._ex_iterable, function=function), features)

    def _features_where(self, keep):
        return None if self._features is None else Features({k: v for k, v in self._features.items() if keep(k)})

    def remove_columns(self, column_names):
        names = set(_as_list(column_names))
        return self._per_example(lambda x: {k: v for k, v in x.items() if k not in names},
                                 self._features_where(lambda k: k not in names))

    def select_columns(self, column_names):
        names = _as_list(column_names)
        return self._per_example(lambda x: {k: x[k] for k in names}, None if self._features is None else
                                 Features({k: self._features[k] for k in names}))

    def rename_columns(self, column_mapping):
        mapping = dict(column_mapping)
        features = None if self._features is None else Features({mapping.get(k, k): v for k, v in
                                                                   self._features.items()})
        return self._per_example(lambda x: {mapping.get(k, k): v for k, v in x.items()}, features)

    def rename_column(self, original_column_name, new_column_name):
        return self.rename_columns({original_column_name: new_column_name})

    def cast_column(self, column, feature):
        def cast(example):
            value = column_from_values([example[column]], column, feature).python(np.arange(1))[0]
            return {**example, column: value}

        return self._per_example(cast, Features({**(self._features or {}), column: feature}))


class PerExample(_Wrapper):
    def iterate(self):
        return map(self.params["function"], self.parent.iterate())


def _to_numpy(value):
    if isinstance(value, str):
        return np.str_(value)
    try:
        array = np.asarray(value)
    except ValueError:
        return value
    return value if array.dtype == object else array


def _stack(values):
    try:
        array = np.asarray(values)
    except ValueError:
        return values
    return array


class IterableDatasetDict(dict):
    """{split: IterableDataset}; transforms apply to every split."""

    def _apply(self, method, *args, **kwargs):
        return IterableDatasetDict({name: getattr(ds, method)(*args, **kwargs) for name, ds in self.items()})

    def map(self, *args, **kwargs):
        return self._apply("map", *args, **kwargs)

    def filter(self, *args, **kwargs):
        return self._apply("filter", *args, **kwargs)

    def shuffle(self, seed=None, generator=None, buffer_size=1000):
        return self._apply("shuffle", seed=seed, generator=generator, buffer_size=buffer_size)

    def remove_columns(self, column_names):
        return self._apply("remove_columns", column_names)

    def rename_column(self, original_column_name, new_column_name):
        return self._apply("rename_column", original_column_name, new_column_name)

    def select_columns(self, column_names):
        return self._apply("select_columns", column_names)

    def with_format(self, type=None):
        return self._apply("with_format", type)

    def __repr__(self):
        body = ",\n".join(f"    {name}: " + repr(ds).replace("\n", "\n    ") for name, ds in self.items())
        return f"IterableDatasetDict({{\n{body}\n}})"


# ---------------------------------------------------------------------- building streams
def dataset_to_iterable(ds, num_shards=1):
    """A Dataset's rows as a stream of `num_shards` contiguous shards (🤗 datasets' to_iterable_dataset)."""
    if not 1 <= num_shards <= max(len(ds), 1):
        raise ValueError(f"num_shards must be between 1 and the number of rows ({len(ds)}), got {num_shards}")
    plain = ds.with_format(None)
    # 🤗 datasets' contiguous shards: the first len % num_shards shards get one extra row.
    sizes = [len(ds) // num_shards + (1 if i < len(ds) % num_shards else 0) for i in range(num_shards)]
    bounds = np.concatenate([[0], np.cumsum(sizes)])

    def generate(shard):
        start, stop = shard
        for i in range(start, stop):
            yield plain[i]

    shards = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return IterableDataset(Shards(generate, shards), ds.features)


def stream_files(kind, paths, options, features, table_of):
    """load_dataset(..., streaming=True): one shard per file, read when the iteration reaches it. Text files
    are read line by line; csv/json/parquet files one file at a time (their column types need the whole file):
    `table_of(data, features)` turns a file's {column: values} into a Dataset (rows and features)."""
    line_by_line = kind == "text" and options.get("sample_by", "line") == "line" and not options.get("keep_linebreaks")

    def read_table(path):
        reader = {"csv": read_csv, "json": read_json, "text": read_text, "parquet": read_parquet}[kind]
        data = reader([path], **options)
        return table_of(data[0] if kind == "parquet" else data, features)

    def generate(path):
        if line_by_line:
            for _, text in read_texts(path, options.get("encoding")):
                lines = text.split("\n")
                if text.endswith("\n"):
                    lines.pop()
                yield from ({"text": line} for line in lines)
            return
        yield from read_table(path)

    def first_file_features():  # what 🤗 datasets shows too: the features of the first file's rows
        return {"text": Value("string")} if line_by_line else read_table(paths[0]).features

    return IterableDataset(Shards(generate, paths), features if features is not None else first_file_features)


def _aligned_names(datasets):
    known = [ds.features for ds in datasets]
    if any(f is None for f in known):
        return None, None
    merged = align_features([ds.features for ds in datasets])
    return list(merged), Features(merged)


def concatenate_iterable(datasets, axis=0):
    if axis == 0:
        names, features = _aligned_names(datasets)
        return IterableDataset(Concatenated([d._ex_iterable for d in datasets], names=names), features)
    features = None
    if all(d.features is not None for d in datasets):
        features = Features({k: v for d in datasets for k, v in d.features.items()})
    return IterableDataset(Zipped([d._ex_iterable for d in datasets]), features)


def interleave_iterable(datasets, probabilities=None, seed=None, stopping_strategy="first_exhausted"):
    if stopping_strategy not in STRATEGIES:
        raise ValueError(f"{stopping_strategy} is not supported. Please enter a valid stopping_strategy.")
    names, features = _aligned_names(datasets)
    generator = None if probabilities is None else np.random.default_rng(seed)
    source = Interleaved([d._ex_iterable for d in datasets], generator=generator, probabilities=probabilities,
                         stopping_strategy=stopping_strategy, names=names)
    return IterableDataset(source, features)
