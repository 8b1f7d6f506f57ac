"""Chat templates: a conversation (a list of {"role", "content"} messages) -> the string a chat model was trained on.

A chat model was fine-tuned on conversations written in its own markup, e.g. Llama 3's

    <|begin_of_text|><|start_header_id|>user<|end_header_id|>\\n\\nHi!<|eot_id|><|start_header_id|>assistant...

and the checkpoint ships that markup as a Jinja program, `chat_template`: in tokenizer_config.json (older files), or
in its own file chat_template.jinja as transformers 5 saves it, named extra ones in additional_chat_templates/*.jinja.
`tokenizer.apply_chat_template(messages, add_generation_prompt=True)` runs the program on the messages, then
tokenizes the result without adding special tokens again (the template writes them itself).

The Jinja environment is exactly transformers 5's (utils/chat_template_utils.py), so a template renders to the same
characters:

    ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) + loop controls ({% break %}, {% continue %})
    tojson         json.dumps(x, ensure_ascii=False, indent=, separators=, sort_keys=) (Jinja's own escapes HTML)
    raise_exception(message)  a TemplateError: templates use it to reject e.g. roles out of order
    strftime_now(format)      today's date, for templates that print it
    dict, namespace           without attribute tricks (a namespace rejects "_..." names)
    {% generation %}...{% endgeneration %}   marks the assistant's text (return_assistant_tokens_mask)

A template is a file from the hub, so it is data, never code: the sandbox refuses attribute access to Python
internals, and every value the template sees is first rebuilt from plain JSON types (`plain_template_data`).
jinja2 is an optional dependency, imported on the first template (jinja2 >= 3.1.6: older ones have sandbox escapes).
"""

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache

import numpy as np

CHAT_TEMPLATE_FILE = "chat_template.jinja"
CHAT_TEMPLATE_DIR = "additional_chat_templates"
# Appended to the final message with continue_final_message, to find where that message ends in the rendering.
CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
# Names a message's reasoning comes under; the first is the one templates read.
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")
NO_TEMPLATE = ("Cannot use chat template functions because tokenizer.chat_template is not set and no template argument "
               "was passed! Set tokenizer.chat_template to a Jinja template, or pass chat_template=.")


def _jinja():
    try:
        import jinja2
    except ImportError:
        raise ImportError("apply_chat_template requires jinja2 (an optional dependency of nanohf): "
                          "pip install 'jinja2>=3.1.6'") from None
    version = tuple(int(p) for p in re.findall(r"\d+", jinja2.__version__)[:3])
    if version < (3, 1, 6):
        raise ImportError(f"apply_chat_template requires jinja2>=3.1.6 (older versions have known sandbox escapes, and "
                          f"chat templates are untrusted files); found {jinja2.__version__}: pip install -U jinja2")
    return jinja2


@lru_cache
def compile_template(source: str):
    """The compiled Jinja template of `source`, in transformers' sandboxed environment (cached by source text)."""
    jinja2 = _jinja()
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class GenerationTracker(Extension):
        """{% generation %}...{% endgeneration %}: renders its body unchanged and, while tracking, records the
        character span the body occupies in the output (the assistant's own text)."""

        tags = {"generation"}

        def __init__(self, environment):
            super().__init__(environment)
            self._tracking = ContextVar("generation_tracking", default=None)
            environment.extend(track_generation=self.track)

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_record"), [], [], body).set_lineno(lineno)

        def _record(self, caller):
            text = caller()
            tracking = self._tracking.get()
            if tracking is not None:
                blocks, spans = tracking
                start = sum(map(len, blocks))  # everything streamed out before this block
                spans.append((start, start + len(text)))
            return text

        @contextmanager
        def track(self, blocks: list, spans: list):
            token = self._tracking.set((blocks, spans))
            try:
                yield
            finally:
                self._tracking.reset(token)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    class TemplateDict:
        """`dict(...)` and `dict.fromkeys(...)` for templates, without the type object itself."""

        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def fromkeys(self, *args, **kwargs):
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        """Jinja's namespace, refusing attribute names starting with "_" (no reach into Python internals)."""

        def __init__(*args, **kwargs):  # noqa: N805 (Jinja's own signature trick: namespace(self=...) works)
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"Chat templates cannot store underscore-prefixed attributes on "
                                                      f"a namespace, but got {name!r}. Please rename the attribute.")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTracker, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals.update(raise_exception=raise_exception, strftime_now=strftime_now, dict=TemplateDict(),
                       namespace=TemplateNamespace)
    return env.from_string(source)


# ---------------------------------------------------------------------- what the template may see
def plain_template_data(value):
    """`value` rebuilt from plain JSON types (str, int, float, bool, None, dict, list, tuple); anything else becomes
    a placeholder "<TypeName>". Subclasses (enums, numpy scalars) lose their methods: the sandbox knows nothing of
    them, and some write files."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {plain_template_data(k): plain_template_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_template_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain_template_data(v) for v in value)
    if isinstance(value, np.generic):
        return plain_template_data(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_template_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):  # pydantic models (OpenAI SDK messages)
        return plain_template_data(value.model_dump())
    return f"<{type(value).__name__}>"


def normalize_messages(conversation) -> list[dict]:
    """Messages as dicts (dataclasses and pydantic models converted), keys whose value is None dropped: templates
    handle a missing key, and would print a None one as "None"."""
    messages = getattr(conversation, "messages", conversation)
    out = []
    for i, message in enumerate(messages):
        if dataclasses.is_dataclass(message) and not isinstance(message, type):
            message = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
        elif callable(getattr(message, "model_dump", None)):
            message = message.model_dump()
        if not isinstance(message, dict):
            raise TypeError(f"Chat messages should be dicts, dataclasses or pydantic models, but message {i} is "
                            f"{message!r}")
        out.append({key: value for key, value in message.items() if value is not None})
    return out


def _alias_reasoning(chat: list[dict]) -> list[dict]:
    """A message's reasoning under any of its names is also given as reasoning_content and thinking."""
    out = []
    for message in chat:
        reasoning = next((message[k] for k in REASONING_FIELDS if message.get(k) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        out.append(message)
    return out


def _tool_schemas(tools):
    if tools is None:
        return None
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise TypeError(f"tools[{i}] is a {type(tool).__name__}: nanohf takes tools as JSON schemas (dicts, e.g. "
                            '{"type": "function", "function": {"name": ..., "parameters": ...}}); transformers\' '
                            "conversion of Python functions (get_json_schema) is not re-told")
    return list(tools)


# ---------------------------------------------------------------------- rendering
def _mark_final_message(chat: list[dict], field, source: str) -> str:
    """Append CONTINUE_TAG to the final message's `field` (its last text block for a list content); return the
    original text, to be found again in the rendering."""
    if not chat:
        raise ValueError("continue_final_message is set but the conversation is empty!")
    final = chat[-1].get(field)
    if final is None:
        raise ValueError(f'continue_final_message is set but the final message has no "{field}" to continue!')
    fields = [field]
    if field in REASONING_FIELDS:  # reasoning is copied under several names: tag each copy
        fields = [f for f in REASONING_FIELDS if chat[-1].get(f) == final]
    if not any(f in source for f in fields):
        raise ValueError(f'continue_final_message is set to "{field}" but this is not an accepted field in the '
                         "chat_template")
    if isinstance(final, (list, tuple)):
        for block in reversed(final):
            if "text" in block:
                text, block["text"] = block["text"], block["text"] + CONTINUE_TAG
                return text
        raise ValueError("continue_final_message is set but we could not find any text to continue in the final "
                         "message!")
    for f in fields:
        chat[-1][f] = chat[-1][f] + CONTINUE_TAG
    return final


def _cut_at_final_message(rendered: str, final: str) -> str:
    """The rendering up to the end of the final message (its closing markup removed)."""
    if final.strip() not in rendered or CONTINUE_TAG.strip() not in rendered:
        raise ValueError("continue_final_message is set but the final message does not appear in the chat after "
                         "applying the chat template! This can happen if the chat template deletes portions of the "
                         f"final message.\nFinal message to continue: {final.strip()}\nRendered chat:\n{rendered}")
    at = rendered.rindex(CONTINUE_TAG.strip())
    if rendered[at:at + len(CONTINUE_TAG)] == CONTINUE_TAG:
        return rendered[:at]
    return rendered[:at].rstrip()  # the template trimmed the tag's trailing space: trim the message's too


def render(conversations: list, chat_template: str, tools=None, documents=None, add_generation_prompt: bool = False,
           continue_final_message: bool | str = False, return_assistant_tokens_mask: bool = False,
           **kwargs) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Render each conversation; returns (texts, for each text the character spans of its {% generation %} blocks).

    The template sees: messages, tools, documents, add_generation_prompt, and every keyword (bos_token, ...)."""
    template = compile_template(chat_template)
    tools = plain_template_data(_tool_schemas(tools))
    if documents is not None and not all(isinstance(d, dict) for d in documents):
        raise TypeError("Documents should be a list of dicts with 'title' and 'text' keys!")
    documents, kwargs = plain_template_data(documents), plain_template_data(kwargs)
    field = continue_final_message if isinstance(continue_final_message, str) else "content"
    texts, all_spans = [], []
    for chat in conversations:
        chat = plain_template_data(getattr(chat, "messages", chat))  # a fresh copy: the caller's stays as it is
        for i, message in enumerate(chat):
            if not isinstance(message, dict):
                raise TypeError(f"Chat messages should be dicts, but message {i} is {message!r}")
        chat = _alias_reasoning(chat)
        final = _mark_final_message(chat, field, chat_template) if continue_final_message else None
        variables = dict(messages=chat, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt,
                         **kwargs)
        spans = []
        if return_assistant_tokens_mask:
            blocks = []
            with template.environment.track_generation(blocks, spans):
                for block in template.generate(**variables):
                    blocks.append(block)
            text = "".join(blocks)
        else:
            text = template.render(**variables)
        texts.append(text if final is None else _cut_at_final_message(text, final))
        all_spans.append(spans)
    return texts, all_spans


def select_template(own, chat_template: str | None = None, tools=None) -> str:
    """The template to run: `chat_template` (a Jinja source, or the name of one of the tokenizer's templates), else
    the tokenizer's own (`own`: a str, or {name: template} where "tool_use" serves calls with tools, else "default")."""
    if isinstance(own, dict):
        if chat_template is not None and chat_template in own:
            return own[chat_template]
        if chat_template is None:
            if tools is not None and "tool_use" in own:
                return own["tool_use"]
            if "default" in own:
                return own["default"]
            raise ValueError("This model has multiple chat templates with no default specified! Please either pass a "
                             "chat template or the name of the template you wish to use to the `chat_template` "
                             f"argument. Available template names are {sorted(own)}.")
    if chat_template is None:
        if own is None:
            raise ValueError(NO_TEMPLATE)
        return own
    return chat_template


# ---------------------------------------------------------------------- files
def read_chat_templates(folder, config: dict):
    """A folder's chat template as transformers 5 reads it: chat_template.jinja (+ additional_chat_templates/*.jinja)
    win over tokenizer_config.json's "chat_template" (a str, or the old [{"name", "template"}] list). None: none."""
    templates = {}
    if folder is not None:
        path = os.path.join(folder, CHAT_TEMPLATE_FILE)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                templates["default"] = handle.read()
        extra = os.path.join(folder, CHAT_TEMPLATE_DIR)
        if os.path.isdir(extra):
            for name in sorted(os.listdir(extra)):
                if name.endswith(".jinja"):
                    with open(os.path.join(extra, name), encoding="utf-8") as handle:
                        templates[name[: -len(".jinja")]] = handle.read()
    if list(templates) == ["default"]:
        return templates["default"]
    if templates:
        return templates
    return as_template_value(config.get("chat_template"))


def as_template_value(value):
    """tokenizer_config.json's list form [{"name": ..., "template": ...}] -> {name: template}; a str stays."""
    if isinstance(value, (list, tuple)):
        return {entry["name"]: entry["template"] for entry in value}
    return value


def save_chat_templates(chat_template, save_directory: str, config: dict, save_jinja_files: bool = True) -> list:
    """Write `chat_template` as transformers 5 saves it; returns the paths written.

    save_jinja_files=True (the default): chat_template.jinja for a single (or the "default") template,
    additional_chat_templates/NAME.jinja for the other named ones, and nothing in tokenizer_config.json. False: the old
    way, config["chat_template"] = the template (or [{"name", "template"}] for named ones)."""
    from nanohf.models.hub import write_atomically

    if chat_template is None:
        return []
    if not save_jinja_files:
        config["chat_template"] = chat_template if isinstance(chat_template, str) else [
            {"name": name, "template": template} for name, template in chat_template.items()]
        return []
    named = {"default": chat_template} if isinstance(chat_template, str) else chat_template
    folder = os.path.join(save_directory, CHAT_TEMPLATE_DIR)
    paths = []
    for name, template in named.items():
        path = os.path.join(save_directory, CHAT_TEMPLATE_FILE) if name == "default" else os.path.join(
            folder, f"{name}.jinja")
        if name != "default":
            if os.path.dirname(os.path.abspath(path)) != os.path.abspath(folder):  # the name came from a file
                raise ValueError(f"Invalid chat template name: {name!r}")
            os.makedirs(folder, exist_ok=True)
        write_atomically(path, template.encode("utf-8"))
        paths.append(path)
    config.pop("chat_template", None)
    return paths


# ---------------------------------------------------------------------- the tokenizer methods
def _assistant_masks(out, spans_per_text: list, squeeze: bool) -> list:
    """1 for every token overlapping a {% generation %} span (a span cut by truncation keeps its remaining tokens)."""
    masks = []
    for encoding, spans in zip(out.encodings, spans_per_text, strict=True):
        mask, k = [0] * len(encoding.ids), 0
        for t, (start, end) in enumerate(encoding.offsets):
            while k < len(spans) and start >= spans[k][1]:
                k += 1
            if k == len(spans):
                break
            if end > spans[k][0]:
                mask[t] = 1
        masks.append(mask)
    return masks[0] if squeeze else masks


class ChatTemplateMixin:
    """`apply_chat_template` and `get_chat_template` for every tokenizer; `chat_template` is set by its __init__."""

    chat_template = None

    def get_chat_template(self, chat_template: str | None = None, tools: list[dict] | None = None) -> str:
        """The Jinja source apply_chat_template would run (see `select_template`)."""
        return select_template(self.chat_template, chat_template, tools)

    def apply_chat_template(self, conversation, tools: list[dict] | None = None, documents: list[dict] | None = None,
                            chat_template: str | None = None, add_generation_prompt: bool = False,
                            continue_final_message: bool | str = False, tokenize: bool = True,
                            padding: bool | str = False, truncation: bool = False, max_length: int | None = None,
                            return_tensors: str | None = None, return_dict: bool = True,
                            return_assistant_tokens_mask: bool = False, tokenizer_kwargs: dict | None = None,
                            **kwargs):
        """Render a conversation (a list of {"role": ..., "content": ...} dicts), or a batch of them, with the chat
        template, then tokenize it without adding special tokens (the template writes them).

        Args:
            conversation: one conversation, or a list of conversations (a batch).
            tools, documents: JSON-schema dicts of functions / {"title", "text"} dicts, passed to the template.
            chat_template: a Jinja source, or the name of one of the tokenizer's templates (default: its own).
            add_generation_prompt: end with the header that starts an assistant message (to generate one).
            continue_final_message: leave the final message open (True: its "content"; a str: that field), so the
                model continues it; not with add_generation_prompt.
            tokenize: False returns the rendered text (a str, or a list for a batch).
            padding, truncation, max_length, return_tensors, tokenizer_kwargs: for the tokenizer call.
            return_dict: True (default, as in transformers 5) returns the BatchEncoding; False the input_ids only.
            return_assistant_tokens_mask: add "assistant_masks": 1 on the tokens of {% generation %} blocks.
            **kwargs: more template variables; the special tokens (bos_token, eos_token, ...) are there already.

        Returns: text(s) when tokenize=False; else a BatchEncoding (return_dict) or input_ids. For one conversation
        the ids are a flat list (shape (1, seq) with return_tensors); for B conversations B lists / (B, seq).
        """
        if not tokenize:
            return_dict = False
        if return_assistant_tokens_mask and not (return_dict and tokenize):
            raise ValueError("`return_assistant_tokens_mask=True` requires `return_dict=True` and `tokenize=True`")
        if kwargs.pop("sanitize_control_tokens", False):
            raise ValueError("sanitize_control_tokens=True is not re-told in nanohf: check user strings for control "
                             "tokens before rendering (or encode the rendering with split_special_tokens=True)")
        source = self.get_chat_template(chat_template, tools)
        if isinstance(conversation, (list, tuple)) and len(conversation) == 0:
            raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
        batched = isinstance(conversation, (list, tuple)) and (
            isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages"))
        conversations = [normalize_messages(c) for c in (conversation if batched else [conversation])]
        if continue_final_message:
            if add_generation_prompt:
                raise ValueError("continue_final_message and add_generation_prompt are not compatible: use "
                                 "continue_final_message to have the model continue the final message, "
                                 "add_generation_prompt to have it start a new assistant message.")
            if return_assistant_tokens_mask:
                raise ValueError("continue_final_message is not compatible with return_assistant_tokens_mask.")
        variables = {**self.special_tokens_map, **kwargs}  # the call's keywords win over the special tokens
        texts, spans = render(conversations, source, tools=tools, documents=documents,
                              add_generation_prompt=add_generation_prompt,
                              continue_final_message=continue_final_message,
                              return_assistant_tokens_mask=return_assistant_tokens_mask, **variables)
        rendered = texts if batched else texts[0]
        if not tokenize:
            return rendered
        out = self(rendered, padding=padding, truncation=truncation, max_length=max_length, add_special_tokens=False,
                   return_tensors=return_tensors, **(tokenizer_kwargs or {}))
        if not return_dict:
            return out["input_ids"]
        if return_assistant_tokens_mask:
            masks = _assistant_masks(out, spans, squeeze=not batched and not return_tensors)
            out["assistant_masks"] = np.array(masks, dtype=np.int64) if return_tensors == "np" else masks
        return out

    def encode_message_with_chat_template(self, message: dict, conversation_history: list[dict] | None = None,
                                          **kwargs) -> list[int]:
        """The ids one message adds to `conversation_history` (for streaming a chat message by message): the
        rendering of history + message from the first id where it differs from the history's own rendering."""
        if "add_generation_prompt" in kwargs:
            raise ValueError("`encode_message_with_chat_template` does not support `add_generation_prompt`. Please "
                             "add the generation prompt separately.")
        options = dict(add_generation_prompt=False, tokenize=True, return_dict=False, **kwargs)
        if not conversation_history:
            return self.apply_chat_template([message], **options)
        ids = self.apply_chat_template(list(conversation_history) + [message], **options)
        before = self.apply_chat_template(list(conversation_history), **options)
        pairs = enumerate(zip(before, ids, strict=False))  # the history's ids may be longer (closing markup)
        common = next((i for i, (a, b) in pairs if a != b), min(len(before), len(ids)))
        return ids[common:]
