"""The ``Optimizer`` base class: parameter groups, per-parameter state, and their state dict.

Every optimizer in ``nanohf.optim`` shares this bookkeeping, as ``torch.optim.Optimizer`` does:

- ``param_groups`` is a list of dicts. Each holds ``"params"`` (a list of ``Parameter``) and
  the hyper-parameters for those parameters (``lr``, ``weight_decay``, ...). A scheduler changes
  ``group["lr"]`` between steps; a "no decay" group sets ``weight_decay=0.0`` for biases and
  LayerNorm weights.
- ``state`` maps a ``Parameter`` to its own dict (Adam's moments, SGD's momentum buffer),
  created lazily at its first step.
- ``state_dict()`` replaces each ``Parameter`` by its index (counted across groups, in order),
  so a checkpoint does not depend on object identities; ``load_state_dict()`` maps the indices
  back onto the parameters of a freshly built optimizer, in the same order.
"""

import copy
from typing import Any

import numpy as np

from nanohf.nn.module import Parameter


class Optimizer:
    """Base class: subclasses set ``defaults`` through ``__init__`` and implement ``step``.

    ``params`` is an iterable of ``Parameter``, of ``(name, Parameter)`` pairs (as from
    ``model.named_parameters()``), or of dicts ``{"params": [...], **overrides}``, one per group.
    """

    def __init__(self, params, defaults: dict[str, Any]):
        if isinstance(params, Parameter):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Parameters or dicts, "
                "but got a single Parameter (wrap it in a list)"
            )
        self.defaults = defaults
        self.state: dict[Parameter, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group; options it does not name take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections (a list), not a set")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError("all optimizer params should be with/without names. Some param names are missing")
        if names:
            group["param_names"] = names
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer can only optimize Parameters, but one of the params is {type(p).__name__}")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer got a parameter group with duplicate parameters (each would step twice)")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``grad = None`` (default), or fill the arrays with 0 in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.fill(0)

    def step(self, closure=None):
        raise NotImplementedError

    def _params_to_update(self, group: dict[str, Any]):
        """``(param, grad)`` for each parameter of ``group`` that takes a step now.

        A parameter is skipped when it has no gradient (it took no part in the forward, or
        ``zero_grad`` ran since) or is frozen (``requires_grad=False``). The gradient is returned
        as a C-contiguous array of the parameter's dtype, so a kernel can walk it flat.
        """
        for p in group["params"]:
            if p.grad is None or not p.requires_grad:
                continue
            if p.data.dtype not in (np.float32, np.float64):
                raise TypeError(f"{type(self).__name__} works on float32 or float64 parameters, got {p.data.dtype}")
            if p.grad.shape != p.data.shape:
                raise ValueError(f"gradient of shape {p.grad.shape} for a parameter of shape {p.data.shape}")
            yield p, np.ascontiguousarray(p.grad, dtype=p.data.dtype)

    # --- checkpoints ------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``, as torch's.

        Parameters are numbered across groups in order. As in torch, the state arrays are the
        live ones (not copies): save them before the next ``step``, or ``copy.deepcopy`` the dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` into an optimizer built over the same parameters.

        Groups must match in number and size; the saved hyper-parameters (lr, betas, ...)
        replace the current ones. State arrays are copied and cast to each parameter's dtype.
        """
        groups, saved_groups = self.param_groups, copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(groups, saved_groups, strict=True):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
                )
        params_by_index = {
            i: p
            for group, saved in zip(groups, saved_groups, strict=True)
            for i, p in zip(saved["params"], group["params"], strict=True)
        }
        self.state = {}
        for i, saved_state in state_dict["state"].items():
            if int(i) not in params_by_index:
                continue
            p = params_by_index[int(i)]
            self.state[p] = {k: _cast_like(p, k, v) for k, v in saved_state.items()}
        for n, (group, saved) in enumerate(zip(groups, saved_groups, strict=True)):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            self.param_groups[n] = saved

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])


def _cast_like(param: Parameter, key: str, value):
    """A copy of a saved state value: arrays take the parameter's dtype and must match its shape."""
    if not isinstance(value, np.ndarray):
        return copy.deepcopy(value)
    if value.shape != param.data.shape:
        raise ValueError(f"state {key!r} has shape {value.shape}, but its parameter has shape {param.data.shape}")
    return np.array(value, dtype=param.data.dtype, order="C")
