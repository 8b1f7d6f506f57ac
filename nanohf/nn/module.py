"""Parameter and Module: the smallest machinery that names weights the way transformers does.

A Module's parameters and sub-modules are plain attributes. Their names, joined with dots in
the order they were assigned, are the state-dict names (``encoder.layer.0.attention.self.query.weight``),
so a checkpoint written by transformers maps onto our attributes one to one.
"""

from collections.abc import Iterator

import numpy as np


class Parameter:
    """A trainable array: ``data`` and, once a backward has run, ``grad`` of the same shape."""

    def __init__(self, data: np.ndarray, requires_grad: bool = True):
        self.data = data
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def accumulate_grad(param: Parameter, compute_grad) -> None:
    """``param.grad += compute_grad()`` — computed only if the parameter is trainable.

    Gradients add up across backward calls (gradient accumulation) until ``zero_grad``.
    """
    if not param.requires_grad:
        return
    grad = compute_grad()
    if param.grad is None:
        # compute_grad returns a new array (a product, a sum, a kernel's output): keep it, don't copy it.
        param.grad = grad.astype(param.data.dtype, copy=False)
    else:
        param.grad += grad


class Module:
    """Base class: ``__call__`` runs ``forward``; parameters are found by walking attributes.

    A forward that keeps values for its backward stores them in ``self._cache``; the backward
    takes them with ``pop_cache()``, which frees them.
    """

    training: bool = False
    _cache = None

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def pop_cache(self):
        cache, self._cache = self._cache, None
        if cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: its forward kept nothing — it ran under nanohf.no_grad(), "
                f"or this backward already ran"
            )
        return cache

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Submodules held as attributes; a private attribute (``_name``) may refer to a module owned elsewhere."""
        for name, value in vars(self).items():
            if isinstance(value, Module) and not name.startswith("_"):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, Parameter)`` pairs; a tied parameter appears once, under its first name."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix):
            for name, value in vars(module).items():
                if not isinstance(value, Parameter):
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def parameters(self) -> Iterator[Parameter]:
        for _, param in self.named_parameters():
            yield param

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter name -> array, tied names included (as torch's state_dict)."""
        return {name: p.data for name, p in self.named_parameters(remove_duplicate=False)}

    def train(self, mode: bool = True) -> "Module":
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for param in self.parameters():
            param.grad = None


class ModuleList(Module):
    """A list of modules named ``0``, ``1``, … as in ``encoder.layer.3``."""

    def __init__(self, modules):
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __iter__(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __getitem__(self, index: int) -> Module:
        return getattr(self, str(index % len(self)))
