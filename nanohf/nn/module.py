"""Parameter and Module: the smallest machinery that names weights the way transformers does.

A Module's parameters and sub-modules are plain attributes. Their names, joined with dots in
the order they were assigned, are the state-dict names (``encoder.layer.0.attention.self.query.weight``),
so a checkpoint written by transformers maps onto our attributes one to one.
"""

from collections.abc import Iterator

import numpy as np


class Parameter:
    """A trainable array: ``data`` and, once a backward has run, ``grad`` of the same shape.

    A Parameter built with ``requires_grad=False`` is what torch calls a *buffer* (BART's
    ``final_logits_bias``): saved and loaded with the weights, never trained, and not counted by
    ``num_parameters``. Freezing a weight later (``param.requires_grad = False``) keeps it a parameter.
    """

    def __init__(self, data: np.ndarray, requires_grad: bool = True):
        self.data = data
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.is_buffer = not requires_grad

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements, ``prod(shape)`` (torch's ``Tensor.numel``)."""
        return int(self.data.size)

    def size(self, dim: int | None = None):
        """torch's ``Tensor.size()``: the shape, or its length along ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def requires_grad_(self, requires_grad: bool = True) -> "Parameter":
        self.requires_grad = requires_grad
        return self

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

    def children(self) -> Iterator["Module"]:
        for _, child in self.named_children():
            yield child

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, "Module"]]:
        """This module and every submodule, depth first, as ``(dotted name, module)``; the model itself is ``""``.

        As in torch, a module reachable under two names is yielded once (its first name) unless
        ``remove_duplicate=False``.
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every submodule, then on this module (torch's order: children first)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted name (``"encoder.layer.0"``); ``""`` is this module."""
        module: Module = self
        for part in target.split(".") if target else []:
            child = getattr(module, part, None)
            if not isinstance(child, Module):
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} (looking up {target!r})")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The Parameter at a dotted name (``"encoder.layer.0.output.dense.weight"``)."""
        owner, attr = target.rsplit(".", 1) if "." in target else ("", target)
        param = getattr(self.get_submodule(owner), attr, None)
        if not isinstance(param, Parameter):
            raise AttributeError(f"{type(self).__name__} has no parameter {target!r}")
        return param

    def named_parameters(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(name, Parameter)`` pairs; a tied parameter appears once, under its first name."""
        seen: set[int] = set()
        for module_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
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

    def named_buffers(self) -> Iterator[tuple[str, Parameter]]:
        """The parameters that are torch buffers (built with ``requires_grad=False``, see Parameter)."""
        return ((name, p) for name, p in self.named_parameters() if p.is_buffer)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter name -> array, tied names included (as torch's state_dict)."""
        return {name: p.data for name, p in self.named_parameters(remove_duplicate=False)}

    def train(self, mode: bool = True) -> "Module":
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            param.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (``False``) or unfreeze every parameter, buffers excepted."""
        for param in self.parameters():
            if not param.is_buffer:
                param.requires_grad = requires_grad
        return self

    # --- devices and dtypes (torch's Module.to and friends) ---------------------------------------------
    def to(self, *args, **kwargs) -> "Module":
        """``to("cpu")``, ``to(device)``, ``to(np.float64)``, ``to("float64")``, ``to(device, dtype)``,
        ``to(device=..., dtype=...)``: as torch's ``Module.to``, returns the module itself.

        nanohf computes on the CPU, so a CPU device changes nothing and any other device is an error; a
        dtype casts every parameter (and its gradient) in place, ties kept (see ``resolve_to_arguments``).
        """
        dtype = resolve_to_arguments(args, kwargs)
        if dtype is not None:
            self._cast(dtype)
        return self

    def float(self) -> "Module":
        """Every parameter to float32."""
        return self._cast(np.dtype(np.float32))

    def double(self) -> "Module":
        """Every parameter to float64 (what the gradient checks use)."""
        return self._cast(np.dtype(np.float64))

    def half(self) -> "Module":
        raise TypeError(f"model.half(): {HALF_PRECISION_REASON}")

    def bfloat16(self) -> "Module":
        raise TypeError(f"model.bfloat16(): {HALF_PRECISION_REASON}")

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        raise RuntimeError(f"model.cuda(): {ACCELERATOR_REASON}")

    def _cast(self, dtype: np.dtype) -> "Module":
        for param in self.parameters():
            if param.data.dtype != dtype:
                param.data = param.data.astype(dtype)
            if param.grad is not None and param.grad.dtype != dtype:
                param.grad = param.grad.astype(dtype)
        return self


ACCELERATOR_REASON = (
    "nanohf runs on the CPU only (NumPy and Numba); there is no GPU/accelerator backend. Use device 'cpu' "
    "(or leave the model where it is: it is already on the CPU)."
)
HALF_PRECISION_REASON = (
    "nanohf computes in float32, or float64 for gradient checks. NumPy has no bfloat16, nanohf's Numba kernels are "
    "compiled for float32/float64 only, and float16 arithmetic on a CPU is slower, not faster. Half-precision "
    "checkpoints are upcast to float32 when they load."
)
SUPPORTED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def resolve_to_arguments(args: tuple, kwargs: dict) -> np.dtype | None:
    """The dtype a ``to(...)`` call asks for (None: no cast), after checking every device it names is the CPU.

    Accepted as torch accepts them: a device (``"cpu"``, ``"cpu:0"``, a ``torch.device``), a dtype (NumPy's,
    a name such as ``"float64"``, or a ``torch.float32``), an array whose dtype to take, and the keywords
    ``device``, ``dtype``, ``non_blocking`` (meaningless here) and ``memory_format``.
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "memory_format", "copy"}
    if unknown:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(unknown)}")
    if len(args) > 2 or (len(args) == 2 and "dtype" in kwargs):
        raise TypeError(f"to() takes a device and/or a dtype, got {args!r} and {kwargs!r}")
    dtype = None
    if kwargs.get("device") is not None:
        check_cpu_device(kwargs["device"])
    for arg in args:
        if is_device(arg):
            check_cpu_device(arg)
        elif isinstance(arg, np.ndarray):
            dtype = arg.dtype
        else:
            dtype = arg
    if kwargs.get("dtype") is not None:
        dtype = kwargs["dtype"]
    return None if dtype is None else _check_dtype(dtype)


_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "npu", "hpu", "xla", "meta", "ipu", "mtia", "privateuseone")


def is_device(arg) -> bool:
    """Whether a ``to(...)`` argument names a device (a device string, a ``torch.device``, a CUDA index)."""
    if isinstance(arg, bool):
        return False
    if isinstance(arg, int):  # torch reads an integer as a CUDA device index
        return True
    if isinstance(getattr(arg, "type", None), str):  # a torch.device: .type is "cpu", "cuda", ...
        return True
    return isinstance(arg, str) and arg.split(":", 1)[0] in _DEVICE_TYPES


def check_cpu_device(device) -> None:
    """Raise unless ``device`` is the CPU (``"cpu"``, ``"cpu:0"``, ``torch.device("cpu")``)."""
    if isinstance(device, int) and not isinstance(device, bool):
        name = f"cuda:{device}"
    else:
        name = str(device)
    kind = getattr(device, "type", None) if not isinstance(device, str) else name.split(":", 1)[0]
    if kind != "cpu":
        raise RuntimeError(f"to({name!r}): {ACCELERATOR_REASON}")


def _check_dtype(dtype) -> np.dtype:
    text = str(dtype)
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        text = np.dtype(dtype).name  # np.float64 -> "float64" in messages
    if text.startswith("torch."):  # torch.float32 -> float32 (torch need not be imported for this)
        dtype = text[len("torch.") :]
    if isinstance(dtype, str) and dtype in ("bfloat16", "half", "float16"):
        raise TypeError(f"to({text}): {HALF_PRECISION_REASON}")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"to({dtype!r}): not a device nanohf knows ('cpu') nor a dtype (np.float32, np.float64, 'float64', ...)"
        ) from None
    if resolved == np.float16:
        raise TypeError(f"to({text}): {HALF_PRECISION_REASON}")
    if resolved not in SUPPORTED_DTYPES:
        raise TypeError(
            f"to({text}): a model's parameters are floating point; nanohf supports float32 and float64, not {resolved}"
        )
    return resolved


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
