"""TrainingArguments against transformers 5's, side by side: the signature, the values after __post_init__,
the errors (same type and message, at the same moment), to_dict / to_json_string and the set_* helpers."""

import dataclasses
import inspect
import json
import logging
import re
import warnings

import pytest
import transformers

from nanohf import TrainingArguments
from nanohf.trainer import args_support

# nanohf parameters that transformers 5 does not have (at the end of the signature, never positional in
# practice): transformers 4 spellings kept so that older scripts still run.
EXTRA_PARAMETERS = {
    "warmup_ratio": "transformers 4's fractional warmup; transformers 5 reads warmup_steps < 1 as the fraction",
    "group_by_length": "transformers 4's spelling of train_sampling_strategy='group_by_length'",
}
# transformers parameters whose default differs in nanohf: none.
DEFAULT_DIFFERENCES: dict[str, str] = {}
# Values after __post_init__ that differ on purpose.
VALUE_DIFFERENCES = {
    "accelerator_config": "transformers builds an accelerate AcceleratorConfig; nanohf does not use accelerate",
}


def theirs(**kwargs):
    return transformers.TrainingArguments(output_dir="trainer_output", **kwargs)


def test_signature_is_transformers_signature():
    ours = inspect.signature(TrainingArguments).parameters
    ref = inspect.signature(transformers.TrainingArguments).parameters
    missing = [n for n in ref if n not in ours]
    extra = [n for n in ours if n not in ref]
    assert missing == [], f"transformers parameters nanohf lacks: {missing}"
    assert sorted(extra) == sorted(EXTRA_PARAMETERS), f"unexplained nanohf-only parameters: {extra}"
    assert [n for n in ours if n in ref] == list(ref), "the parameters are not in transformers' order"
    assert list(ours)[-len(extra) :] == extra, "nanohf's extra parameters must come after transformers' ones"
    differ = {n: (ours[n].default, ref[n].default) for n in ref if ours[n].default != ref[n].default}
    assert set(differ) == set(DEFAULT_DIFFERENCES), f"defaults that differ: {differ}"
    counts = {kind: 0 for kind in ("implemented", "for scripts", "same result on a CPU", "refused", "no effect")}
    for name in ref:
        if name in args_support.FOR_SCRIPTS:
            kind = "for scripts"
        elif name in args_support.SAME_RESULT_ON_CPU:
            kind = "same result on a CPU"
        elif name in args_support.NO_EFFECT:
            kind = "no effect"
        elif name in args_support.REFUSED and name not in args_support.PARTLY_REFUSED:
            kind = "refused"
        else:
            kind = "implemented"
        counts[kind] += 1
    print(f"TrainingArguments: {len(ref)}/{len(ref)} transformers parameters accepted; {counts}")
    assert len(ref) == 114 and sum(counts.values()) == 114


@pytest.mark.parametrize("kwargs", [
    {}, dict(eval_strategy="steps", logging_steps=7), dict(eval_strategy="epoch", save_strategy="epoch",
                                                           load_best_model_at_end=True),
    dict(metric_for_best_model="accuracy"), dict(metric_for_best_model="eval_loss"), dict(logging_steps=3.0),
    dict(report_to="all"), dict(report_to=["none"]), dict(include_num_input_tokens_seen=True),
    dict(debug="underflow_overflow"), dict(torch_compile_mode="default"), dict(use_cpu=True),
    dict(lr_scheduler_kwargs='{"num_cycles": 2}'), dict(eval_strategy="steps", eval_steps=0.25, save_steps=0.5,
                                                        save_strategy="steps", load_best_model_at_end=True),
])  # fmt: skip
def test_values_after_post_init_match_transformers(kwargs):
    ours, ref = TrainingArguments(**kwargs), theirs(**kwargs)
    for f in dataclasses.fields(ref):
        if f.name in VALUE_DIFFERENCES:
            continue
        assert getattr(ours, f.name) == getattr(ref, f.name), (kwargs, f.name)
    assert ours.mixed_precision == ref.mixed_precision


@pytest.mark.parametrize("kwargs", [
    dict(tf32=True), dict(bf16=True), dict(bf16_full_eval=True), dict(fp16=True, bf16=True, use_cpu=True),
    dict(fp16_full_eval=True, bf16_full_eval=True, use_cpu=True), dict(logging_steps=2.5),
    dict(eval_strategy="steps", eval_steps=3.5), dict(save_steps=7.5), dict(warmup_steps=-1),
    dict(dataloader_prefetch_factor=2), dict(torch_empty_cache_steps=0), dict(eval_strategy="sometimes"),
    dict(save_strategy="never"), dict(optim="adamw_hf"), dict(hub_strategy="bogus"), dict(lr_scheduler_type="linearr"),
    dict(lr_scheduler_type="reduce_lr_on_plateau"), dict(lr_scheduler_type="greedy"),
    dict(load_best_model_at_end=True), dict(eval_strategy="steps", eval_steps=3, save_steps=5,
                                            load_best_model_at_end=True),
    dict(eval_strategy="steps", eval_steps=0.3, save_steps=5, load_best_model_at_end=True),
    dict(eval_strategy="steps", logging_steps=0), dict(logging_steps=0), dict(debug="everything"),
])  # fmt: skip
def test_same_error_as_transformers(kwargs):
    with pytest.raises(Exception) as expected:
        theirs(**kwargs)
    with pytest.raises(type(expected.value)) as got:
        TrainingArguments(**kwargs)
    # transformers prints a strategy as its enum member (IntervalStrategy.STEPS), nanohf as its value ("steps").
    expected_message = re.sub(r"\b(?:IntervalStrategy|SaveStrategy)\.([A-Z]+)", lambda m: m[1].lower(),
                              str(expected.value))  # fmt: skip
    assert str(got.value) == expected_message


@pytest.mark.parametrize("kwargs, message", [
    (dict(deepspeed={"zero_optimization": {"stage": 2}}), "DeepSpeed is a torch engine"),
    (dict(ddp_backend="nccl"), "only distributed backend is MPI"),
    (dict(report_to="neptun"), "neptun is not supported"),
    (dict(log_level="loud"), "log_level must be one of"),
    (dict(train_sampling_strategy="shuffled"), "shuffled is not a valid train_sampling_strategy"),
    (dict(gradient_accumulation_steps=0), "gradient_accumulation_steps must be >= 1"),
])  # fmt: skip
def test_refused_in_training_arguments_with_a_reason(kwargs, message):
    """Where transformers fails here too but with torch's or a missing package's error (deepspeed, nccl), or
    accepts a typo it later ignores or trips over (log_level in Trainer(...), a sampling strategy), nanohf
    fails at once, naming the setting."""
    with pytest.raises(ValueError, match=message):
        TrainingArguments(**kwargs)


def test_accepted_as_transformers_accepts_them():
    """Settings transformers takes on a CPU without complaint in TrainingArguments(...) pass here too (what
    Trainer(...) does with them is tested in tests/test_trainer_api.py)."""
    for kwargs in [dict(fp16=True), dict(fp16_full_eval=True), dict(bf16=True, use_cpu=True), dict(push_to_hub=True),
                   dict(report_to="wandb"), dict(optim="adafactor"), dict(torch_compile=True), dict(fsdp="full_shard"),
                   dict(use_liger_kernel=True), dict(neftune_noise_alpha=5.0), dict(save_strategy="best"),
                   dict(dataloader_num_workers=2), dict(tf32=False), dict(ddp_backend="mpi")]:  # fmt: skip
        TrainingArguments(**kwargs)


def test_gradient_checkpointing_is_a_deprecated_alias():
    for make in (TrainingArguments, theirs):
        with pytest.warns(FutureWarning, match="`gradient_checkpointing` is deprecated"):
            args = make(gradient_checkpointing=True)
        assert args.activation_checkpointing is True and args.gradient_checkpointing is True


def test_disable_tqdm_follows_the_log_level():
    nanohf_logger = logging.getLogger("nanohf")
    previous = nanohf_logger.level
    try:
        nanohf_logger.setLevel(logging.ERROR)
        assert TrainingArguments().disable_tqdm is True
        nanohf_logger.setLevel(logging.INFO)
        assert TrainingArguments().disable_tqdm is False
    finally:
        nanohf_logger.setLevel(previous)


@pytest.mark.parametrize("warmup", [0, 3, 0.25, 0.1])
def test_warmup_steps_int_or_fraction_as_transformers(warmup):
    for total in (20, 37):
        assert TrainingArguments(warmup_steps=warmup).get_warmup_steps(total) == theirs(
            warmup_steps=warmup
        ).get_warmup_steps(total)
    assert TrainingArguments(warmup_ratio=0.25).get_warmup_steps(20) == 5  # the old spelling, the same meaning


def test_to_dict_and_to_json_string_as_transformers():
    kwargs = dict(hub_token="secret", eval_strategy="epoch", optim="sgd", lr_scheduler_kwargs={"power": 2.0})
    ours, ref = TrainingArguments(**kwargs), theirs(**kwargs)
    mine, reference = ours.to_dict(), ref.to_dict()
    assert set(mine) == set(reference) | set(EXTRA_PARAMETERS)
    for key in reference:
        if key not in VALUE_DIFFERENCES:
            assert mine[key] == reference[key], key
    assert mine["hub_token"] == "<HUB_TOKEN>" and "secret" not in ours.to_json_string() and "secret" not in str(ours)
    assert json.loads(ours.to_json_string()) == json.loads(json.dumps(mine))
    sanitized = ours.to_sanitized_dict()
    assert sanitized["train_batch_size"] == 8 and all(type(v) in (bool, int, float, str) for v in sanitized.values())


SETTERS = [
    ("set_training", dict(learning_rate=1e-4, batch_size=32, weight_decay=0.01, num_epochs=2, seed=7)),
    ("set_evaluate", dict(strategy="steps", steps=100, batch_size=16, accumulation_steps=2, delay=1, loss_only=True)),
    ("set_testing", dict(batch_size=32, loss_only=True)),
    ("set_save", dict(strategy="epoch", steps=100, total_limit=2)),
    ("set_logging", dict(strategy="steps", steps=100, level="info", first_step=True, nan_inf_filter=True)),
    ("set_push_to_hub", dict(model_id="me/awesome-model", strategy="end", private_repo=True)),
    ("set_optimizer", dict(name="sgd", learning_rate=1e-3, beta1=0.8, args="momentum=0.9")),
    ("set_lr_scheduler", dict(name="cosine", num_epochs=4, warmup_steps=0.05)),
    ("set_dataloader", dict(train_batch_size=16, eval_batch_size=64, drop_last=True, sampler_seed=3)),
]


@pytest.mark.parametrize("name, kwargs", SETTERS)
def test_set_helpers_as_transformers(name, kwargs):
    ours, ref = TrainingArguments(), theirs()
    assert getattr(ours, name)(**kwargs) is ours
    getattr(ref, name)(**kwargs)
    mine, reference = ours.to_dict(), ref.to_dict()
    if name == "set_logging":  # transformers' set_logging stores report_to as given; nanohf normalises it
        assert reference["report_to"] == "none" and mine["report_to"] == []
        reference["report_to"] = []
    for key in reference:
        if key not in VALUE_DIFFERENCES:
            assert mine[key] == reference[key], (name, key)


def test_set_helpers_check_their_values_as_transformers():
    for name in ("set_evaluate", "set_save", "set_logging"):
        with pytest.raises(ValueError) as expected:
            getattr(theirs(), name)(strategy="steps", steps=0)
        with pytest.raises(ValueError, match=expected.value.args[0].replace("`", ".")):
            getattr(TrainingArguments(), name)(strategy="steps", steps=0)
    with pytest.raises(ValueError, match="not a valid OptimizerNames"):
        TrainingArguments().set_optimizer(name="adamw_hf")
    # report_to through set_logging is normalised as in TrainingArguments(...) ("none" -> []).
    assert TrainingArguments().set_logging().report_to == []


def test_process_properties_in_one_process():
    args = TrainingArguments(per_device_train_batch_size=4, per_device_eval_batch_size=6, use_cpu=True)
    ref = theirs(per_device_train_batch_size=4, per_device_eval_batch_size=6, use_cpu=True)
    for name in ("train_batch_size", "eval_batch_size", "world_size", "process_index", "local_process_index",
                 "should_log", "should_save", "n_gpu"):  # fmt: skip
        assert getattr(args, name) == getattr(ref, name), name
    assert args.device == "cpu" and str(ref.device) == "cpu"
    assert args.get_process_log_level() == logging.getLogger("nanohf").getEffectiveLevel()
    assert TrainingArguments(log_level="info").get_process_log_level() == logging.INFO
    with args.main_process_first(desc="map"):
        ran = True
    assert ran


def test_no_effect_table_names_real_parameters():
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    tables = (args_support.NO_EFFECT, args_support.REFUSED, args_support.SAME_RESULT_ON_CPU, args_support.FOR_SCRIPTS)
    assert set().union(*tables) <= names
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults warn about nothing
        args_support.check_at_init(TrainingArguments())
