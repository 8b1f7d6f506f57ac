"""`Accelerator`: 🤗 accelerate's names for a hand-written training loop, data-parallel over MPI.

    accelerator = Accelerator(gradient_accumulation_steps=2)
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler)
    for batch in train_dataloader:             # this rank's shard of each epoch
        with accelerator.accumulate(model):    # 2 batches make one optimizer step
            loss = model(**batch).loss
            accelerator.backward(loss)         # backward of loss / 2; gradients averaged over the ranks
            optimizer.step(); lr_scheduler.step(); optimizer.zero_grad()   # no-ops between steps
    for batch in eval_dataloader:
        predictions = accelerator.gather_for_metrics(model(**batch).logits.argmax(-1))  # each example once
    accelerator.print("done")                  # printed once, by rank 0

Run the script with ``mpiexec -n 2 python train.py``; run alone, it is the same loop in one process.
As in accelerate, ``len(train_dataloader)`` after prepare is this rank's share of the batches, and a
*prepared* scheduler steps ``num_processes`` times per optimizer step (so a schedule counted in one
process's batches ends on time); one built after prepare and not prepared steps once.

There are no devices and no mixed precision: arrays live in NumPy, in float32. Arguments that only mean
something with torch (deepspeed, FSDP, torch.compile, autocast handlers) raise a clear error, or warn where
accelerate itself accepts them and carries on (trackers that are not installed, fp16 on a CPU).
"""

import os
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nanohf import distributed as dist
from nanohf import random as nanohf_random
from nanohf.accelerate import checkpointing, operations
from nanohf.accelerate.config import DataLoaderConfiguration, GradientAccumulationPlugin, ProjectConfiguration
from nanohf.accelerate.wrappers import AcceleratedOptimizer, AcceleratedScheduler, GradientState, PreparedDataLoader
from nanohf.data.dataloader import DataLoader
from nanohf.nn.module import Module
from nanohf.optim.optimizer import Optimizer
from nanohf.optim.schedules import LambdaLR

_NOT_SET = object()
PRECISIONS = ("no", "fp8", "fp16", "bf16")
_TORCH_ONLY = ("deepspeed_plugin", "fsdp_plugin", "torch_tp_plugin", "megatron_lm_plugin", "dynamo_plugin",
               "deepspeed_plugins", "parallelism_config")  # fmt: skip


class Accelerator:
    """accelerate's ``Accelerator(...)``: same arguments and defaults (see the module docstring for the ones
    that cannot mean anything here)."""

    def __init__(self, device_placement: bool = True, split_batches=_NOT_SET, mixed_precision: str | None = None,
                 gradient_accumulation_steps: int = 1, cpu: bool = False,
                 dataloader_config: DataLoaderConfiguration | None = None, deepspeed_plugin=None, fsdp_plugin=None,
                 torch_tp_plugin=None, megatron_lm_plugin=None, rng_types: list[str] | None = None, log_with=None,
                 project_dir: str | os.PathLike | None = None, project_config: ProjectConfiguration | None = None,
                 gradient_accumulation_plugin: GradientAccumulationPlugin | None = None,
                 step_scheduler_with_optimizer: bool = True, kwargs_handlers: list | None = None,
                 dynamo_backend: str | None = None, dynamo_plugin=None, deepspeed_plugins=None,
                 parallelism_config=None):  # fmt: skip
        given = dict(deepspeed_plugin=deepspeed_plugin, fsdp_plugin=fsdp_plugin, torch_tp_plugin=torch_tp_plugin,
                     megatron_lm_plugin=megatron_lm_plugin, dynamo_plugin=dynamo_plugin,
                     deepspeed_plugins=deepspeed_plugins, parallelism_config=parallelism_config)  # fmt: skip
        for name in _TORCH_ONLY:
            if given[name] is not None:
                raise NotImplementedError(
                    f"Accelerator({name}=...): {name} configures a torch engine (DeepSpeed, "
                    "FSDP, tensor/Megatron parallelism, torch.compile) that nanohf does not "
                    "have; nanohf trains data-parallel over MPI only (mpiexec -n N)."
                )
        if dynamo_backend is not None and str(dynamo_backend).lower() != "no":
            raise NotImplementedError(
                f"Accelerator(dynamo_backend={dynamo_backend!r}): torch.compile is torch-only; "
                "nanohf's kernels are compiled by Numba already"
            )
        self.device_placement = device_placement
        self.cpu = cpu
        self.world = dist.get_world()
        self.mixed_precision = self._check_precision(mixed_precision)
        self.state = self  # accelerate's AcceleratorState: the same facts live on the Accelerator here

        self.dataloader_config = dataloader_config if dataloader_config is not None else DataLoaderConfiguration()
        if split_batches is not _NOT_SET:
            self.dataloader_config.split_batches = bool(split_batches)
        if not self.dataloader_config.even_batches and self.world.size > 1:
            raise NotImplementedError(
                "even_batches=False: nanohf's sharded DataLoader always gives every rank the "
                "same number of batches (gather_for_metrics drops the repeats)"
            )
        if self.dataloader_config.dispatch_batches:
            raise NotImplementedError(
                "dispatch_batches=True: rank 0 fetching every batch and sending the parts is "
                "not implemented; each rank reads its own shard"
            )

        if gradient_accumulation_plugin is not None:
            if gradient_accumulation_steps != 1:
                raise ValueError(
                    "You can only pass one of `gradient_accumulation_steps` and "
                    "`gradient_accumulation_plugin`. Please only pass in the created "
                    "`GradientAccumulationPlugin` object."
                )
            plugin = gradient_accumulation_plugin
        else:
            plugin = GradientAccumulationPlugin(num_steps=gradient_accumulation_steps)
        num_steps = 1 if plugin.num_steps is None else int(plugin.num_steps)
        if num_steps < 1:
            raise ValueError(f"gradient_accumulation_steps must be at least 1, got {num_steps}")
        self.gradient_state = GradientState(num_steps, plugin.adjust_scheduler, plugin.sync_with_dataloader,
                                            plugin.sync_each_batch)  # fmt: skip
        self.step = 0  # batches counted by accumulate() since the last sync
        self.step_scheduler_with_optimizer = step_scheduler_with_optimizer
        self.rng_types = rng_types  # every rank draws the same epoch orders anyway (one broadcast seed per loader)

        if project_config is not None:
            self.project_configuration = project_config
        else:
            self.project_configuration = ProjectConfiguration(project_dir=project_dir)
        if project_dir is not None and self.project_dir is None:
            self.project_configuration.set_directories(project_dir)

        trackers = log_with if isinstance(log_with, (list, tuple)) else [log_with]
        self.log_with = [t for t in trackers if t is not None]
        if self.log_with:
            warnings.warn(
                f"`log_with={log_with}` was passed but nanohf has no experiment trackers (wandb, "
                "tensorboard, ...): init_trackers and log will record nothing.",
                UserWarning,
                stacklevel=2,
            )
        if kwargs_handlers:
            warnings.warn("kwargs_handlers configure torch's DDP, GradScaler, autocast or process group: nanohf has "
                          f"none of them, so {[type(h).__name__ for h in kwargs_handlers]} change nothing.",
                          UserWarning, stacklevel=2)  # fmt: skip

        self._models: list[Module] = []
        self._optimizers: list[AcceleratedOptimizer] = []
        self._schedulers: list[AcceleratedScheduler] = []
        self._dataloaders: list[PreparedDataLoader] = []
        self._custom_objects: list = []
        self._no_sync: set[int] = set()
        self._save_hooks: dict[int, Callable] = {}
        self._load_hooks: dict[int, Callable] = {}
        self.flag_tensor = None

    @staticmethod
    def _check_precision(mixed_precision: str | None) -> str:
        value = os.environ.get("ACCELERATE_MIXED_PRECISION", "no") if mixed_precision is None else mixed_precision
        value = str(value).lower()
        if value not in PRECISIONS:
            raise ValueError(f"Unknown mixed_precision mode: {value}. Choose between {list(PRECISIONS)}.")
        if value == "fp8":
            raise ValueError(
                "mixed_precision='fp8' needs a GPU with FP8 support (transformer_engine or torchao); "
                "nanohf computes in float32 on the CPU."
            )
        if value in ("fp16", "bf16"):
            warnings.warn(f"mixed_precision={value!r}: nanohf computes in float32 on the CPU (no autocast, no loss "
                          "scaling), so this run trains in full precision; accelerator.mixed_precision is 'no'.",
                          UserWarning, stacklevel=3)  # fmt: skip
        return "no"

    # --- who am I ----------------------------------------------------------------------------------------
    num_processes = property(lambda self: self.world.size)
    process_index = property(lambda self: self.world.rank)
    is_main_process = property(lambda self: self.world.is_main_process)
    is_last_process = property(lambda self: self.world.rank == self.world.size - 1)
    device = property(lambda self: "cpu", doc="Where arrays live: always the CPU (NumPy).")
    use_distributed = property(lambda self: self.world.size > 1)
    distributed_type = property(lambda self: "MULTI_CPU" if self.world.size > 1 else "NO")
    split_batches = property(lambda self: self.dataloader_config.split_batches)
    even_batches = property(lambda self: self.dataloader_config.even_batches)
    project_dir = property(lambda self: self.project_configuration.project_dir)
    logging_dir = property(lambda self: self.project_configuration.logging_dir)
    save_iteration = property(lambda self: self.project_configuration.iteration)
    optimizer_step_was_skipped = property(lambda self: any(o.step_was_skipped for o in self._optimizers))

    @property
    def local_process_index(self) -> int:
        """This rank's index among the ranks of its machine (the launcher says; else the global rank)."""
        for name in ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"):
            if name in os.environ:
                return int(os.environ[name])
        return self.world.rank

    @property
    def is_local_main_process(self) -> bool:
        return self.local_process_index == 0

    @property
    def sync_gradients(self) -> bool:
        """True when this batch ends an optimizer step (always, without gradient accumulation)."""
        return self.gradient_state.sync_gradients

    @sync_gradients.setter
    def sync_gradients(self, value: bool) -> None:
        self.gradient_state.sync_gradients = value

    @property
    def gradient_accumulation_steps(self) -> int:
        return self.gradient_state.num_steps

    @gradient_accumulation_steps.setter
    def gradient_accumulation_steps(self, steps: int) -> None:
        self.gradient_state.num_steps = int(steps)

    # --- prepare -----------------------------------------------------------------------------------------
    def prepare(self, *args, device_placement=None):
        """Models start from rank 0's weights; DataLoaders feed this rank's shard; optimizers and schedulers
        skip their step between sync steps. Returns the objects in order (one object alone, not a tuple)."""
        prepared = []
        for obj in args:  # optimizers first: a scheduler passed in the same call wraps the prepared optimizer
            prepared.append(self.prepare_optimizer(obj) if isinstance(obj, Optimizer) else obj)
        for i, obj in enumerate(prepared):
            if isinstance(obj, Module):
                prepared[i] = self.prepare_model(obj)
            elif isinstance(obj, DataLoader):
                prepared[i] = self.prepare_data_loader(obj)
            elif isinstance(obj, LambdaLR):
                prepared[i] = self.prepare_scheduler(obj)
        return prepared[0] if len(prepared) == 1 else tuple(prepared)

    def prepare_model(self, model: Module, device_placement=None, evaluation_mode: bool = False) -> Module:
        """Every rank starts from rank 0's weights; ``backward`` then averages this model's gradients."""
        if not any(m is model for m in self._models):
            dist.broadcast_parameters(model.parameters())
            self._models.append(model)
        return model

    def prepare_optimizer(self, optimizer: Optimizer, device_placement=None) -> AcceleratedOptimizer:
        if isinstance(optimizer, AcceleratedOptimizer):
            return optimizer
        wrapped = AcceleratedOptimizer(optimizer, self.gradient_state)
        self._optimizers.append(wrapped)
        return wrapped

    def prepare_scheduler(self, scheduler: LambdaLR) -> AcceleratedScheduler:
        # The optimizer it drives, as the prepared wrapper when that was prepared (it decides about skipped steps).
        optimizers = [o for o in self._optimizers if o.optimizer is scheduler.optimizer or o is scheduler.optimizer]
        wrapped = AcceleratedScheduler(scheduler, optimizers, self.gradient_state, self.step_scheduler_with_optimizer,
                                       self.split_batches)  # fmt: skip
        self._schedulers.append(wrapped)
        return wrapped

    def prepare_data_loader(self, data_loader: DataLoader, device_placement=None, slice_fn_for_dispatch=None):
        loader = PreparedDataLoader(data_loader, self.gradient_state, self.split_batches)
        if loader.shuffle and loader.seed is None:
            # One seed, drawn from nanohf's generator (reproducible after set_seed) on rank 0: every rank draws the
            # same epoch orders, so the shards do not overlap, and save_state can record the order.
            loader.seed = int(dist.broadcast_object(int(nanohf_random.get_generator().integers(2**31))))
        self._dataloaders.append(loader)
        return loader

    def skip_first_batches(self, dataloader: PreparedDataLoader, num_batches: int = 0) -> PreparedDataLoader:
        """The same loader, without the first ``num_batches`` batches of each pass (to resume mid-epoch)."""
        skipped = PreparedDataLoader(dataloader.base_dataloader, self.gradient_state, dataloader.split_batches,
                                     skip_batches=num_batches)  # fmt: skip
        skipped.seed, skipped.iteration = dataloader.seed, dataloader.iteration
        return skipped

    # --- the backward and gradient accumulation ----------------------------------------------------------
    def backward(self, loss, **kwargs) -> None:
        """``(loss / gradient_accumulation_steps).backward()``, then each prepared model's gradients averaged over
        the ranks (not inside ``no_sync(model)``, nor between the sync steps of ``accumulate``)."""
        if kwargs:
            raise TypeError(f"backward() got keyword arguments {sorted(kwargs)} that nanohf's backward does not take")
        if self.gradient_accumulation_steps != 1:
            loss = loss / self.gradient_accumulation_steps
        loss.backward()
        for model in self._models:
            if id(model) not in self._no_sync:
                dist.all_reduce_gradients(model.parameters())

    @contextmanager
    def no_sync(self, model: Module):
        """Let gradients accumulate locally; the next ``backward`` outside averages the sum once."""
        self._no_sync.add(id(model))
        try:
            yield
        finally:
            self._no_sync.discard(id(model))

    def _do_sync(self) -> None:
        state = self.gradient_state
        if state.sync_with_dataloader and state.end_of_dataloader:
            self.step = 0
            state.sync_gradients = True
        else:
            self.step += 1
            state.sync_gradients = self.step % state.num_steps == 0

    @contextmanager
    def accumulate(self, *models: Module):
        """One batch of a gradient-accumulation group (see nanohf/accelerate/wrappers.py): decides whether
        this batch ends an optimizer step, and if not keeps ``models``' gradients from being averaged."""
        self._do_sync()
        sync = self.sync_gradients or (self.use_distributed and self.gradient_state.sync_each_batch)
        with self._no_sync_all(() if sync else models):
            yield

    @contextmanager
    def _no_sync_all(self, models):
        ids = {id(m) for m in models} - self._no_sync
        self._no_sync |= ids
        try:
            yield
        finally:
            self._no_sync -= ids

    def clip_grad_norm_(self, parameters, max_norm: float, norm_type: float = 2) -> float:
        """``nanohf.clip_grad_norm_``: the total norm before clipping (gradients are already averaged)."""
        from nanohf.optim.clip import clip_grad_norm_

        return clip_grad_norm_(parameters, max_norm, norm_type)

    def clip_grad_value_(self, parameters, clip_value: float) -> None:
        """Clamp every gradient entry to [-clip_value, clip_value], in place (torch's clip_grad_value_)."""
        parameters = [parameters] if hasattr(parameters, "grad") else parameters
        for p in parameters:
            if p.grad is not None:
                np.clip(p.grad, -clip_value, clip_value, out=p.grad)

    def unscale_gradients(self, optimizer=None) -> None:
        """Nothing to do: gradients are only scaled by fp16 loss scaling, which nanohf does not use."""

    @contextmanager
    def autocast(self, autocast_handler=None):
        """Nothing changes: nanohf computes in float32 (see ``mixed_precision``)."""
        yield

    # --- collectives ---------------------------------------------------------------------------------------
    def gather(self, tensor):
        """Every rank's arrays concatenated along the first axis, in rank order (nested lists/dicts too);
        a scalar becomes one entry per rank. In one process: the input unchanged."""
        return operations.gather(tensor)

    def gather_for_metrics(self, input_data, use_gather_object: bool = False):
        """``gather``, then at the last batch of a prepared loader only the examples the epoch really has: the
        rows repeated to give every rank the same number of batches are dropped, so that gathered batch after
        batch the result is the evaluation set once, in order. Anything but arrays (decoded strings, say) is
        gathered as objects, lists concatenated."""
        use_gather_object = use_gather_object or not operations.is_nested_tensors(input_data)
        data = operations.gather_object(input_data) if use_gather_object else self.gather(input_data)
        remainder = self.gradient_state.remainder
        if not self.gradient_state.end_of_dataloader or remainder <= 0:
            return data
        try:
            if use_gather_object:
                return data[:remainder]
            return operations.recursively_apply(lambda x: x[:remainder], data)
        except (TypeError, IndexError):  # a 0-d array (one process) has no rows to drop, as in accelerate
            return data

    def reduce(self, tensor, reduction: str = "sum", scale: float = 1.0):
        """Each array summed (default), averaged or maximised over the ranks; one process: a copy."""
        return operations.reduce(tensor, reduction, scale)

    def pad_across_processes(self, tensor, dim: int = 0, pad_index=0, pad_first: bool = False):
        """Pad each array along ``dim`` to the largest size any rank has, so that they can be gathered."""
        return operations.pad_across_processes(tensor, dim, pad_index, pad_first)

    @contextmanager
    def split_between_processes(self, inputs, apply_padding: bool = False):
        """This rank's contiguous part of ``inputs`` (list, tuple, dict of lists or array): the first ranks take
        one more item when it does not divide; ``apply_padding`` repeats the last item so all parts are equal."""
        yield operations.split(inputs, self.num_processes, self.process_index, apply_padding)

    # --- processes -----------------------------------------------------------------------------------------
    def print(self, *args, **kwargs) -> None:
        """``print`` on the main process of each machine only."""
        if self.is_local_main_process:
            print(*args, **kwargs)

    def wait_for_everyone(self) -> None:
        dist.barrier("wait_for_everyone")

    @contextmanager
    def main_process_first(self):
        """Rank 0 runs the block first (e.g. tokenizing into the map cache), the others after it (reading
        that cache instead of all computing, and writing, the same files at once)."""
        with self._first(self.is_main_process, "main_process_first"):
            yield

    @contextmanager
    def local_main_process_first(self):
        with self._first(self.is_local_main_process, "local_main_process_first"):
            yield

    @contextmanager
    def _first(self, first: bool, what: str):
        if not first:
            dist.barrier(f"{what} (waiting for the main process)")
        yield
        if first:
            dist.barrier(f"{what} (main process done)")

    def on_main_process(self, function: Callable | None = None):
        """Decorator: ``function`` runs on the main process only (returns None elsewhere)."""
        return self.on_process(function, process_index=0)

    def on_local_main_process(self, function: Callable | None = None):
        return operations.only_if(function, lambda: self.is_local_main_process)

    def on_last_process(self, function: Callable):
        return operations.only_if(function, lambda: self.is_last_process)

    def on_local_process(self, function: Callable | None = None, local_process_index: int | None = None):
        if local_process_index is None:
            raise ValueError("on_local_process needs a local_process_index")
        return operations.only_if(function, lambda: self.local_process_index == local_process_index)

    def on_process(self, function: Callable | None = None, process_index: int | None = None):
        if process_index is None:
            raise ValueError("on_process needs a process_index")
        return operations.only_if(function, lambda: self.process_index == process_index)

    def set_trigger(self) -> None:
        """Raise a flag on this rank that ``check_trigger`` sees on every rank (e.g. to stop early)."""
        self.flag_tensor = np.array(1.0)

    def check_trigger(self) -> bool:
        """True on every rank if any rank called ``set_trigger`` since the last check (then lowered)."""
        raised = float(dist.all_reduce(0.0 if self.flag_tensor is None else 1.0, op="max")) > 0
        self.flag_tensor = None
        return raised

    # --- saving --------------------------------------------------------------------------------------------
    def unwrap_model(self, model: Module, keep_fp32_wrapper: bool = True, keep_torch_compile: bool = True) -> Module:
        return model  # nothing wraps it: gradients are averaged by backward, not by a wrapper module

    def get_state_dict(self, model: Module, unwrap: bool = True) -> dict[str, np.ndarray]:
        return model.state_dict()

    def save(self, obj, f, safe_serialization: bool = False) -> None:
        """Write a state dict (``{name: array}``) to ``f`` as safetensors, on the main process only.
        accelerate pickles with torch.save unless ``safe_serialization``; nanohf never pickles."""
        if not (isinstance(obj, dict) and all(isinstance(v, np.ndarray) for v in obj.values())):
            raise TypeError(
                f"Accelerator.save writes a dict of arrays (a state_dict) as safetensors, got "
                f"{type(obj).__name__}: nanohf does not pickle arbitrary objects"
            )
        if self.is_main_process or self.project_configuration.save_on_each_node:
            from safetensors.numpy import save_file

            path = Path(f)
            checkpointing._atomic(path, lambda p: save_file({k: np.ascontiguousarray(v) for k, v in obj.items()},
                                                            str(p)))  # fmt: skip

    def save_model(self, model: Module, save_directory, max_shard_size="10GB", safe_serialization: bool = True):
        """The model's weights as ``save_directory/model.safetensors`` (main process; no config, as accelerate)."""
        if not safe_serialization:
            raise ValueError(
                "save_model(safe_serialization=False) writes a pickle (pytorch_model.bin): nanohf "
                "only writes safetensors"
            )
        if self.is_main_process:
            os.makedirs(save_directory, exist_ok=True)
            checkpointing.save_weights(checkpointing.weights_of(model), Path(save_directory) / "model.safetensors")

    def register_save_state_pre_hook(self, hook: Callable) -> "RemovableHandle":
        """``hook(models, weights, output_dir)`` runs in ``save_state`` before the weights are written."""
        return RemovableHandle(self._save_hooks, hook)

    def register_load_state_pre_hook(self, hook: Callable) -> "RemovableHandle":
        """``hook(models, input_dir)`` runs in ``load_state`` before the weights are read."""
        return RemovableHandle(self._load_hooks, hook)

    @contextmanager
    def join_uneven_inputs(self, joinables, even_batches=None):
        """Nothing to join: every rank gets the same number of batches (even_batches=False is not supported)."""
        if even_batches is False and self.use_distributed:
            raise NotImplementedError("join_uneven_inputs(even_batches=False): nanohf's sharded DataLoader always "
                                      "gives every rank the same number of batches")  # fmt: skip
        yield

    def register_for_checkpointing(self, *objects) -> None:
        """Objects with ``state_dict`` / ``load_state_dict`` that ``save_state`` / ``load_state`` also handle."""
        invalid = [i for i, obj in enumerate(objects) if not (hasattr(obj, "state_dict")
                                                              and hasattr(obj, "load_state_dict"))]  # fmt: skip
        if invalid:
            raise ValueError(
                f"All `objects` must include a `state_dict` and `load_state_dict` function to be "
                f"stored. The following inputs are invalid: {invalid}"
            )
        self._custom_objects.extend(objects)

    def save_state(self, output_dir=None, safe_serialization: bool = True, **save_model_func_kwargs) -> str:
        """Everything needed to resume bit for bit: the prepared models, optimizers, schedulers, DataLoaders'
        epochs and seeds, registered objects, and every rank's random generators (see checkpointing.py)."""
        folder = checkpointing.state_folder(self.project_configuration, output_dir, True, self.is_main_process)
        if self.is_main_process:
            folder.mkdir(parents=True, exist_ok=True)
            weights = [checkpointing.weights_of(model) for model in self._models]
            for hook in self._save_hooks.values():  # a hook may drop weights it saves its own way
                hook(self._models, weights, str(folder))
            for i, state in enumerate(weights):
                checkpointing.save_weights(state, folder / _weights_name(i))
            for i, model in enumerate(self._models):
                checkpointing.save_gradients(model, folder / _weights_name(i).replace("model", "gradients"))
            named = [("optimizer", o) for o in self._optimizers] + [("scheduler", s) for s in self._schedulers]
            counts: dict[str, int] = {}
            for kind, obj in named:
                i = counts[kind] = counts.get(kind, -1) + 1
                checkpointing.save_tree(obj.state_dict(), folder, kind if i == 0 else f"{kind}_{i}")
            for i, loader in enumerate(self._dataloaders):
                sampler = {"iteration": loader.iteration, "seed": loader.seed}
                checkpointing.save_tree(sampler, folder, "sampler" if i == 0 else f"sampler_{i}")
            for i, obj in enumerate(self._custom_objects):
                checkpointing.save_tree(obj.state_dict(), folder, f"custom_checkpoint_{i}")
        dist.barrier("save_state (main process writes)")
        from nanohf.trainer.checkpoint import rng_state

        checkpointing.save_tree({"step": self.step, **rng_state()}, folder, f"random_states_{self.process_index}")
        self.project_configuration.iteration += 1
        dist.barrier("save_state (random states)")
        return str(folder)

    def load_state(self, input_dir=None, load_kwargs: dict | None = None, **load_model_func_kwargs) -> None:
        """Restore what ``save_state`` wrote into the objects prepared now (same kinds, same order)."""
        folder = checkpointing.state_folder(self.project_configuration, input_dir, False, self.is_main_process)
        if not folder.is_dir():
            raise FileNotFoundError(f"Tried to find {folder} but folder does not exist")
        models = list(self._models)
        for hook in self._load_hooks.values():  # a hook may take models out to load them its own way
            hook(models, str(folder))
        for i, model in enumerate(models):
            checkpointing.load_weights(model, folder / _weights_name(i))
        for i, model in enumerate(self._models):
            checkpointing.load_gradients(model, folder / _weights_name(i).replace("model", "gradients"))
        for kind, objects in (("optimizer", self._optimizers), ("scheduler", self._schedulers)):
            for i, obj in enumerate(objects):
                obj.load_state_dict(checkpointing.load_tree(folder, kind if i == 0 else f"{kind}_{i}"))
        for i, loader in enumerate(self._dataloaders):
            sampler = checkpointing.load_tree(folder, "sampler" if i == 0 else f"sampler_{i}")
            loader.iteration, loader.seed = sampler["iteration"], sampler["seed"]
        for i, obj in enumerate(self._custom_objects):
            obj.load_state_dict(checkpointing.load_tree(folder, f"custom_checkpoint_{i}"))
        from nanohf.trainer.checkpoint import set_rng_state

        states = checkpointing.load_tree(folder, f"random_states_{self.process_index}")
        self.step = states.pop("step")
        set_rng_state(states)
        if self.project_configuration.automatic_checkpoint_naming:
            self.project_configuration.iteration = int(folder.name.split("_")[-1]) + 1

    # --- trackers and memory -------------------------------------------------------------------------------
    def init_trackers(self, project_name: str, config: dict | None = None, init_kwargs: dict | None = None):
        """Nothing is tracked: nanohf has no tracker integrations (the constructor warned about ``log_with``)."""

    def log(self, values: dict, step: int | None = None, log_kwargs: dict | None = None) -> None:
        """Nothing is logged (no trackers; see ``init_trackers``)."""

    def end_training(self) -> None:
        """Nothing to close (no trackers)."""

    def free_memory(self, *objects):
        """Forget everything prepared (for a new run in the same process); returns ``objects`` as None each."""
        self._models, self._optimizers, self._schedulers, self._dataloaders = [], [], [], []
        self._custom_objects, self.step = [], 0
        return tuple(None for _ in objects) if len(objects) != 1 else None

    clear = free_memory

    def __repr__(self) -> str:
        return (
            f"Accelerator(num_processes={self.num_processes}, process_index={self.process_index}, device='cpu', "
            f"gradient_accumulation_steps={self.gradient_accumulation_steps})"
        )


class RemovableHandle:
    """What the register_*_hook methods return: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict, hook: Callable):
        self.hooks, self.id = hooks, RemovableHandle._next_id
        RemovableHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


def _weights_name(i: int) -> str:
    return "model.safetensors" if i == 0 else f"model_{i}.safetensors"
