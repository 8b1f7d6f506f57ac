"""The course's chapters 2 and 3 (PyTorch variants) and the book's chapter 2 (text classification), cell by cell.

Each test makes one section's calls, written afresh, with only the mechanical substitutions: transformers ->
nanohf, "pt" -> "np", torch.tensor -> np.array, torch.no_grad -> nanohf.no_grad, .to(device) on batches left
out (NumPy arrays live on the CPU). Hub names are replaced by local folders: the real all-MiniLM-L6-v2
checkpoint for inference, and for training a tiny BERT with MiniLM's vocabulary (fast). The data are the
shipped GLUE files (MRPC for chapter 3; SST-2 stands in for the book's emotion data set, which is not shipped:
the same text/label columns, two classes instead of six). Where transformers itself fails offline (a hub
name, a removed argument, notebook_launcher without num_processes), the test checks that nanohf fails at the
same call, and that transformers does.

Where numbers can be compared, transformers (or scikit-learn) runs on the same inputs beside nanohf.
"""

import os
import shutil

import numpy as np
import pytest
from conftest import TINY_BERT

import nanohf
import nanohf.evaluate as evaluate
from nanohf import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

RAW_INPUTS = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
TOLERANCE = 1e-4


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.fixture(scope="module")
def hf():
    """transformers, with the hub switched off (as on a machine without internet)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import transformers

    transformers.logging.set_verbosity_error()
    return transformers


@pytest.fixture(scope="module")
def small_checkpoint(make_checkpoint, minilm_dir):
    """A tiny BERT (hidden 32, 2 layers) over MiniLM's 30,522-token vocabulary, with MiniLM's tokenizer files:
    a "bert-base-uncased" that trains in milliseconds."""
    config = {**TINY_BERT, "vocab_size": 30522, "max_position_embeddings": 128, "type_vocab_size": 2}
    folder = make_checkpoint("BertForSequenceClassification", config, seed=1)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"):
        shutil.copy(minilm_dir / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def raw_datasets():
    """load_dataset("glue", "mrpc"), from the shipped files; 64 training and 24 validation pairs."""
    splits = nanohf.load_glue("mrpc")
    return nanohf.DatasetDict({"train": splits["train"].select(range(64)),
                               "validation": splits["validation"].select(range(24))})  # fmt: skip


# --- course chapter 2 -------------------------------------------------------------------------------------------
def test_2_2_behind_the_pipeline(minilm_dir, hf):
    import torch

    with pytest.raises(FileNotFoundError, match="downloads nothing"):
        nanohf.pipeline("sentiment-analysis")  # the task's default checkpoint is on the hub
    with pytest.raises(OSError):
        hf.pipeline("sentiment-analysis")
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    inputs = tokenizer(RAW_INPUTS, padding=True, truncation=True, return_tensors="np")
    theirs = hf.AutoTokenizer.from_pretrained(minilm_dir)(RAW_INPUTS, padding=True, truncation=True,
                                                          return_tensors="pt")  # fmt: skip
    assert {k: v.tolist() for k, v in inputs.items()} == {k: v.tolist() for k, v in theirs.items()}
    model = AutoModel.from_pretrained(minilm_dir)
    outputs = model(**inputs)
    assert outputs.last_hidden_state.shape == (2, 16, 384)
    with torch.no_grad():
        expected = hf.AutoModel.from_pretrained(minilm_dir)(**theirs).last_hidden_state.numpy()
    diff = float(np.abs(outputs.last_hidden_state - expected).max())
    assert diff < TOLERANCE, f"max |Δ| {diff:.2e}"
    model = AutoModelForSequenceClassification.from_pretrained(minilm_dir)
    outputs = model(**inputs)
    assert outputs.logits.shape == (2, 2)
    predictions = softmax(outputs.logits, axis=-1)  # torch.nn.functional.softmax(outputs.logits, dim=-1)
    np.testing.assert_allclose(predictions.sum(-1), 1.0, rtol=1e-6)
    assert model.config.id2label == {0: "LABEL_0", 1: "LABEL_1"}


def test_2_3_models(minilm_dir, tmp_path, hf):
    config = nanohf.BertConfig()
    model = nanohf.BertModel(config)  # randomly initialised
    assert (config.hidden_size, config.num_hidden_layers, config.vocab_size) == (768, 12, 30522)
    assert str(config).startswith("BertConfig")
    model = nanohf.BertModel.from_pretrained(minilm_dir)
    model.save_pretrained(tmp_path / "directory_on_my_computer")
    assert sorted(os.listdir(tmp_path / "directory_on_my_computer")) == ["config.json", "model.safetensors"]
    reloaded = hf.BertModel.from_pretrained(tmp_path / "directory_on_my_computer")  # transformers reads it
    assert reloaded.config.hidden_size == 384
    encoded_sequences = [[101, 7592, 999, 102], [101, 4658, 1012, 102], [101, 3835, 999, 102]]
    model_inputs = np.array(encoded_sequences)  # torch.tensor(encoded_sequences)
    output = model(model_inputs)
    assert output.last_hidden_state.shape == (3, 4, 384)


def test_2_4_tokenizers(minilm_dir, tmp_path, hf):
    tokenizer = nanohf.BertTokenizer.from_pretrained(minilm_dir)
    theirs = hf.BertTokenizer.from_pretrained(minilm_dir)
    sequence = "Using a Transformer network is simple"
    assert dict(tokenizer(sequence)) == dict(theirs(sequence))
    tokenizer.save_pretrained(tmp_path / "directory_on_my_computer")
    assert (tmp_path / "directory_on_my_computer" / "vocab.txt").is_file()
    tokens = tokenizer.tokenize(sequence)
    assert tokens == theirs.tokenize(sequence) == ["using", "a", "transform", "##er", "network", "is", "simple"]
    ids = tokenizer.convert_tokens_to_ids(tokens)
    assert ids == theirs.convert_tokens_to_ids(tokens)
    decoded_string = tokenizer.decode([7993, 170, 11303, 1200, 2443, 1110, 3014])
    assert decoded_string == theirs.decode([7993, 170, 11303, 1200, 2443, 1110, 3014])


def test_2_5_handling_multiple_sequences(minilm_dir, hf):
    import torch

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    model = AutoModelForSequenceClassification.from_pretrained(minilm_dir)
    torch_model = hf.AutoModelForSequenceClassification.from_pretrained(minilm_dir)
    torch_model.classifier.weight.data[:] = torch.tensor(model.classifier.weight.data)  # the same new head
    torch_model.classifier.bias.data[:] = torch.tensor(model.classifier.bias.data)
    sequence = "I've been waiting for a HuggingFace course my whole life."
    ids = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sequence))
    with pytest.raises(ValueError):  # one sequence without its batch axis: transformers fails too
        model(np.array(ids))
    with pytest.raises(ValueError):
        torch_model(torch.tensor(ids))
    output = model(np.array([ids]))
    with torch.no_grad():
        expected = torch_model(torch.tensor([ids])).logits.numpy()
    assert np.abs(output.logits - expected).max() < TOLERANCE
    padding_id = tokenizer.pad_token_id
    batched_ids = [[200, 200, 200], [200, 200, padding_id]]
    attention_mask = [[1, 1, 1], [1, 1, 0]]
    alone = model(np.array([[200, 200]])).logits
    unmasked = model(np.array(batched_ids)).logits
    masked = model(np.array(batched_ids), attention_mask=np.array(attention_mask)).logits
    assert np.abs(masked[1] - alone[0]).max() < 1e-5 < np.abs(unmasked[1] - alone[0]).max()
    max_sequence_length = 8
    assert len(ids[:max_sequence_length]) == 8


def test_2_6_putting_it_all_together(minilm_dir, hf):
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    theirs = hf.AutoTokenizer.from_pretrained(minilm_dir)
    sequences = ["I've been waiting for a HuggingFace course my whole life.", "So have I!"]
    for kwargs in ({"padding": "longest"}, {"padding": "max_length"}, {"padding": "max_length", "max_length": 8},
                   {"truncation": True}, {"max_length": 8, "truncation": True}):  # fmt: skip
        assert dict(tokenizer(sequences, **kwargs)) == dict(theirs(sequences, **kwargs)), kwargs
    for tensors in ("np",):  # "pt" and "tf" are torch's and TensorFlow's
        model_inputs = tokenizer(sequences, padding=True, return_tensors=tensors)
        assert model_inputs["input_ids"].shape == (2, 16)
    model_inputs = tokenizer("I've been waiting for a HuggingFace course my whole life.")
    assert tokenizer.decode(model_inputs["input_ids"]) == theirs.decode(model_inputs["input_ids"])
    assert tokenizer.decode(model_inputs["input_ids"]).startswith("[CLS] i ' ve been waiting")
    model = AutoModelForSequenceClassification.from_pretrained(minilm_dir)
    tokens = tokenizer(sequences, padding=True, truncation=True, return_tensors="np")
    assert model(**tokens).logits.shape == (2, 2)


# --- course chapter 3 -------------------------------------------------------------------------------------------
def test_3_2_one_training_step(small_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint)
    sequences = ["I've been waiting for a HuggingFace course my whole life.", "This course is amazing!"]
    batch = tokenizer(sequences, padding=True, truncation=True, return_tensors="np")
    batch["labels"] = np.array([1, 1])  # torch.tensor([1, 1])
    optimizer = nanohf.AdamW(model.parameters())  # torch.optim.AdamW
    before = model.classifier.weight.data.copy()
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    assert float(loss) > 0 and not np.array_equal(before, model.classifier.weight.data)


def test_3_2_processing_the_data(raw_datasets, small_checkpoint, hf):
    raw_train_dataset = raw_datasets["train"]
    assert set(raw_train_dataset[0]) == {"sentence1", "sentence2", "label", "idx"}
    assert raw_train_dataset.features["label"].names == ["not_equivalent", "equivalent"]
    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    theirs = hf.AutoTokenizer.from_pretrained(small_checkpoint)
    inputs = tokenizer("This is the first sentence.", "This is the second one.")
    assert dict(inputs) == dict(theirs("This is the first sentence.", "This is the second one."))
    assert inputs["token_type_ids"] == [0] * 8 + [1] * 7
    assert tokenizer.convert_ids_to_tokens(inputs["input_ids"])[:2] == ["[CLS]", "this"]
    tokenized = tokenizer(raw_datasets["train"]["sentence1"], raw_datasets["train"]["sentence2"], padding=True,
                          truncation=True)  # fmt: skip
    assert len(tokenized["input_ids"]) == 64

    def tokenize_function(example):
        return tokenizer(example["sentence1"], example["sentence2"], truncation=True)

    tokenized_datasets = raw_datasets.map(tokenize_function, batched=True)
    assert set(tokenized_datasets["train"].column_names) == {"sentence1", "sentence2", "label", "idx", "input_ids",
                                                             "token_type_ids", "attention_mask"}  # fmt: skip
    data_collator = nanohf.DataCollatorWithPadding(tokenizer=tokenizer)
    samples = tokenized_datasets["train"][:8]
    samples = {k: v for k, v in samples.items() if k not in ["idx", "sentence1", "sentence2"]}
    lengths = [len(x) for x in samples["input_ids"]]
    batch = data_collator([{k: samples[k][i] for k in samples} for i in range(8)])
    expected = hf.DataCollatorWithPadding(tokenizer=theirs)([{k: samples[k][i] for k in samples} for i in range(8)])
    assert {k: v.shape for k, v in batch.items()} == {k: tuple(v.shape) for k, v in expected.items()}
    assert batch["input_ids"].shape == (8, max(lengths))
    assert all(np.array_equal(batch[k], expected[k].numpy()) for k in batch)


@pytest.fixture(scope="module")
def tokenized_datasets(raw_datasets, small_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    return raw_datasets.map(lambda e: tokenizer(e["sentence1"], e["sentence2"], truncation=True), batched=True)


def test_3_3_fine_tuning_with_the_trainer(tokenized_datasets, small_checkpoint, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    data_collator = nanohf.DataCollatorWithPadding(tokenizer=tokenizer)
    training_args = nanohf.TrainingArguments(str(tmp_path / "test-trainer"), num_train_epochs=1,
                                             report_to="none")  # fmt: skip
    model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint, num_labels=2)
    trainer = nanohf.Trainer(model, training_args, train_dataset=tokenized_datasets["train"],
                             eval_dataset=tokenized_datasets["validation"], data_collator=data_collator,
                             processing_class=tokenizer)  # fmt: skip
    trainer.train()
    predictions = trainer.predict(tokenized_datasets["validation"])
    assert predictions.predictions.shape == (24, 2) and predictions.label_ids.shape == (24,)
    preds = np.argmax(predictions.predictions, axis=-1)
    metric = evaluate.load("glue", "mrpc")
    result = metric.compute(predictions=preds, references=predictions.label_ids)
    assert set(result) == {"accuracy", "f1"}

    def compute_metrics(eval_preds):
        metric = evaluate.load("glue", "mrpc")
        logits, labels = eval_preds
        predictions = np.argmax(logits, axis=-1)
        return metric.compute(predictions=predictions, references=labels)

    training_args = nanohf.TrainingArguments(str(tmp_path / "test-trainer"), eval_strategy="epoch",
                                             num_train_epochs=1, report_to="none")  # fmt: skip
    model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint, num_labels=2)
    trainer = nanohf.Trainer(model, training_args, train_dataset=tokenized_datasets["train"],
                             eval_dataset=tokenized_datasets["validation"], data_collator=data_collator,
                             processing_class=tokenizer, compute_metrics=compute_metrics)  # fmt: skip
    trainer.train()
    evaluations = [log for log in trainer.state.log_history if "eval_accuracy" in log]
    assert len(evaluations) == 1 and {"eval_f1", "eval_loss"} <= set(evaluations[0])


def test_3_3_removed_argument_fails_as_in_transformers(hf):
    for library in (nanohf, hf):  # transformers 5 renamed evaluation_strategy to eval_strategy
        with pytest.raises(TypeError, match="evaluation_strategy"):
            library.TrainingArguments("test-trainer", evaluation_strategy="epoch")


def _dataloaders(tokenized_datasets, tokenizer):
    tokenized = tokenized_datasets.remove_columns(["sentence1", "sentence2", "idx"])
    tokenized = tokenized.rename_column("label", "labels")
    tokenized.set_format("numpy")  # set_format("torch")
    assert tokenized["train"].column_names == ["labels", "input_ids", "token_type_ids", "attention_mask"]
    data_collator = nanohf.DataCollatorWithPadding(tokenizer=tokenizer)
    train_dataloader = nanohf.DataLoader(tokenized["train"], shuffle=True, batch_size=8, collate_fn=data_collator)
    eval_dataloader = nanohf.DataLoader(tokenized["validation"], batch_size=8, collate_fn=data_collator)
    return train_dataloader, eval_dataloader


def test_3_4_a_full_training_loop(tokenized_datasets, small_checkpoint):
    from tqdm.auto import tqdm

    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    train_dataloader, eval_dataloader = _dataloaders(tokenized_datasets, tokenizer)
    for batch in train_dataloader:  # noqa: B007 (the course's way to look at one batch)
        break
    assert set(batch) == {"labels", "input_ids", "token_type_ids", "attention_mask"} and batch["labels"].shape == (8,)
    model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint, num_labels=2)
    outputs = model(**batch)
    assert float(outputs.loss) > 0 and outputs.logits.shape == (8, 2)
    optimizer = nanohf.AdamW(model.parameters(), lr=5e-5)
    num_epochs = 2
    num_training_steps = num_epochs * len(train_dataloader)
    lr_scheduler = nanohf.get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0,
                                        num_training_steps=num_training_steps)  # fmt: skip
    assert num_training_steps == 16
    device = "cpu"  # torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    model.to(device)
    progress_bar = tqdm(range(num_training_steps))
    model.train()
    for _ in range(num_epochs):
        for batch in train_dataloader:
            outputs = model(**batch)
            loss = outputs.loss
            loss.backward()
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            progress_bar.update(1)
    assert progress_bar.n == 16 and lr_scheduler.get_last_lr() == [0.0]
    metric = evaluate.load("glue", "mrpc")
    model.eval()
    for batch in eval_dataloader:
        with nanohf.no_grad():
            outputs = model(**batch)
        logits = outputs.logits
        predictions = np.argmax(logits, axis=-1)  # torch.argmax(logits, dim=-1)
        metric.add_batch(predictions=predictions, references=batch["labels"])
    assert set(metric.compute()) == {"accuracy", "f1"}


def test_3_4_supercharge_with_accelerate(tokenized_datasets, small_checkpoint, tmp_path):
    from nanohf.accelerate import Accelerator, notebook_launcher

    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    output_dir = tmp_path / "model"

    def training_function():
        accelerator = Accelerator()
        train_dataloader, eval_dataloader = _dataloaders(tokenized_datasets, tokenizer)
        model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint, num_labels=2)
        optimizer = nanohf.AdamW(model.parameters(), lr=3e-5)
        train_dl, eval_dl, model, optimizer = accelerator.prepare(train_dataloader, eval_dataloader, model,
                                                                  optimizer)  # fmt: skip
        num_epochs = 1
        num_training_steps = num_epochs * len(train_dl)
        lr_scheduler = nanohf.get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0,
                                            num_training_steps=num_training_steps)  # fmt: skip
        model.train()
        for _ in range(num_epochs):
            for batch in train_dl:
                outputs = model(**batch)
                accelerator.backward(outputs.loss)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad()
        metric = evaluate.load("glue", "mrpc")
        model.eval()
        for batch in eval_dl:
            with nanohf.no_grad():
                predictions = model(**batch).logits.argmax(-1)
            metric.add_batch(predictions=accelerator.gather_for_metrics(predictions),
                             references=accelerator.gather_for_metrics(batch["labels"]))  # fmt: skip
        # chapter 7's loops end by saving the model this way
        accelerator.wait_for_everyone()
        unwrapped_model = accelerator.unwrap_model(model)
        unwrapped_model.save_pretrained(output_dir, save_function=accelerator.save)
        if accelerator.is_main_process:
            tokenizer.save_pretrained(output_dir)
        return metric.compute()

    with pytest.raises(ValueError, match="specify the number of devices"):  # as accelerate, without num_processes
        notebook_launcher(training_function)
    result = notebook_launcher(training_function, num_processes=1)
    assert set(result) == {"accuracy", "f1"}
    assert AutoModelForSequenceClassification.from_pretrained(output_dir).config.hidden_size == 32
    assert AutoTokenizer.from_pretrained(output_dir).vocab_size == 30522


# --- the book's chapter 2: text classification ---------------------------------------------------------------
@pytest.fixture(scope="module")
def emotions():
    """The book's emotions DatasetDict (text, label): SST-2's sentences here, 96 training and 48 validation."""
    splits = nanohf.load_glue("sst2")
    return nanohf.DatasetDict({
        name: splits[name].select(range(n)).rename_column("sentence", "text").remove_columns(["idx"])
        for name, n in (("train", 96), ("validation", 48))
    })  # fmt: skip


def test_book_2_the_dataset(emotions):
    import pandas

    train_ds = emotions["train"]
    assert len(train_ds) == 96 and train_ds.column_names == ["text", "label"]
    assert train_ds.features["label"].names == ["negative", "positive"]
    assert isinstance(train_ds[0]["text"], str) and train_ds["text"][:2] == [train_ds[0]["text"], train_ds[1]["text"]]
    emotions.set_format(type="pandas")
    df = emotions["train"][:]
    assert isinstance(df, pandas.DataFrame) and list(df.columns) == ["text", "label"]

    def label_int2str(row):
        return emotions["train"].features["label"].int2str(row)

    df["label_name"] = df["label"].apply(label_int2str)
    assert set(df["label_name"]) == {"negative", "positive"}
    df["Words Per Tweet"] = df["text"].str.split().apply(len)
    assert df["Words Per Tweet"].max() > 1
    emotions.reset_format()
    assert isinstance(emotions["train"][0], dict)


def test_book_2_tokenization(emotions, minilm_dir, hf):
    text = "Tokenizing text is a core task of NLP."
    tokenized_text = list(text)  # character tokenization
    token2idx = {ch: idx for idx, ch in enumerate(sorted(set(tokenized_text)))}
    input_ids = [token2idx[token] for token in tokenized_text]
    one_hot = np.eye(len(token2idx))[input_ids]  # F.one_hot(torch.tensor(input_ids), num_classes=len(token2idx))
    assert one_hot.shape == (38, 20)
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)  # "distilbert-base-uncased"
    theirs = hf.AutoTokenizer.from_pretrained(minilm_dir)
    encoded_text = tokenizer(text)
    assert dict(encoded_text) == dict(theirs(text))
    tokens = tokenizer.convert_ids_to_tokens(encoded_text.input_ids)
    assert tokens == theirs.convert_ids_to_tokens(encoded_text["input_ids"])
    assert tokenizer.convert_tokens_to_string(tokens) == theirs.convert_tokens_to_string(tokens)
    assert (tokenizer.vocab_size, tokenizer.model_max_length) == (theirs.vocab_size, theirs.model_max_length)
    assert tokenizer.model_input_names == theirs.model_input_names

    def tokenize(batch):
        return tokenizer(batch["text"], padding=True, truncation=True)

    emotions_encoded = emotions.map(tokenize, batched=True, batch_size=None)
    assert emotions_encoded["train"].column_names == ["text", "label", "input_ids", "token_type_ids",
                                                      "attention_mask"]  # fmt: skip
    expected = theirs(emotions["train"]["text"], padding=True, truncation=True)["input_ids"]
    assert emotions_encoded["train"]["input_ids"] == expected


def test_book_2_feature_extraction_and_logistic_regression(emotions, minilm_dir):
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir)
    model = AutoModel.from_pretrained(minilm_dir).to("cpu")
    text = "this is a test"
    inputs = tokenizer(text, return_tensors="np")
    assert inputs["input_ids"].shape == (1, 6)
    with nanohf.no_grad():
        outputs = model(**inputs)
    assert outputs.last_hidden_state.shape == (1, 6, 384)  # .size()
    assert outputs.last_hidden_state[:, 0].shape == (1, 384)
    emotions_encoded = emotions.map(lambda b: tokenizer(b["text"], padding=True, truncation=True), batched=True,
                                    batch_size=None)  # fmt: skip

    def extract_hidden_states(batch):
        inputs = {k: v for k, v in batch.items() if k in tokenizer.model_input_names}
        with nanohf.no_grad():
            last_hidden_state = model(**inputs).last_hidden_state
        return {"hidden_state": last_hidden_state[:, 0]}  # .cpu().numpy()

    emotions_encoded.set_format("numpy", columns=["input_ids", "attention_mask", "token_type_ids", "label"])
    emotions_hidden = emotions_encoded.map(extract_hidden_states, batched=True)
    assert "hidden_state" in emotions_hidden["train"].column_names
    X_train = np.array(emotions_hidden["train"]["hidden_state"])
    X_valid = np.array(emotions_hidden["validation"]["hidden_state"])
    y_train = np.array(emotions_hidden["train"]["label"])
    y_valid = np.array(emotions_hidden["validation"]["label"])
    assert X_train.shape == (96, 384) and X_valid.shape == (48, 384)
    lr_clf = LogisticRegression(max_iter=3000)
    lr_clf.fit(X_train, y_train)
    score = lr_clf.score(X_valid, y_valid)
    dummy_clf = DummyClassifier(strategy="most_frequent")
    dummy_clf.fit(X_train, y_train)
    assert score > dummy_clf.score(X_valid, y_valid), "MiniLM's [CLS] features should beat the majority class"
    assert confusion_matrix(y_valid, lr_clf.predict(X_valid), normalize="true").shape == (2, 2)


def test_book_2_fine_tuning(emotions, small_checkpoint, tmp_path):
    from sklearn.metrics import accuracy_score, f1_score

    tokenizer = AutoTokenizer.from_pretrained(small_checkpoint)
    emotions_encoded = emotions.map(lambda b: tokenizer(b["text"], padding=True, truncation=True), batched=True,
                                    batch_size=None)  # fmt: skip
    num_labels = 2
    model = AutoModelForSequenceClassification.from_pretrained(small_checkpoint, num_labels=num_labels).to("cpu")

    def compute_metrics(pred):
        labels = pred.label_ids
        preds = pred.predictions.argmax(-1)
        f1 = f1_score(labels, preds, average="weighted")
        acc = accuracy_score(labels, preds)
        return {"accuracy": acc, "f1": f1}

    batch_size = 16
    logging_steps = len(emotions_encoded["train"]) // batch_size
    model_name = str(tmp_path / "distilbert-base-uncased-finetuned-emotion")
    training_args = nanohf.TrainingArguments(
        output_dir=model_name,
        num_train_epochs=2,
        learning_rate=2e-5,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        weight_decay=0.01,
        eval_strategy="epoch",
        disable_tqdm=True,
        logging_steps=logging_steps,
        log_level="error",
        report_to="none",
    )  # evaluation_strategy= (transformers 5: eval_strategy); push_to_hub=True needs the hub
    trainer = nanohf.Trainer(model=model, args=training_args, compute_metrics=compute_metrics,
                             train_dataset=emotions_encoded["train"], eval_dataset=emotions_encoded["validation"],
                             processing_class=tokenizer)  # fmt: skip
    trainer.train()
    preds_output = trainer.predict(emotions_encoded["validation"])
    assert {"test_loss", "test_accuracy", "test_f1"} <= set(preds_output.metrics)
    y_preds = np.argmax(preds_output.predictions, axis=1)
    assert y_preds.shape == (48,)

    def forward_pass_with_label(batch):
        inputs = {k: v for k, v in batch.items() if k in tokenizer.model_input_names}
        with nanohf.no_grad():
            output = model(**inputs)
            pred_label = np.argmax(output.logits, axis=-1)
            log_probs = output.logits - np.log(np.exp(output.logits).sum(-1, keepdims=True))
            loss = -log_probs[np.arange(len(pred_label)), batch["label"]]  # cross_entropy(reduction="none")
        return {"loss": loss, "predicted_label": pred_label}

    emotions_encoded.set_format("numpy", columns=["input_ids", "attention_mask", "token_type_ids", "label"])
    emotions_encoded["validation"] = emotions_encoded["validation"].map(forward_pass_with_label, batched=True,
                                                                        batch_size=16)  # fmt: skip
    losses = np.array(emotions_encoded["validation"]["loss"])
    assert losses.shape == (48,) and (losses > 0).all()
    assert np.array_equal(np.array(emotions_encoded["validation"]["predicted_label"]), y_preds)

    trainer.save_model(model_name)
    classifier = nanohf.pipeline("text-classification", model=model_name)
    custom_tweet = "I saw a movie today and it was really good."
    preds = classifier(custom_tweet, top_k=None)
    assert len(preds) == num_labels and abs(sum(p["score"] for p in preds) - 1) < 1e-5
