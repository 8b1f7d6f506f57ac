"""nanohf.accelerate against 🤗 accelerate 1.16 itself, run side by side in one process on the CPU.

The same loop is written twice: with torch + accelerate, and with nanohf. A least-squares model
(loss = mean((X w - y)²), its gradient written out for nanohf) trains with SGD under gradient
accumulation, so the weights, the number of optimizer and scheduler steps, and ``sync_gradients`` batch by
batch can be compared. Under ``mpiexec -n 2`` this file is also the script (``python test_accelerate.py
mpi OUT``) that checks the collectives across two ranks.
"""

import inspect
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nanohf
from nanohf import distributed as dist
from nanohf.accelerate import Accelerator, GradientAccumulationPlugin, ProjectConfiguration, notebook_launcher
from nanohf.autograd import Loss
from nanohf.data import DataLoader
from nanohf.nn.module import Module, Parameter

N, FEATURES = 10, 3


def regression_data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, FEATURES))
    return x, x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


class LeastSquares(Module):
    """w of shape (FEATURES,); the loss mean((x w - y)²) with gradient (2 / n) xᵀ (x w - y)."""

    def __init__(self):
        self.w = Parameter(np.zeros(FEATURES))

    def forward(self, x, y):
        residual = x @ self.w.data - y

        def backward(d_loss):
            grad = d_loss * 2.0 / len(y) * x.T @ residual
            self.w.grad = grad if self.w.grad is None else self.w.grad + grad

        return Loss(np.mean(residual**2), backward)


def reset_accelerate():
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(True)
    GradientState._reset_state()


def torch_run(batch, accumulation, epochs, lr=0.1, prepare_scheduler=True):
    """accelerate's loop: returns (weights, optimizer steps, scheduler lr after each batch, sync flags)."""
    import torch
    from accelerate import Accelerator as TorchAccelerator

    reset_accelerate()
    accelerator = TorchAccelerator(gradient_accumulation_steps=accumulation)
    x, y = regression_data()
    model = torch.nn.Linear(FEATURES, 1, bias=False, dtype=torch.float64)
    torch.nn.init.zeros_(model.weight)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: 1.0 / (1 + t))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch)
    objects = (model, optimizer, loader) + ((scheduler,) if prepare_scheduler else ())
    model, optimizer, loader, *rest = accelerator.prepare(*objects)
    scheduler = rest[0] if rest else scheduler
    steps, lrs, syncs = [0], [], []
    inner_step = optimizer.optimizer.step

    def counted_step(*args, **kwargs):
        steps[0] += 1
        return inner_step(*args, **kwargs)

    optimizer.optimizer.step = counted_step
    for _ in range(epochs):
        for xb, yb in loader:
            with accelerator.accumulate(model):
                loss = torch.mean((model(xb)[:, 0] - yb) ** 2)
                accelerator.backward(loss)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            syncs.append(accelerator.sync_gradients)
            lrs.append(optimizer.param_groups[0]["lr"])
    return model.weight.detach().numpy()[0], steps[0], lrs, syncs


def nanohf_run(batch, accumulation, epochs, lr=0.1, prepare_scheduler=True):
    accelerator = Accelerator(gradient_accumulation_steps=accumulation)
    x, y = regression_data()
    model = LeastSquares()
    optimizer = nanohf.SGD(model.parameters(), lr=lr)
    scheduler = nanohf.LambdaLR(optimizer, lambda t: 1.0 / (1 + t))
    loader = DataLoader([{"x": x[i], "y": y[i]} for i in range(len(y))], batch)
    objects = (model, optimizer, loader) + ((scheduler,) if prepare_scheduler else ())
    model, optimizer, loader, *rest = accelerator.prepare(*objects)
    scheduler = rest[0] if rest else scheduler
    steps, lrs, syncs = [0], [], []
    inner_step = optimizer.optimizer.step

    def counted_step(*args, **kwargs):
        steps[0] += 1
        return inner_step(*args, **kwargs)

    optimizer.optimizer.step = counted_step
    for _ in range(epochs):
        for batch_ in loader:
            with accelerator.accumulate(model):
                accelerator.backward(model(batch_["x"], batch_["y"]))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            syncs.append(accelerator.sync_gradients)
            lrs.append(optimizer.param_groups[0]["lr"])
    return model.w.data.copy(), steps[0], lrs, syncs


# --- the constructor ----------------------------------------------------------------------------------------
def test_constructor_takes_accelerates_arguments_and_defaults():
    from accelerate import Accelerator as TorchAccelerator

    theirs = inspect.signature(TorchAccelerator.__init__).parameters
    ours = inspect.signature(Accelerator.__init__).parameters
    assert list(ours) == list(theirs)
    differing = {name for name in theirs if name != "split_batches" and ours[name].default != theirs[name].default}
    assert not differing, f"defaults differ: {differing}"


def test_torch_only_arguments_fail_clearly_and_precision_warns():
    with pytest.raises(NotImplementedError, match="DeepSpeed"):
        Accelerator(deepspeed_plugin=object())
    with pytest.raises(NotImplementedError, match="torch.compile"):
        Accelerator(dynamo_backend="inductor")
    with pytest.raises(ValueError, match=r"Unknown mixed_precision mode: xx\. Choose between"):
        Accelerator(mixed_precision="xx")  # accelerate's message
    with pytest.raises(ValueError, match="fp8"):
        Accelerator(mixed_precision="fp8")
    with pytest.warns(UserWarning, match="float32"):
        assert Accelerator(mixed_precision="fp16").mixed_precision == "no"
    with pytest.warns(UserWarning, match="no experiment trackers"):
        accelerator = Accelerator(log_with="wandb", project_dir="runs")
    accelerator.init_trackers("x")
    accelerator.log({"loss": 1.0})  # records nothing, as accelerate without an installed tracker
    assert (accelerator.project_dir, accelerator.logging_dir) == ("runs", "runs")
    with pytest.raises(ValueError, match="only pass one of"):
        Accelerator(gradient_accumulation_steps=2, gradient_accumulation_plugin=GradientAccumulationPlugin(3))
    assert Accelerator(gradient_accumulation_plugin=GradientAccumulationPlugin(3)).gradient_accumulation_steps == 3


def test_process_facts_match_accelerate_in_one_process():
    from accelerate import Accelerator as TorchAccelerator

    reset_accelerate()
    theirs, ours = TorchAccelerator(cpu=True), Accelerator(cpu=True)
    for name in ("num_processes", "process_index", "local_process_index", "is_main_process",
                 "is_local_main_process", "is_last_process", "use_distributed", "sync_gradients",
                 "gradient_accumulation_steps", "mixed_precision", "split_batches", "even_batches"):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.device == str(theirs.device) == "cpu"
    assert ours.unwrap_model(model := LeastSquares()) is model
    ours.wait_for_everyone()


# --- gradient accumulation ------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step\\(\\)` has been overridden")  # our step counter
@pytest.mark.parametrize("batch, accumulation, epochs", [(2, 2, 2), (3, 2, 1), (2, 3, 2), (4, 1, 1), (1, 4, 1)])
@pytest.mark.parametrize("prepare_scheduler", [True, False])
def test_gradient_accumulation_matches_accelerate(batch, accumulation, epochs, prepare_scheduler):
    """Same optimizer step count, same sync flag per batch, same learning rates, same weights (float64)."""
    w_t, steps_t, lrs_t, syncs_t = torch_run(batch, accumulation, epochs, prepare_scheduler=prepare_scheduler)
    w_n, steps_n, lrs_n, syncs_n = nanohf_run(batch, accumulation, epochs, prepare_scheduler=prepare_scheduler)
    assert (steps_n, syncs_n) == (steps_t, syncs_t)
    np.testing.assert_allclose(lrs_n, lrs_t, rtol=0, atol=1e-15)
    diff = float(np.abs(w_n - w_t).max())
    assert diff < 1e-12, f"weights differ by {diff:.3g}"


def test_no_sync_outside_a_sync_step_and_loss_scaling():
    accelerator = Accelerator(gradient_accumulation_steps=4)
    model = accelerator.prepare(LeastSquares())
    x, y = regression_data()
    with accelerator.accumulate(model):
        assert not accelerator.sync_gradients and id(model) in accelerator._no_sync
        accelerator.backward(model(x, y))
    expected = 0.25 * 2.0 / len(y) * x.T @ (x @ np.zeros(FEATURES) - y)
    np.testing.assert_allclose(model.w.grad, expected, rtol=1e-14)
    assert not accelerator._no_sync


# --- gather, gather_for_metrics, reduce, pad ------------------------------------------------------------------
def test_gather_shapes_match_accelerate_in_one_process():
    import torch
    from accelerate import Accelerator as TorchAccelerator

    reset_accelerate()
    theirs, ours = TorchAccelerator(), Accelerator()
    cases = [np.float32(2.5), np.arange(6.0).reshape(2, 3), {"a": np.ones(2), "b": (np.zeros((1, 2)),)}]
    for case in cases:
        expected = theirs.gather(_to_torch(case))
        got = ours.gather(case)
        assert _shapes(got) == _shapes(expected), case
        got_metrics = ours.gather_for_metrics(case)
        assert _shapes(got_metrics) == _shapes(theirs.gather_for_metrics(_to_torch(case)))
    assert theirs.gather_for_metrics(["a", "b"]) == ours.gather_for_metrics(["a", "b"]) == ["a", "b"]
    assert float(ours.reduce(np.array(3.0))) == float(theirs.reduce(torch.tensor(3.0))) == 3.0
    padded = ours.pad_across_processes(np.ones((2, 3)), dim=1)
    assert padded.shape == tuple(theirs.pad_across_processes(torch.ones(2, 3), dim=1).shape)


@pytest.mark.parametrize("n, batch", [(9, 5), (10, 5), (7, 3)])
def test_gather_for_metrics_over_a_prepared_loader_matches_accelerate(n, batch):
    import torch
    from accelerate import Accelerator as TorchAccelerator

    reset_accelerate()
    theirs, ours = TorchAccelerator(), Accelerator()
    torch_loader = theirs.prepare(torch.utils.data.DataLoader(torch.arange(n), batch_size=batch))
    nanohf_loader = ours.prepare(DataLoader(list(range(n)), batch, collate_fn=np.array))
    expected = [theirs.gather_for_metrics(b).numpy().tolist() for b in torch_loader]
    got = [ours.gather_for_metrics(b).tolist() for b in nanohf_loader]
    assert got == expected
    assert len(nanohf_loader) == len(torch_loader)


def _to_torch(data):
    import torch

    if isinstance(data, dict):
        return {k: _to_torch(v) for k, v in data.items()}
    if isinstance(data, tuple):
        return tuple(_to_torch(v) for v in data)
    return torch.tensor(np.asarray(data))


def _shapes(data):
    if isinstance(data, dict):
        return {k: _shapes(v) for k, v in data.items()}
    if isinstance(data, tuple):
        return tuple(_shapes(v) for v in data)
    return tuple(data.shape)


# --- clipping ----------------------------------------------------------------------------------------------------
def test_clipping_matches_torch():
    import torch

    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    params = [Parameter(np.zeros_like(g)) for g in grads]
    torch_params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(params, torch_params, grads, strict=True):
        p.grad, t.grad = g.copy(), torch.tensor(g)
    accelerator = Accelerator()
    norm = accelerator.clip_grad_norm_(params, 0.5)
    torch_norm = float(torch.nn.utils.clip_grad_norm_(torch_params, 0.5))
    assert abs(norm - torch_norm) < 1e-12
    accelerator.clip_grad_value_(params, 0.1)
    torch.nn.utils.clip_grad_value_(torch_params, 0.1)
    for p, t in zip(params, torch_params, strict=True):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=0, atol=1e-15)


# --- saving and resuming ------------------------------------------------------------------------------------
def _resumable_run(folder: Path, stop_after: int | None, resume: bool):
    """Two shuffled epochs of 5 batches with AdamW, a linear schedule and accumulation 2; ``stop_after`` batches
    then save_state, or (``resume``) load_state and finish the run. Returns the final weights."""
    nanohf.set_seed(3)
    accelerator = Accelerator(gradient_accumulation_steps=2)
    x, y = regression_data()
    model = LeastSquares()
    optimizer = nanohf.AdamW(model.parameters(), lr=0.05)
    scheduler = nanohf.get_linear_schedule_with_warmup(optimizer, 1, 6)
    loader = DataLoader([{"x": x[i], "y": y[i]} for i in range(len(y))], 2, shuffle=True)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    done = 0
    if resume:
        accelerator.load_state(folder)
        done = stop_after
    for epoch in range(done // len(loader), 2):
        skip = done - epoch * len(loader) if epoch == done // len(loader) else 0
        active = accelerator.skip_first_batches(loader, skip) if skip else loader
        for batch in active:
            with accelerator.accumulate(model):
                accelerator.backward(model(batch["x"], batch["y"]))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            done += 1
            if not resume and done == stop_after:
                accelerator.save_state(folder)
                return None
        if skip:
            loader.set_epoch(epoch + 1)
    return model.w.data.copy(), scheduler.get_last_lr()


@pytest.mark.parametrize("stop_after", [3, 4, 7])
def test_save_state_then_load_state_resumes_bit_identically(tmp_path, stop_after):
    straight = _resumable_run(tmp_path / "unused", None, resume=False)
    _resumable_run(tmp_path / "state", stop_after, resume=False)
    names = sorted(p.name for p in (tmp_path / "state").iterdir())
    mid_group = ["gradients.safetensors"] if stop_after % 5 % 2 else []  # saved between two sync steps
    assert names == mid_group + ["model.safetensors", "optimizer.json", "optimizer.safetensors",
                                 "random_states_0.json", "sampler.json", "scheduler.json"]  # fmt: skip
    resumed = _resumable_run(tmp_path / "state", stop_after, resume=True)
    assert resumed[0].tobytes() == straight[0].tobytes(), f"max |Δ| {np.abs(resumed[0] - straight[0]).max():.3g}"
    assert resumed[1] == straight[1]


def test_automatic_checkpoint_naming_and_total_limit(tmp_path):
    config = ProjectConfiguration(project_dir=str(tmp_path), automatic_checkpoint_naming=True, total_limit=2)
    accelerator = Accelerator(project_config=config)
    accelerator.prepare(LeastSquares())
    for _ in range(3):
        accelerator.save_state()
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["checkpoint_1", "checkpoint_2"]
    accelerator.load_state()  # the newest
    assert accelerator.save_iteration == 3


def test_state_hooks_and_join(tmp_path):
    accelerator = Accelerator()
    model = accelerator.prepare(LeastSquares())
    model.w.data[:] = [1.0, 2.0, 3.0]
    seen = []

    def keep_out(models, weights, output_dir):  # saves the model its own way: accelerate's documented use
        seen.append((len(models), output_dir))
        weights.pop()

    handle = accelerator.register_save_state_pre_hook(keep_out)
    accelerator.save_state(tmp_path / "a")
    assert seen == [(1, str(tmp_path / "a"))] and not (tmp_path / "a" / "model.safetensors").exists()
    handle.remove()
    accelerator.save_state(tmp_path / "b")
    assert len(seen) == 1 and (tmp_path / "b" / "model.safetensors").exists()
    model.w.data[:] = 0.0
    loaded = accelerator.register_load_state_pre_hook(lambda models, input_dir: seen.append(input_dir))
    accelerator.load_state(tmp_path / "b")
    assert model.w.data.tolist() == [1.0, 2.0, 3.0] and seen[-1] == str(tmp_path / "b")
    loaded.remove()
    with accelerator.join_uneven_inputs([model]):
        pass


def test_save_and_save_model_write_safetensors_only(tmp_path):
    from safetensors.numpy import load_file

    accelerator = Accelerator()
    model = LeastSquares()
    model.w.data[:] = [1, 2, 3]
    accelerator.save(model.state_dict(), tmp_path / "weights.safetensors")
    assert load_file(str(tmp_path / "weights.safetensors"))["w"].tolist() == [1, 2, 3]
    accelerator.save_model(model, tmp_path / "out")
    assert load_file(str(tmp_path / "out" / "model.safetensors"))["w"].tolist() == [1, 2, 3]
    with pytest.raises(TypeError, match="does not pickle"):
        accelerator.save({"a": object()}, tmp_path / "x.bin")
    with pytest.raises(ValueError, match="must include a `state_dict`"):
        accelerator.register_for_checkpointing(object())


# --- launching -------------------------------------------------------------------------------------------------
def test_notebook_launcher_in_one_process(capsys):
    from accelerate import notebook_launcher as torch_launcher

    assert list(inspect.signature(notebook_launcher).parameters) == list(inspect.signature(torch_launcher).parameters)
    assert notebook_launcher(lambda a, b: a + b, (2, 3), num_processes=1) == 5
    assert "Launching training on CPU." in capsys.readouterr().out
    for launcher in (notebook_launcher, torch_launcher):
        with pytest.raises(ValueError, match="You have to specify the number of devices"):
            launcher(print)
    with pytest.raises(RuntimeError, match="mpiexec -n 2"):
        notebook_launcher(print, num_processes=2)


def test_print_split_and_decorators(capsys):
    accelerator = Accelerator()
    accelerator.print("once")
    assert capsys.readouterr().out == "once\n"
    with accelerator.split_between_processes([1, 2, 3]) as part:
        assert part == [1, 2, 3]
    assert accelerator.on_main_process(lambda: 7)() == 7
    accelerator.set_trigger()
    assert accelerator.check_trigger() and not accelerator.check_trigger()


# --- two ranks ----------------------------------------------------------------------------------------------------
def test_collectives_across_two_ranks(tmp_path):
    from test_distributed import check, launch

    result, _ = launch([Path(__file__), "mpi", tmp_path], cwd=tmp_path, timeout=120)
    check(result)
    ranks = [json.loads((tmp_path / f"{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == {**ranks[1], "rank": 0, "split": ranks[0]["split"], "padded_own": ranks[0]["padded_own"]}
    got = ranks[0]
    assert got["scalar"] == [[0.0, 1.0], [2]]  # a 0-d array per rank -> one entry per rank
    assert got["padded_own"] == [[0, 1, -1], [2, 3, -1]] and ranks[1]["padded_own"] == [[10, 11, 12]]
    assert got["padded"] == [[0, 1, -1], [2, 3, -1], [10, 11, 12]]
    assert got["reduce"] == {"sum": [1.0, 3.0], "mean": [0.5, 1.5], "max": [1.0, 2.0]}
    assert got["metrics"] == list(range(13))  # 13 examples, batches of 3 per rank: the repeated tail dropped
    assert got["objects"] == ["r0", "r1"] and got["steps"] == 2
    assert (ranks[0]["split"], ranks[1]["split"]) == ([0, 1, 2], [3, 4])
    one_process = _accumulated_training(batch=4)  # the same examples per step, in one process
    diff = float(np.abs(np.array(got["accumulated_weights"]) - one_process).max())
    assert diff < 1e-12, f"2 ranks x batch 2 vs 1 process x batch 4, with accumulation: max |Δ| {diff:.2e}"
    assert one_process[-1] == 4  # optimizer steps: 2 epochs x 2 (4 batches of 4, accumulation 2)


def _accumulated_training(batch: int) -> np.ndarray:
    """16 examples, 2 epochs of SGD with accumulation 2 and a prepared (constant) schedule: W ranks with ``batch``
    each see the examples one process sees with W * batch, so the weights must agree. Returns the weights and
    the scheduler's count, which moves W times per optimizer step."""
    accelerator = Accelerator(gradient_accumulation_steps=2)
    x, y = regression_data(16, seed=3)
    model = LeastSquares()
    optimizer = nanohf.SGD(model.parameters(), lr=0.1)
    scheduler = nanohf.LambdaLR(optimizer, lambda t: 1.0 / (1 + t // 4 // accelerator.num_processes))
    loader = DataLoader([{"x": x[i], "y": y[i]} for i in range(16)], batch, shuffle=True, seed=11)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)
    for _ in range(2):
        for batch_ in loader:
            with accelerator.accumulate(model):
                accelerator.backward(model(batch_["x"], batch_["y"]))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
    return np.r_[model.w.data, scheduler.last_epoch / accelerator.num_processes]


def _mpi_main(out: Path) -> None:
    """Run by each of two ranks: every collective's result written to OUT/<rank>.json."""
    accelerator = Accelerator(gradient_accumulation_steps=2)
    rank = accelerator.process_index
    scalar = accelerator.gather(np.float64(rank))
    own = np.arange(4).reshape(2, 2) if rank == 0 else np.array([[10, 11, 12]])
    padded_own = accelerator.pad_across_processes(own, dim=1, pad_index=-1)
    loader = accelerator.prepare(DataLoader(list(range(13)), 3, collate_fn=np.array))
    metrics = np.concatenate([accelerator.gather_for_metrics(b) for b in loader]).tolist()
    model, optimizer = accelerator.prepare(LeastSquares(), nanohf.SGD([Parameter(np.zeros(1))], lr=0.1))
    steps = 0
    x, y = regression_data(13)
    for batch in loader:  # 3 batches per rank: syncs after the 2nd and at the end
        with accelerator.accumulate(model):
            accelerator.backward(model(x[batch], y[batch]))
            steps += accelerator.sync_gradients
    with accelerator.split_between_processes(list(range(5))) as part:
        split = part
    result = {
        "rank": rank,
        "scalar": [scalar.tolist(), list(scalar.shape)],
        "padded_own": padded_own.tolist(),
        "padded": accelerator.gather(padded_own).tolist(),
        "reduce": {r: accelerator.reduce(np.array([rank, rank + 1.0]), r).tolist() for r in ("sum", "mean", "max")},
        "metrics": metrics,
        "objects": accelerator.gather_for_metrics([f"r{rank}"]),
        "steps": steps,
        "split": split,
        "accumulated_weights": _accumulated_training(batch=2).tolist(),
    }
    (out / f"{rank}.json").write_text(json.dumps(result))


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "mpi":
    warnings.simplefilter("error")
    _mpi_main(Path(sys.argv[2]))
    dist.barrier()
