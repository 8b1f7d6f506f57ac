"""tokenizer.apply_chat_template against transformers 5 on the same folders and templates.

Real-world-style templates (Llama 3, Mistral-Instruct, Qwen2 / ChatML with tools, Zephyr written over several
lines so trim_blocks / lstrip_blocks matter, one with {% generation %} blocks) are stored the three ways checkpoints
carry them (chat_template.jinja as transformers 5 saves it, a "chat_template" string in tokenizer_config.json, the
old named list), and rendered by both libraries on several conversations: the text (tokenize=False), the ids,
the BatchEncoding (padding, truncation, numpy tensors), the generation prompt, continue_final_message, assistant
masks, batches, and the errors templates raise. The sandbox refuses what transformers' refuses.
"""

import json
import warnings

import pytest
from test_tokenizer_llama import LLAMA3_REGEX, LLAMA3_SPECIALS, QWEN2_REGEX, byte_level_bpe, sentencepiece_bpe

from nanohf.tokenizers import AutoTokenizer

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")
ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""
CHATML_TOOLS = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\\n\\n# Tools\\n\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}{{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools><|im_end|>\\n" }}
{%- elif messages[0]['role'] != 'system' %}
    {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}
{%- endif %}
{%- set ns = namespace(turns=0) %}
{%- for message in messages %}
    {%- if message.role == "system" and tools %}{% continue %}{% endif %}
    {%- set ns.turns = ns.turns + 1 %}
    {%- if message.role == "tool" %}
        {{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response><|im_end|>\\n' }}
    {%- elif message.tool_calls is defined %}
        {{- '<|im_start|>assistant\\n' }}
        {%- for call in message.tool_calls %}
            {{- '<tool_call>\\n' + call.function | tojson(indent=2, sort_keys=True) + '\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}"""
GENERATION = (
    "{% for message in messages %}{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

CHATS = [
    [{"role": "user", "content": "Hello, how are you?"}],
    [{"role": "user", "content": "Hi 😀  there "}, {"role": "assistant", "content": "Hello! Café?"},
     {"role": "user", "content": "Tell me a joke about\n\nnewlines."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
     {"role": "assistant", "content": "4", "reasoning_content": None}],
]
TOOL_CHAT = [{"role": "user", "content": "Weather in Paris?"},
             {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                 "name": "get_weather", "arguments": {"city": "Paris", "unit": "°C"}}}]},
             {"role": "tool", "content": "22"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "The weather — now",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]


def _write(folder, name, content) -> None:
    (folder / name).write_text(json.dumps(content), encoding="utf-8")


def _load_both(folder):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(folder)
    return theirs, AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """{name: (folder, template)}: each template stored in a folder with a tokenizer it suits."""
    import transformers

    llama3 = byte_level_bpe(LLAMA3_REGEX, LLAMA3_SPECIALS)
    chatml = byte_level_bpe(QWEN2_REGEX, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], nfc=True)
    out = {}
    # as transformers 5 saves it: chat_template.jinja
    folder = tmp_path_factory.mktemp("llama3")
    transformers.PreTrainedTokenizerFast(tokenizer_object=llama3, bos_token="<|begin_of_text|>",
                                         eos_token="<|eot_id|>", chat_template=LLAMA3).save_pretrained(folder)
    assert (folder / "chat_template.jinja").read_text(encoding="utf-8") == LLAMA3
    out["llama3"] = (folder, LLAMA3)
    # a hub tokenizer_config.json with the template as a string
    for name, template in (("mistral", MISTRAL), ("zephyr", ZEPHYR)):
        folder = tmp_path_factory.mktemp(name)
        _write(folder, "tokenizer.json", sentencepiece_bpe())
        _write(folder, "tokenizer_config.json", {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>",
                                                 "eos_token": "</s>", "unk_token": "<unk>", "chat_template": template})
        out[name] = (folder, template)
    # Qwen2: the old named list, "default" plus "tool_use"
    folder = tmp_path_factory.mktemp("qwen2")
    chatml.save(str(folder / "tokenizer.json"))
    _write(folder, "tokenizer_config.json", {
        "tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "chat_template": [{"name": "default", "template": GENERATION}, {"name": "tool_use", "template": CHATML_TOOLS}]})
    _write(folder, "config.json", {"model_type": "qwen2"})
    out["qwen2"] = (folder, GENERATION)
    return out


def _same(a, b, label):
    if hasattr(a, "keys"):
        assert set(a) == set(b), label
        for key in a:
            x, y = a[key], b[key]
            x, y = (x.tolist() if hasattr(x, "tolist") else x), (y.tolist() if hasattr(y, "tolist") else y)
            assert x == y, (label, key)
    else:
        assert a == b, label


@pytest.mark.parametrize("name", ["llama3", "mistral", "zephyr", "qwen2"])
def test_rendering_and_ids_identical_to_transformers(name, folders):
    folder, template = folders[name]
    theirs, ours = _load_both(folder)
    assert ours.chat_template == theirs.chat_template
    assert ours.get_chat_template() == theirs.get_chat_template() == template
    chats = [c for c in CHATS if name != "mistral" or c[0]["role"] == "user"]
    cases = 0
    for chat in chats:
        for options in (dict(tokenize=False), dict(tokenize=False, add_generation_prompt=True), dict(),
                        dict(add_generation_prompt=True, return_dict=False), dict(return_tensors="np"),
                        dict(truncation=True, max_length=7), dict(continue_final_message=True, tokenize=False)):
            _same(theirs.apply_chat_template(chat, **options), ours.apply_chat_template(chat, **options),
                  (chat, options))
            cases += 1
    batch = dict(padding=True, return_tensors="np")
    if theirs.pad_token is None:
        theirs.pad_token = ours.pad_token = theirs.eos_token
    _same(theirs.apply_chat_template(chats, **batch), ours.apply_chat_template(chats, **batch), "batch")
    _same(theirs.apply_chat_template(chats, tokenize=False), ours.apply_chat_template(chats, tokenize=False), "texts")
    assert cases >= 14


def test_tools_named_templates_and_loop_controls(folders):
    folder, _ = folders["qwen2"]
    theirs, ours = _load_both(folder)
    assert set(ours.chat_template) == {"default", "tool_use"}
    for options in (dict(tools=TOOLS, tokenize=False), dict(tools=TOOLS, add_generation_prompt=True),
                    dict(chat_template="tool_use", tokenize=False), dict(chat_template=CHATML_TOOLS, tools=TOOLS,
                                                                         return_dict=False)):
        for chat in (TOOL_CHAT, CHATS[2]):
            _same(theirs.apply_chat_template(chat, **options), ours.apply_chat_template(chat, **options), options)
    text = ours.apply_chat_template(TOOL_CHAT, tools=TOOLS, tokenize=False)
    assert '"unit": "°C"' in text and "The weather — now" in text  # tojson: ensure_ascii=False, sort_keys


def test_assistant_tokens_mask(folders):
    folder, _ = folders["qwen2"]
    theirs, ours = _load_both(folder)
    for chat in CHATS[1:]:
        for options in (dict(), dict(return_tensors="np"), dict(truncation=True, max_length=12)):
            a = theirs.apply_chat_template(chat, return_assistant_tokens_mask=True, **options)
            b = ours.apply_chat_template(chat, return_assistant_tokens_mask=True, **options)
            _same(a, b, options)
        full = ours.apply_chat_template(chat, return_assistant_tokens_mask=True)
        assert 0 < sum(full["assistant_masks"]) < len(full["input_ids"])
    a = theirs.apply_chat_template(CHATS[1:], return_assistant_tokens_mask=True, padding=True)
    _same(a, ours.apply_chat_template(CHATS[1:], return_assistant_tokens_mask=True, padding=True), "batch")


def test_template_errors_and_the_sandbox(folders):
    import jinja2

    theirs, ours = _load_both(folders["mistral"][0])
    bad = [{"role": "assistant", "content": "I speak first"}]
    for tok in (theirs, ours):
        with pytest.raises(jinja2.exceptions.TemplateError, match="Conversation roles must alternate"):
            tok.apply_chat_template(bad)
        with pytest.raises(ValueError, match="not compatible"):
            tok.apply_chat_template(CHATS[0], add_generation_prompt=True, continue_final_message=True)
        with pytest.raises(ValueError, match="empty conversation"):
            tok.apply_chat_template([])
    escapes = ["{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ cycler.__init__.__globals__ }}",
               "{% set ns = namespace(_x=1) %}{{ ns }}", "{{ messages.append(1) }}"]
    for source in escapes:
        for tok in (theirs, ours):
            with pytest.raises(jinja2.exceptions.SecurityError):
                tok.apply_chat_template(CHATS[0], chat_template=source, tokenize=False)
    # strftime_now and dict are there; a missing template is explained
    source = "{{ strftime_now('%Y') }}|{{ dict(a=1) | tojson }}|{{ dict.fromkeys(['x']) | tojson }}"
    assert ours.apply_chat_template(CHATS[0], chat_template=source, tokenize=False) == \
           theirs.apply_chat_template(CHATS[0], chat_template=source, tokenize=False)
    plain = AutoTokenizer.from_pretrained(folders["mistral"][0])
    plain.chat_template = None
    with pytest.raises(ValueError, match="chat_template is not set"):
        plain.apply_chat_template(CHATS[0])


def test_save_pretrained_writes_the_template_as_transformers_5(folders, tmp_path):
    import transformers

    for name in ("llama3", "mistral", "qwen2"):
        theirs, ours = _load_both(folders[name][0])
        ours.save_pretrained(tmp_path / name / "ours")
        theirs.save_pretrained(tmp_path / name / "theirs")
        for side in ("ours", "theirs"):
            files = sorted(p.relative_to(tmp_path / name / side).as_posix() for p in (tmp_path / name / side).rglob(
                "*.jinja"))
            assert files == (["additional_chat_templates/tool_use.jinja", "chat_template.jinja"] if name == "qwen2"
                             else ["chat_template.jinja"]), (name, side, files)
            assert "chat_template" not in json.loads((tmp_path / name / side / "tokenizer_config.json").read_text())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path / name / "ours")
        again = AutoTokenizer.from_pretrained(tmp_path / name / "theirs")
        assert reloaded.chat_template == again.chat_template == ours.chat_template
    # the old place, on request
    ours = AutoTokenizer.from_pretrained(folders["llama3"][0])
    ours.save_pretrained(tmp_path / "legacy", save_jinja_files=False)
    assert json.loads((tmp_path / "legacy" / "tokenizer_config.json").read_text())["chat_template"] == LLAMA3
    assert not (tmp_path / "legacy" / "chat_template.jinja").exists()


def test_missing_jinja2_is_explained(folders, monkeypatch):
    import builtins

    from nanohf.tokenizers import chat_template

    real_import = builtins.__import__

    def no_jinja(name, *args, **kwargs):
        if name == "jinja2" or name.startswith("jinja2."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jinja)
    chat_template.compile_template.cache_clear()
    ours = AutoTokenizer.from_pretrained(folders["llama3"][0])
    with pytest.raises(ImportError, match="requires jinja2.*pip install"):
        ours.apply_chat_template(CHATS[0], chat_template="{{ 'x' }}")
    monkeypatch.undo()
    chat_template.compile_template.cache_clear()


@pytest.fixture(scope="module")
def chat_model_folder(folders, tmp_path_factory):
    """A tiny random GPT-2 written by transformers beside the Llama-3-style tokenizer and its chat template."""
    import shutil

    import torch
    import transformers

    folder = tmp_path_factory.mktemp("chat-model")
    for path in folders["llama3"][0].iterdir():
        shutil.copy(path, folder)
    theirs, _ = _load_both(folder)
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=len(theirs), n_positions=128, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=theirs.bos_token_id, eos_token_id=theirs.eos_token_id)
    transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    return folder


def test_text_generation_pipeline_takes_chats(chat_model_folder):
    import transformers

    import nanohf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.pipeline("text-generation", model=str(chat_model_folder))
    ours = nanohf.pipeline("text-generation", model=str(chat_model_folder))
    prefill = CHATS[1] + [{"role": "assistant", "content": "Well,"}]
    for inputs, options in ((CHATS[0], {}), (CHATS[1], dict(return_full_text=False)), ([CHATS[0], CHATS[2]], {}),
                            (prefill, {}), (CHATS[1], dict(continue_final_message=True)),
                            (CHATS[0], dict(return_tensors=True))):
        want = theirs(inputs, do_sample=False, max_new_tokens=4, **options)
        got = ours(inputs, do_sample=False, max_new_tokens=4, **options)
        assert got == want, (inputs, options)
    reply = ours(CHATS[0], do_sample=False, max_new_tokens=4)[0]["generated_text"]
    assert reply[:-1] == CHATS[0] and reply[-1]["role"] == "assistant"


def test_encode_message_with_chat_template(folders):
    for name in ("llama3", "zephyr"):
        theirs, ours = _load_both(folders[name][0])
        chat = CHATS[1]
        for history in ([], chat[:1], chat[:2]):
            message = chat[len(history)]
            assert ours.encode_message_with_chat_template(message, history) == \
                   theirs.encode_message_with_chat_template(message, history), (name, len(history))
