"""Bad-input catalogue, `forecast train --resume RUN` after its table file changed: each was
'the data changed since RUN started: FILE is not the file it trained on (their SHA-256 differ)';
now the error names what changed, read from the table the run recorded when it started (rows
appended, rows removed from the end, columns reordered, renamed, added or removed, other values in
some rows; a renamed --target or --time column too, where the reader said 'not found'), and a run started on a DataFrame in Python, resumed with `--data FILE` holding other
data, is refused (it trained on that file unchecked). A run from before the tables were recorded
keeps the old message. `classify train --resume RUN` of a run started in Python on a file with
`sample_weight` resumed without the weights, silently (exit 0: the rest of the run trained unweighted);
now it is refused, naming the weights the resume does not give."""
import json

import numpy as np
import pandas as pd
import pytest

from catalogue_helpers import check, interrupted, train_once

TRAIN = ["forecast", "train", "--data", "{d}/sales.csv", "--target", "sales", "--time", "date", "--lookback", "4",
         "--horizon", "2", "--hidden-size", "4", "--layers", "1", "--epochs", "1", "--ensemble", "1",
         "--progress", "off", "--no-tensorboard", "--no-doctor", "--device", "cpu", "--out", "{out}"]


def sales(n=60):
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
                         "sales": np.round(10 + 5 * np.sin(np.arange(n) / 3), 2), "promo": np.arange(n) % 2})


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = tmp_path_factory.mktemp("resume_data")
    sales().to_csv(d / "sales.csv", index=False)
    train_once(TRAIN, d, d / "trained")
    import lstmkit
    lstmkit.Forecaster(lookback=4, horizon=2, hidden_size=4, num_layers=1, max_epochs=1, ensemble=1, progress="off",
                       tensorboard=False, doctor=False, device="cpu").fit(sales(), target="sales", time="date",
                                                                           out=d / "in_memory")
    return d


EDITS = [
    (lambda df: pd.concat([df, sales(65).iloc[60:]]), "has 5 more rows than when"),
    (lambda df: df.head(48), "has 12 fewer rows than when"),
    (lambda df: df[["sales", "date", "promo"]], "has its columns in another order"),
    (lambda df: df.rename(columns={"promo": "promotion"}), "'promotion' was 'promo'"),
    # the --target and --time columns renamed: were "target column 'sales' not found — available columns: …"
    (lambda df: df.rename(columns={"sales": "revenue"}), "'revenue' was 'sales' (its values are as they were)"),
    (lambda df: df.rename(columns={"date": "day"}), "'day' was 'date' (its values are as they were)"),
    (lambda df: df.assign(stores=3), "has a new column 'stores'"),
    (lambda df: df.drop(columns="promo"), "has no column 'promo' any more"),
    (lambda df: df.assign(sales=df.sales.where(df.index != 30, 99.0)), "other values in data rows 29-32"),
]


@pytest.mark.parametrize("edit, needle", EDITS, ids=[needle for _, needle in EDITS])
def test_resume_names_what_changed_in_the_table_file(edit, needle, d, tmp_path, capsys):
    run = interrupted(next((d / "trained").iterdir()), tmp_path / "run")
    before = (run / "lstmkit.json").read_bytes()
    try:
        edit(sales()).to_csv(d / "sales.csv", index=False)
        check(["forecast", "train", "--resume", run], 2, needle, tmp_path, capsys, d)
    finally:
        sales().to_csv(d / "sales.csv", index=False)
    assert (run / "lstmkit.json").read_bytes() == before


def test_a_run_from_before_the_tables_keeps_the_old_message(d, tmp_path, capsys):
    run = interrupted(next((d / "trained").iterdir()), tmp_path / "run")
    meta = json.loads((run / "lstmkit.json").read_text())
    del meta["data"]["tables"]
    (run / "lstmkit.json").write_text(json.dumps(meta))
    try:
        sales(61).to_csv(d / "sales.csv", index=False)
        check(["forecast", "train", "--resume", run], 2, "is not the file it trained on (their SHA-256 differ)",
              tmp_path, capsys, d)
    finally:
        sales().to_csv(d / "sales.csv", index=False)


def test_a_run_started_in_memory_resumed_with_a_file_of_other_data_is_refused(d, tmp_path, capsys):
    """It trained on the file unchecked: only a file's SHA-256 was compared with a file's."""
    run = interrupted(next((d / "in_memory").iterdir()), tmp_path / "run")
    sales().assign(sales=lambda df: df.sales + 1).to_csv(tmp_path / "other.csv", index=False)
    check(["forecast", "train", "--resume", run, "--data", tmp_path / "other.csv"], 2,
          "started on a DataFrame given in memory as data (to fit() in Python); this resume reads the file", tmp_path,
          capsys, d)


def test_a_cli_resume_of_a_run_trained_with_sample_weight_names_the_weights(tmp_path, capsys):
    """The weights were only in the fingerprint of the data given in memory, which a file given again is
    not compared with: the resume trained on, unweighted."""
    import lstmkit
    from lstmkit.errors import TrainingInterrupted
    from lstmkit.train.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, trainer, logs) -> None:
            raise KeyboardInterrupt

    texts = [f"the film {i} was {'good great fine bad awful poor'.split()[i % 6]}" for i in range(40)]
    pd.DataFrame({"text": texts, "label": ["pos" if i % 6 < 3 else "neg" for i in range(40)]}).to_csv(
        tmp_path / "reviews.csv", index=False)
    est = lstmkit.TextClassifier(hidden_size=4, max_epochs=2, min_freq=1, word_scores=False, progress="off",
                                 tensorboard=False, doctor=False, device="cpu")
    with pytest.raises(TrainingInterrupted):
        est.fit(str(tmp_path / "reviews.csv"), sample_weight=np.linspace(1, 2, 40), out=tmp_path / "started",
                callbacks=[CtrlC()])
    check(["classify", "train", "--resume", est.run_dir_], 2, "was trained with sample_weight (40 weights), and this "
          "resume gives none", tmp_path, capsys)


def test_a_cli_resume_of_a_run_validated_on_weighted_data_names_the_weights(tmp_path, capsys):
    """val_data=(X, y, w) given in Python weighs the validation loss early stopping follows; a resume
    from the command line holds no such data, and would have split a validation part off the file."""
    import lstmkit
    from lstmkit.errors import TrainingInterrupted
    from lstmkit.train.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, trainer, logs) -> None:
            raise KeyboardInterrupt

    texts = [f"the film {i} was {'good great fine bad awful poor'.split()[i % 6]}" for i in range(40)]
    labels = ["pos" if i % 6 < 3 else "neg" for i in range(40)]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(tmp_path / "reviews.csv", index=False)
    est = lstmkit.TextClassifier(hidden_size=4, max_epochs=2, min_freq=1, progress="off", tensorboard=False,
                                 doctor=False, device="cpu")
    with pytest.raises(TrainingInterrupted):
        est.fit(str(tmp_path / "reviews.csv"), val_data=(texts[:12], labels[:12], np.linspace(1, 2, 12)),
                out=tmp_path / "started", callbacks=[CtrlC()])
    check(["classify", "train", "--resume", est.run_dir_], 2, "was trained with weights in val_data (12), and this "
          "resume gives none", tmp_path, capsys)
