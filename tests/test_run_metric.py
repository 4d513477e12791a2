"""Each run's headline metric, read from its metrics.json by its room's ``config.headline_metric``: the metric
column of ``lstmkit list`` (and ``--sort metric``), its ``--json`` and the service's ``/models`` and ``/model``.
Runs of every task written by hand (metrics.json as each task writes it), one real tiny classifier run, an
interrupted one and runs whose metrics.json is missing, corrupt or another program's."""
import json
import math
import warnings
from pathlib import Path

import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit.run_list import format_runs, list_runs, sort_by_metric
from lstmkit.run_metric import headline_of
from lstmkit.runs import FORMAT_VERSION, META_FILE
from lstmkit.version import __version__
from serve_helpers import tiny_text_classifier


def _forecast(mase):
    row = {"MAE": 0.5, "RMSE": 0.7, "MAPE": 3.0, "sMAPE": 2.9, "MASE": mase}
    return {"horizon": 4, "metrics": {"lstm": row, "naive": {**row, "MASE": 1.0}, "seasonal_naive": row}}


def _speech_ctc(wer, beam_wer=None):
    val = {"n": 8, "wer": wer, "cer": wer / 3, "sentence_accuracy": 0.25, "beam": 1}
    return {"val": val, **({"val_beam": {**val, "wer": beam_wer, "beam": 4}} if beam_wer is not None else {})}


def _translate(bleu, beam_bleu):
    val = {"bleu": bleu, "chrf": 40.0, "sentences": 10, "sentences_per_second": 50.0, "beam": 1,
           "bleu_signature": "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.0",
           "chrf_signature": "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.0"}
    return {"val": val, "val_beam": {**val, "bleu": beam_bleu, "beam": 5}}


def _run(folder: Path, task: str, status: str = "finished", metrics=None, config=None, epochs: int = 3,
         data=None) -> Path:
    """A run folder: lstmkit.json with the fields the readers read (``data``: its data summary), and ``metrics``
    as metrics.json (a str: the file's text as it is)."""
    folder.mkdir(parents=True)
    meta = {"format_version": FORMAT_VERSION, "task": task, "lstmkit_version": __version__, "status": status,
            "config": {"model": "lstm", **(config or {})}, "training": {"epochs_run": epochs},
            **({"data": data} if data is not None else {})}
    (folder / META_FILE).write_text(json.dumps(meta))
    if metrics is not None:
        (folder / "metrics.json").write_text(metrics if isinstance(metrics, str) else json.dumps(metrics))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("metric") / "runs"
    with warnings.catch_warnings():                  # its validation texts are training texts too: said, and known
        warnings.simplefilter("ignore", UserWarning)
        real = tiny_text_classifier(root).run_dir_                      # classify-<stamp>: a real, tiny run
    _run(root / "classify-20260101-000000", "classify", metrics={"val": {"accuracy": 0.25, "n": 4},
                                                                 "test": {"accuracy": 0.875, "n": 8}})
    _run(root / "classify-20260101-000001", "classify", metrics={"train": {"accuracy": 1.0, "n": 8}})  # none held out
    _run(root / "forecast-20260101-000001", "forecast", metrics=_forecast(0.93214))
    _run(root / "forecast-20260101-000002", "forecast", metrics=_forecast(0.51237))
    _run(root / "forecast-20260101-000003", "forecast", metrics=_forecast(None))      # MASE NaN, written null
    # interrupted while a former fit's metrics.json was still in its folder: not this run's metric
    _run(root / "forecast-20260101-000004", "forecast", status="interrupted", metrics=_forecast(0.1))
    _run(root / "forecast-20260101-000005", "forecast")                                 # finished, no metrics.json
    _run(root / "forecast-20260101-000006", "forecast", metrics="{not json")           # corrupt
    _run(root / "forecast-20260101-000007", "forecast", metrics={"score": 0.2})        # another program's
    _run(root / "forecast-20260101-000008", "forecast", metrics=[1, 2])                # not a JSON object
    _run(root / "lm-20260101-000000", "lm", metrics={"val": {"perplexity": 10.3628985, "cross_entropy": 2.338,
                                                              "tokens": 11, "lines": 1, "unk_rate": 0.0, "level": "char"}})
    _run(root / "speech-20260101-000000", "speech", metrics=_speech_ctc(0.41234, beam_wer=0.35551))
    _run(root / "speech-20260101-000001", "speech", metrics={"val": {"accuracy": 0.8, "n": 10}},
         config={"mode": "classify"})
    _run(root / "speech-20260101-000002", "speech", metrics=_speech_ctc(0.30001))
    _run(root / "translate-20260101-000000", "translate", metrics=_translate(12.3456, 14.5678))
    return root, real


def _names(cell: str, run: str) -> bool:
    """Whether a run column's ``cell`` is the path ``run``: whole, or its end after "…" (cut to 80 columns)."""
    return cell == run or cell.startswith("…") and len(cell) > 20 and run.endswith(cell[1:])


def _rows(root):
    return {Path(r["run"]).name: r for r in list_runs(root)}


def test_each_finished_run_shows_its_tasks_headline_metric_from_its_metrics_json(runs):
    root, real = runs
    rows = _rows(root)
    said = json.loads((real / "metrics.json").read_text())["val"]["accuracy"]
    assert rows[real.name]["metric"] == {"name": "accuracy", "value": said, "part": "val", "split": "validation",
                                         "higher_is_better": True, "shown": f"accuracy {said:.4f} (val)", "int8": False}
    # the test part, not validation, and said so: a classifier's accuracy is of either, not to be compared alike
    assert rows["classify-20260101-000000"]["metric"]["value"] == 0.875
    assert rows["classify-20260101-000000"]["metric"]["shown"] == "accuracy 0.8750 (test)"
    assert rows["classify-20260101-000000"]["metric"]["split"] == "test"
    # nothing held out: the accuracy on the data it trained on, said so
    assert rows["classify-20260101-000001"]["metric"]["shown"] == "accuracy 1.0000 (train)"
    assert [(n, rows[n]["metric"]["shown"], rows[n]["metric"]["part"]) for n in (
        "forecast-20260101-000001", "forecast-20260101-000003", "lm-20260101-000000", "speech-20260101-000000",
        "speech-20260101-000001", "translate-20260101-000000")] == [
        ("forecast-20260101-000001", "MASE 0.9321", "test"),
        ("forecast-20260101-000003", "MASE n/a", "test"),             # undefined: as the metrics table says it
        ("lm-20260101-000000", "perplexity 10.363", "val"),
        ("speech-20260101-000000", "WER 0.3555", "val_beam"),         # the beam search the model transcribes with
        ("speech-20260101-000001", "accuracy 0.8000", "val"),         # a spoken-word classifier
        ("translate-20260101-000000", "BLEU 14.57", "val_beam")]
    # every task's split in one word a script reads alike: validation for val and val_beam
    assert [rows[n]["metric"]["split"] for n in ("forecast-20260101-000001", "lm-20260101-000000",
                                                 "speech-20260101-000000", "classify-20260101-000001")] \
        == ["test", "validation", "validation", "train"]
    assert rows["forecast-20260101-000003"]["metric"]["value"] is None
    # lower is better for MASE, perplexity and WER; higher for BLEU and accuracy (a spoken-word classifier's too)
    assert [rows[n]["metric"]["higher_is_better"] for n in ("forecast-20260101-000001", "lm-20260101-000000",
                                                            "speech-20260101-000000", "translate-20260101-000000",
                                                            "speech-20260101-000001", "classify-20260101-000000",
                                                            "classify-20260101-000001")] \
        == [False, False, False, True, True, True, True]


def test_the_value_shown_is_the_one_the_runs_own_report_prints(runs):
    from lstmkit.tasks.forecast.metrics import format_table
    from lstmkit.tasks.lm.cli import _format as lm_report
    from lstmkit.tasks.speech.metrics import format_recognition
    from lstmkit.tasks.translate.cli import _format as translate_report
    from lstmkit.train.metrics import format_report
    root, real = runs
    rows = _rows(root)

    def number(name):
        return rows[name]["metric"]["shown"].split()[-1]

    def metrics(name):
        return json.loads((root / name / "metrics.json").read_text())

    assert f"accuracy {rows[real.name]['metric']['shown'].split()[1]}" in format_report(metrics(real.name)["val"])
    table = format_table(metrics("forecast-20260101-000001")["metrics"]).splitlines()
    assert table[1].split()[0] == "lstm" and table[1].split()[-1] == number("forecast-20260101-000001")
    assert f"perplexity {number('lm-20260101-000000')} " in lm_report("validation", metrics("lm-20260101-000000")["val"])
    assert f"WER {number('speech-20260101-000000')} " in format_recognition(metrics("speech-20260101-000000")["val_beam"])
    assert f"BLEU {number('translate-20260101-000000')} " in translate_report(
        "validation", metrics("translate-20260101-000000")["val_beam"])


@pytest.mark.parametrize("name", ["forecast-20260101-000004", "forecast-20260101-000005", "forecast-20260101-000006",
                                  "forecast-20260101-000007", "forecast-20260101-000008"],
                         ids=["interrupted", "none", "corrupt", "foreign", "not-an-object"])
def test_a_run_without_metrics_of_its_own_shows_a_blank_not_a_zero_nor_an_error(runs, name, monkeypatch):
    root, _ = runs
    row = _rows(root)[name]
    assert row["metric"] is None and row["state"] in ("finished", "interrupted")
    monkeypatch.chdir(root.parent)
    line = next(line for line in format_runs(list_runs(Path("runs"))).splitlines()
                if _names(line.split()[0], f"runs/{name}"))
    epochs = ["3"] if row["state"] == "finished" else []            # an interrupted run without a checkpoint: none
    assert line.split()[1:] == ["forecast", *epochs, row["state"]]


def test_the_table_has_a_metric_column_and_fits_80_columns_for_runs_named_as_train_names_them(runs, monkeypatch):
    root, real = runs
    monkeypatch.chdir(root.parent)
    lines = format_runs(list_runs(Path("runs"))).splitlines()
    assert lines[0].split() == ["run", "task", "epochs", "metric", "state"]
    start = lines[0].index("metric")
    line = next(line for line in lines if _names(line.split()[0], "runs/translate-20260101-000000"))
    assert line[start:].split("  ")[0] == "BLEU 14.57"
    # every task's runs, a classifier's "accuracy 1.0000 (train)" and "(test)" beside "translate" and "interrupted":
    # within 80, the runs' paths cut at their start where they must be (the name whole)
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert all(_names(line.split()[0], r["run"]) for line, r in zip(lines[1:], list_runs("runs")))
    assert len(lines) == len(list_runs("runs")) + 1                    # one line a run: each state fits beside it


def test_a_long_folder_name_is_cut_at_its_start_and_the_json_keeps_it_whole(tmp_path, monkeypatch, capsys):
    """An interrupted language model in a long folder beside a finished one, perplexity 10.363: the row was 81
    columns and more. Its path is cut at its start (its name whole where it fits), the --json path whole."""
    folder = tmp_path / "experiments-december-2026-with-a-long-name" / "runs"
    lm = {"val": {"perplexity": 10.3628985, "tokens": 11}}
    _run(folder / "lm-20260101-000000", "lm", metrics=lm)
    _run(folder / "lm-20260101-000001", "lm", status="interrupted")
    long = _run(folder / "lm-wikitext-2-char-level-three-layers-dropout-0.3-20260101", "lm", metrics=lm)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(["list", folder], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80 and len(lines) == 4, out
    assert lines[1].split()[0] in ("…/runs/lm-20260101-000000", "…/lm-20260101-000000")      # its leading folders
    assert lines[1].split()[-2:] == ["10.363", "finished"]
    assert lines[2].split()[0].endswith("/lm-20260101-000001") and lines[2].split()[1:] == ["lm", "interrupted"]
    cell = lines[3].split()[0]                                       # a name longer than the column: its end
    assert cell.startswith("…") and long.name.endswith(cell[1:]) and len(cell) >= 20
    code, out, err = run_cli(["list", folder, "--json"], capsys)
    assert [r["run"] for r in json.loads(out)] == [str(folder / n) for n in (
        "lm-20260101-000000", "lm-20260101-000001", long.name)]
    # narrower than 80: lines within the terminal (they were 80 wide, each wrapped into the next), the runs in
    # columns at 60, one block a run at 40 (its path, then its task and metric and its state under it)
    monkeypatch.setenv("COLUMNS", "60")
    narrow = run_cli(["list", folder], capsys)[1].splitlines()
    assert max(map(len, narrow)) <= 60 and narrow[0].split()[:2] == ["run", "task"], narrow
    assert [line.split()[0] for line in narrow if not line.startswith(" ")][1:] == [
        "…/lm-20260101-000000", "…/lm-20260101-000001", "…ropout-0.3-20260101"]
    assert "".join(narrow).split()[-1] == "finished" and "    interrupted" in narrow
    monkeypatch.setenv("COLUMNS", "40")
    code, out, err = run_cli(["list", folder], capsys)
    blocks = out.splitlines()
    assert code == 0 and max(map(len, blocks)) <= 40, out
    said = ["    lm, epochs 3, perplexity 10.363", "    finished"]
    assert blocks == ["…/runs/lm-20260101-000000", *said, "…/runs/lm-20260101-000001", "    lm", "    interrupted",
                      "…" + long.name[-39:], *said]
    monkeypatch.setenv("COLUMNS", "80")
    assert run_cli(["list", folder], capsys)[1].splitlines() == lines         # 80 as it was
    monkeypatch.setenv("COLUMNS", "200")                            # a wider terminal: every path whole
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(["list", folder.relative_to(tmp_path)], capsys)
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(folder.relative_to(tmp_path) / n) for n in (
        "lm-20260101-000000", "lm-20260101-000001", long.name)]
    assert max(map(len, out.splitlines())) <= 200


def test_a_state_too_long_for_the_line_goes_on_under_it_whole():
    """A failure's message (or a killed run's state) is not cut: it goes on in indented lines under its run's."""
    state = ("failed in epoch 2: TrainingDiverged: the loss became inf at epoch 2, and a longer message after it "
             "than one line holds")
    rows = [{"run": "runs/classify-20260101-000000", "task": "classify", "epochs": 2, "state": state,
             "metric": None},
            {"run": "runs/classify-20260101-000001", "task": "classify", "epochs": 3, "state": "finished",
             "metric": {"shown": "accuracy 0.8750 (test)"}}]
    lines = format_runs(rows).splitlines()
    assert max(map(len, lines)) <= 80, "\n".join(lines)
    first = next(k for k, line in enumerate(lines) if "classify-20260101-000000" in line)
    under = [line for line in lines[first + 1:] if line.startswith("    ")]
    said = " ".join([lines[first].split("classify  2")[1].strip(), *(line.strip() for line in under)]).strip()
    assert said == state and under and lines[-1].endswith("finished")


def test_sort_by_metric_puts_each_tasks_best_run_first_and_the_runs_without_one_last(runs):
    root, real = runs
    names = [Path(r["run"]).name for r in sort_by_metric(list_runs(root))]
    assert json.loads((real / "metrics.json").read_text())["val"]["accuracy"] > 0.875      # 1.0: its texts repeat
    assert names == [
        "classify-20260101-000000",                                       # scored on its test file: first,
        "classify-20260101-000001",                                       # then one scored on its training data;
        real.name,                                                        # the real run's data is other data
        "forecast-20260101-000002", "forecast-20260101-000001",          # lower MASE first
        "forecast-20260101-000003", "forecast-20260101-000004", "forecast-20260101-000005",   # then the rest, in
        "forecast-20260101-000006", "forecast-20260101-000007", "forecast-20260101-000008",   # their order
        "lm-20260101-000000",
        "speech-20260101-000002", "speech-20260101-000000",              # WER lower first: 0.3000, 0.3555
        "speech-20260101-000001",                                         # its spoken-word classifier apart
        "translate-20260101-000000"]


def test_lstmkit_list_sort_metric_and_json_keep_their_keys_and_add_the_metric(runs, capsys, monkeypatch):
    root, _ = runs
    monkeypatch.chdir(root.parent)
    code, out, err = run_cli(["list", "runs", "--sort", "metric", "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert all(set(r) == {"run", "task", "status", "state", "epochs", "written", "metric", "data"} for r in rows)
    forecasts = [(Path(r["run"]).name, r["metric"] and r["metric"]["value"]) for r in rows if r["task"] == "forecast"]
    assert forecasts[:2] == [("forecast-20260101-000002", 0.51237), ("forecast-20260101-000001", 0.93214)]
    code, out, err = run_cli(["list", "runs", "--sort", "metric"], capsys)
    assert code == 0 and len(out.splitlines()) == len(rows) + 1
    assert all(_names(line.split()[0], r["run"]) for line, r in zip(out.splitlines()[1:], rows))
    code, _, err = run_cli(["list", root, "--sort", "mase"], capsys)
    assert_user_error(code, err, "--sort must be name or metric, got 'mase'", "--sort metric")


def test_headline_of_reads_a_run_folder_alone(runs, tmp_path):
    root, real = runs
    assert headline_of(real).text.startswith("accuracy ")
    past = _run(tmp_path / "classify-20260101-000000", "classify", metrics='{"val": {"accuracy": 1%s}}' % ("0" * 400))
    assert headline_of(past) is None and list_runs(tmp_path)[0]["metric"] is None
    assert headline_of(root / "forecast-20260101-000006") is None      # corrupt metrics.json: no error
    assert headline_of(root / "nowhere") is None


def test_models_and_model_name_each_runs_headline_metric(runs):
    pytest.importorskip("fastapi")
    from asgi_client import Client, strict_json
    from lstmkit.deploy.server import create_app
    _, real = runs
    want = headline_of(real).to_dict()
    assert not math.isnan(want["value"])
    client = Client(create_app({"reviews": real}, engine="torch"))
    try:
        status, raw = client.request("GET", "/models")
        assert status == 200 and [(m["name"], m["metric"]) for m in strict_json(raw)["models"]] == [("reviews", want)]
        status, raw = client.request("GET", "/model")
        assert status == 200 and strict_json(raw)["metric"] == want
        status, raw = client.request("GET", "/models/reviews")
        assert status == 200 and strict_json(raw)["metric"] == want
    finally:
        client.close()


@pytest.mark.parametrize("value", [True, False, "0.9", [0.9], {"mean": 0.9}, 10 ** 400],
                         ids=["true", "false", "text", "list", "mapping", "past-a-float"])
def test_a_value_that_is_no_number_is_no_headline_not_a_one_nor_an_error(value):
    """JSON's true is no accuracy of 1.0 (Python's bool is an int), "0.9" no number to round, and an int of 401
    digits none a float holds (an OverflowError traceback from lstmkit list): another program's metrics.json,
    read as no metric at all."""
    from lstmkit.config import Headline
    assert Headline.read({"accuracy": value}, "accuracy", "accuracy", ".4f", "val", higher_is_better=True) is None
    # an int is a number: WER 0 of a perfect recogniser, as a float
    zero = Headline.read({"wer": 0}, "wer", "WER", ".4f", "val", higher_is_better=False)
    assert zero.value == 0.0 and isinstance(zero.value, float) and zero.text == "WER 0.0000"


@pytest.mark.parametrize("task", [7, None, ["forecast"], "Forecast", "_base", ""])
def test_a_record_whose_task_is_no_task_of_this_lstmkit_has_no_headline(tmp_path, task):
    """A hand-edited or foreign lstmkit.json ("task": 7, or a name no room has) is listed without a metric,
    never a TypeError from the task lookup."""
    (tmp_path / "metrics.json").write_text(json.dumps({"val": {"accuracy": 0.5}, "test": {"accuracy": 0.5}}))
    assert headline_of(tmp_path, {"task": task, "config": {}}) is None
    assert headline_of(tmp_path, {"task": "classify", "config": {}}).text == "accuracy 0.5000 (test)"  # it reads


def test_a_run_scored_on_its_training_data_sorts_before_one_without_a_number_even_at_accuracy_0(tmp_path):
    """Best first, then the runs scored on the data they trained on, then those with no number: a classifier
    with nothing held out that got every training example wrong (accuracy 0, the key's number -0.0) still has
    a number, and comes before a finished run without metrics.json whatever their names' order."""
    _run(tmp_path / "classify-20260101-000000", "classify")                                  # no metrics.json
    _run(tmp_path / "classify-20260101-000001", "classify", metrics={"train": {"accuracy": 0.0, "n": 8}})
    _run(tmp_path / "classify-20260101-000002", "classify", metrics={"val": {"accuracy": 0.5, "n": 8}})
    assert [Path(r["run"]).name[-6:] for r in sort_by_metric(list_runs(tmp_path))] == ["000002", "000001", "000000"]


def _int8(folder: Path, source: Path, task: str, fp32: dict, chosen: dict, config=None) -> Path:
    """An int8 run as ``lstmkit export int8`` writes it: lstmkit.json with its ``quantization`` record (no
    metrics.json) and export_report.json with the float model's and the engine's test metrics."""
    run = _run(folder, task, config=config)
    meta = json.loads((run / META_FILE).read_text())
    meta["quantization"] = {"dtype": "qint8", "engine": "torch", "source_run": str(source.resolve())}
    (run / META_FILE).write_text(json.dumps(meta))
    (run / "export_report.json").write_text(json.dumps({"fp32": {"metrics": fp32}, "engine": "torch",
                                                         "chosen": {"metrics": chosen}}))
    return run


def test_an_int8_run_shows_its_engines_number_where_it_is_the_float_runs_metric_of_the_same_data(tmp_path):
    """An int8 run's metric was blank though export_report.json scores it: shown, marked int8, where the report's
    float32 number is the source run's own (the same metric of the same examples); blank where the export scored
    other data (--data), or its source run is gone."""
    root = tmp_path / "runs"
    source = _run(root / "forecast-20260101-000000", "forecast", metrics=_forecast(0.93214))
    row = _forecast(0.93214)["metrics"]["lstm"]
    _int8(root / "forecast-20260101-000000-int8", source, "forecast", fp32=row, chosen={**row, "MASE": 0.93871})
    # --data other.csv: the float model's MASE there is another number, and so the int8 one is of other data
    _int8(root / "forecast-20260101-000000-int8-other", source, "forecast", fp32={**row, "MASE": 1.2},
          chosen={**row, "MASE": 1.21})
    classify = _run(root / "classify-20260101-000000", "classify", metrics={"val": {"accuracy": 0.9},
                                                                            "test": {"accuracy": 0.875, "n": 8}})
    _int8(root / "classify-20260101-000000-int8", classify, "classify", fp32={"accuracy": 0.875, "macro_f1": 0.8},
          chosen={"accuracy": 0.8625, "macro_f1": 0.79})
    gone = _run(tmp_path / "elsewhere" / "classify-20260101-000001", "classify", metrics={"test": {"accuracy": 0.5}})
    _int8(root / "classify-20260101-000001-int8", gone, "classify", fp32={"accuracy": 0.5}, chosen={"accuracy": 0.5})
    import shutil
    shutil.rmtree(gone)
    rows = _rows(root)
    got = rows["forecast-20260101-000000-int8"]["metric"]
    assert (got["value"], got["shown"], got["int8"], got["split"]) == (0.93871, "MASE 0.9387 (int8)", True, "test")
    assert rows["forecast-20260101-000000"]["metric"]["int8"] is False
    assert rows["forecast-20260101-000000-int8-other"]["metric"] is None
    got = rows["classify-20260101-000000-int8"]["metric"]
    assert (got["value"], got["shown"]) == (0.8625, "accuracy 0.8625 (test, int8)")
    assert rows["classify-20260101-000001-int8"]["metric"] is None
    lines = format_runs(list_runs(root)).splitlines()
    assert max(map(len, lines)) <= 80 and any(line.split()[-4:] == ["MASE", "0.9387", "(int8)", "finished"]
                                              for line in lines)


def test_an_int8_run_shows_its_number_by_the_float_runs_headline_its_report_kept_without_the_float_run(tmp_path):
    """The report keeps the float run's headline (source_headline): its int8 run's number shows after the float
    run moved, compared with the kept number as with the float run's own (other data: blank); a report with no
    such record (an older export) still reads the float run, and an edited record that is no headline is none."""
    root = tmp_path / "runs"
    gone = tmp_path / "moved-away"
    kept = {"name": "accuracy", "value": 0.875, "spec": ".4f", "part": "test", "higher_is_better": True,
            "split_shown": True}

    def int8(name, fp32, chosen, record):
        run = _int8(root / name, gone, "classify", fp32=fp32, chosen=chosen)
        report = json.loads((run / "export_report.json").read_text())
        (run / "export_report.json").write_text(json.dumps({**report, "source_headline": record}))
    int8("kept-int8", {"accuracy": 0.875}, {"accuracy": 0.8625}, kept)
    int8("other-data-int8", {"accuracy": 0.6}, {"accuracy": 0.61}, kept)
    int8("none-int8", {"accuracy": 0.875}, {"accuracy": 0.8625}, None)                 # the float run had none
    int8("edited-int8", {"accuracy": 0.875}, {"accuracy": 0.8625}, {**kept, "spec": "not a spec"})
    int8("true-int8", {"accuracy": 0.875}, {"accuracy": 0.8625}, {**kept, "value": True})
    rows = _rows(root)
    got = rows["kept-int8"]["metric"]
    assert (got["value"], got["shown"], got["split"], got["int8"]) == (0.8625, "accuracy 0.8625 (test, int8)",
                                                                       "test", True)
    assert [rows[n]["metric"] for n in ("other-data-int8", "none-int8", "edited-int8", "true-int8")] == [None] * 4


def test_an_int8_run_whose_source_has_no_number_or_whose_report_lacks_the_metric_has_none(tmp_path):
    """No headline, and no error, where there is nothing to compare the report's float32 number with (the source
    run has no metrics.json, or its MASE is undefined, null; the report's float32 metrics lack MASE) or the report
    holds no engine's metrics."""
    root = tmp_path / "runs"
    row = _forecast(0.5)["metrics"]["lstm"]
    bare = _run(root / "forecast-20260101-000000", "forecast")                            # no metrics.json
    _int8(root / "bare-int8", bare, "forecast", fp32=row, chosen=row)
    undefined = _run(root / "forecast-20260101-000001", "forecast", metrics=_forecast(None))
    # export int8 --data other.csv: a MASE there, none of the source's own data to compare it with
    _int8(root / "undefined-int8", undefined, "forecast", fp32=row, chosen=row)
    scored = _run(root / "forecast-20260101-000002", "forecast", metrics=_forecast(0.5))
    _int8(root / "no-mase-int8", scored, "forecast", fp32={"MAE": 0.5}, chosen={"MAE": 0.5})
    lacking = _int8(root / "no-engine-int8", scored, "forecast", fp32=row, chosen=row)
    (lacking / "export_report.json").write_text(json.dumps({"fp32": {"metrics": row}, "engine": "torch"}))
    _int8(root / "kept-int8", scored, "forecast", fp32=row, chosen={**row, "MASE": 0.52})
    rows = _rows(root)
    assert [rows[name]["metric"] for name in ("bare-int8", "undefined-int8", "no-mase-int8", "no-engine-int8")] \
        == [None] * 4
    assert rows["kept-int8"]["metric"]["shown"] == "MASE 0.52 (int8)"                     # its report's number


def test_evaluated_keys_name_the_tasks_headline_of_what_was_scored_and_null_for_an_unknown_task(tmp_path):
    """``evaluate --json``'s shared keys, of run folders written by hand: a classifier's accuracy of the test file
    it scored (higher is better), a forecaster's MASE (lower is better); no metric where the shaped numbers lack
    it, nor for a task this lstmkit has not."""
    from lstmkit.run_metric import EVALUATED_KEYS, evaluated_keys
    classify = _run(tmp_path / "classify-20260101-000000", "classify")
    said = evaluated_keys(classify, "test.csv", {"test": {"accuracy": 0.75, "n": 8}})
    assert list(said) == list(EVALUATED_KEYS)
    assert said == {"run": str(classify), "task": "classify", "data": "test.csv",
                    "metric": {"name": "accuracy", "value": 0.75, "higher_is_better": True}}
    forecast = _run(tmp_path / "forecast-20260101-000000", "forecast")
    assert evaluated_keys(forecast, "s.csv", _forecast(0.5))["metric"] == {"name": "MASE", "value": 0.5,
                                                                            "higher_is_better": False}
    assert evaluated_keys(classify, "test.csv", {"score": 0.75})["metric"] is None
    other = _run(tmp_path / "other-20260101-000000", "weather")
    assert evaluated_keys(other, "w.csv", {"test": {"accuracy": 0.75}}) == {
        "run": str(other), "task": "weather", "data": "w.csv", "metric": None}


def test_an_int8_lm_shows_its_number_where_the_float_score_differs_only_in_float32_rounding(tmp_path):
    """A char LM of short lines (no line read in pieces) exported: the report's float32 perplexity of its
    held-out lines, 19.781985965..., was training's 19.781985927... but for float32 sums taken in another
    order (2e-9 apart), and its int8 run's metric was blank; scored in pieces, 19.9, it stays blank."""
    root = tmp_path / "runs"
    val = {"perplexity": 19.781985927124072, "cross_entropy": 2.984771721919361, "tokens": 4753}
    source = _run(root / "lm-20260101-000000", "lm", metrics={"val": val})
    _int8(root / "lm-20260101-000000-int8", source, "lm",
          fp32={"perplexity": 19.781985965327546, "cross_entropy": 2.9847717238505864},
          chosen={"perplexity": 19.782382598306373, "cross_entropy": 2.9847917738598873})
    _int8(root / "lm-20260101-000000-int8-pieces", source, "lm", fp32={"perplexity": 19.9, "cross_entropy": 2.99},
          chosen={"perplexity": 19.91, "cross_entropy": 2.991})
    rows = _rows(root)
    got = rows["lm-20260101-000000-int8"]["metric"]
    assert (got["value"], got["int8"]) == (19.782382598306373, True) and got["shown"].endswith("(int8)")
    assert rows["lm-20260101-000000-int8-pieces"]["metric"] is None


def test_list_sort_help_says_runs_rank_by_task_then_data_then_metric(capsys, monkeypatch):
    # classifiers of different datasets were ranked against each other by accuracy
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run_cli(["list", "--help"], capsys)
    assert code == 0
    said = " ".join(out.split())
    assert "metric: by task, then by data (runs on the same data files, by content, rank together)" in said
    assert "Runs on other data are never ranked against each other" in said


def _digests(files=None, memory=None):
    """A data summary's digests: ``files`` {role: SHA-256} of data files, ``memory`` {argument: fingerprint}."""
    return {"source": "/somewhere/x.csv", "sha256": files or {}, "memory_sha256": memory or {}}


def test_sort_by_metric_ranks_the_runs_of_one_data_together_never_against_other_data(tmp_path):
    """Within a task, by data, then by metric: a classifier of an easy dataset (accuracy 0.99) was ranked above
    every run of a hard one; now each dataset's runs are ranked among themselves, the datasets in the order of
    their first runs, the runs that recorded no digest (piped data, older runs) a group of their own. The same
    file's content read from another place is the same data."""
    easy, hard = {"source": "a" * 64}, {"source": "b" * 64}
    test = lambda acc: {"test": {"accuracy": acc, "n": 8}}                     # noqa: E731
    _run(tmp_path / "classify-20260101-000000", "classify", metrics=test(0.6), data=_digests(hard))
    _run(tmp_path / "classify-20260101-000001", "classify", metrics=test(0.99), data=_digests(easy))
    _run(tmp_path / "classify-20260101-000002", "classify", metrics=test(0.9), data={"source": None})  # piped
    moved = _digests(hard)
    moved["source"] = "/elsewhere/copy-of-x.csv"                              # the same content from elsewhere
    _run(tmp_path / "classify-20260101-000003", "classify", metrics=test(0.8), data=moved)
    _run(tmp_path / "classify-20260101-000004", "classify", metrics=test(0.7), data=_digests(easy))
    _run(tmp_path / "classify-20260101-000005", "classify", metrics=test(0.95), data=_digests(memory={"data": "c"}))
    _run(tmp_path / "classify-20260101-000006", "classify", metrics=test(0.5), data=_digests(memory={"data": "c"}))
    _run(tmp_path / "classify-20260101-000007", "classify", metrics=test(0.65), data=_digests(hard))
    _run(tmp_path / "forecast-20260101-000000", "forecast", metrics=_forecast(0.9), data=_digests(hard))
    rows = list_runs(tmp_path)
    data = {Path(r["run"]).name[-6:] if r["task"] == "classify" else "f": r["data"] for r in rows}
    assert data["000000"] == data["000003"] == data["000007"] != data["000001"] == data["000004"]
    assert data["000002"] is None and len(data["000000"]) == 12 and data["000005"] == data["000006"]
    assert [Path(r["run"]).name[-6:] for r in sort_by_metric(rows)] == [
        "000003", "000007", "000000",            # the hard data (its first run is the oldest): 0.8, 0.65, 0.6
        "000001", "000004",                      # the easy data: 0.99, 0.7
        "000002",                                # no digest recorded
        "000005", "000006",                      # data given in Python, the same fingerprint
        "000000"]                                # the forecast task after the classify one, though of the hard data


def test_a_run_that_hashed_no_data_names_none_and_the_same_files_in_another_order_are_the_same_data(tmp_path):
    """fit sets both digest maps, each empty where it hashed nothing (data piped in): such a run names no data
    and ranks with the older runs that recorded no summary, not apart (as the sort's help says);
    a summary that lists the same files' roles in another order is the same data."""
    test = lambda acc: {"test": {"accuracy": acc, "n": 8}}                     # noqa: E731
    piped = {"source": None, "sha256": {}, "memory_sha256": {}}
    files = {"train": "a" * 64, "test": "b" * 64}
    _run(tmp_path / "classify-20260101-000000", "classify", metrics=test(0.6), data=piped)
    _run(tmp_path / "classify-20260101-000001", "classify", metrics=test(0.7))                  # older: no summary
    _run(tmp_path / "classify-20260101-000003", "classify", metrics=test(0.5), data=_digests(files))
    _run(tmp_path / "classify-20260101-000004", "classify", metrics=test(0.55),
         data=_digests(dict(reversed(files.items()))))
    _run(tmp_path / "classify-20260101-000005", "classify", metrics=test(0.9), data=piped)
    rows = list_runs(tmp_path)
    data = {Path(r["run"]).name[-6:]: r["data"] for r in rows}
    assert [data[n] for n in ("000000", "000001", "000005")] == [None] * 3
    assert data["000003"] == data["000004"] and len(data["000003"]) == 12
    assert [Path(r["run"]).name[-6:] for r in sort_by_metric(rows)] == [
        "000005", "000001", "000000",            # no data named: 0.9, 0.7, 0.6
        "000004", "000003"]                      # the same two files: 0.55, 0.5


def test_a_speech_runs_recordings_name_its_data_as_other_tasks_files_do(tmp_path):
    """A speech corpus is a folder, which no file digest covers: its runs named no data (list --json's ``data``
    null) and --sort metric ranked every speech run against every other. Its recordings' record (what its resume
    compares) names it now: the same recordings read from another folder are the same data, other ones other data;
    a manifest's run names its file and its recordings together."""
    def recordings(sha, val=None):
        rec = lambda digest: {"count": 24, "sha256": digest * 64, "audio": "first, middle and last 4 KiB"}  # noqa: E731
        parts = {"data": rec(sha), **({"val_data": rec(val)} if val else {})}
        return {"source": f"/corpora/{sha}", "recordings": parts, "sha256": {}, "memory_sha256": {}}

    def speech(name, accuracy, data):
        _run(tmp_path / f"speech-20260101-{name}", "speech", config={"mode": "classify"},
             metrics={"val": {"accuracy": accuracy, "n": 3}}, data=data)

    speech("000000", 0.5, recordings("a"))
    speech("000001", 0.9, recordings("b"))
    moved = recordings("a")
    moved["source"] = "/elsewhere/digits"                                         # the same recordings, moved
    speech("000002", 0.7, moved)
    speech("000003", 0.6, recordings("a", val="c"))
    manifest = {**recordings("a"), "sha256": {"source": "d" * 64}}
    speech("000004", 0.8, manifest)
    speech("000005", 0.95, {"recordings": {"data": {"count": 3}}})
    rows = list_runs(tmp_path)
    data = {Path(r["run"]).name[-6:]: r["data"] for r in rows}
    assert data["000000"] == data["000002"] and len(data["000000"]) == 12
    assert len({data[n] for n in ("000000", "000001", "000003", "000004")}) == 4
    assert data["000005"] is None                                # a record without its digest names nothing
    assert [Path(r["run"]).name[-6:] for r in sort_by_metric(rows)] == [
        "000002", "000000", "000001", "000003", "000004", "000005"]



def test_each_of_a_speech_runs_recording_sets_names_its_data_by_its_role():
    """The training and validation recordings both name the data, each by its role: runs that share their
    validation recordings but not their training ones (or the reverse, or the two sets swapped) are other data."""
    from lstmkit.run_list import data_name

    def meta(train, val):
        return {"data": {"recordings": {"data": {"count": 24, "sha256": train * 64},
                                        "val_data": {"count": 6, "sha256": val * 64}}}}

    names = [data_name(meta(*pair)) for pair in (("a", "c"), ("b", "c"), ("a", "d"), ("c", "a"))]
    assert len(set(names)) == 4 and data_name(meta("a", "c")) == names[0]

def test_sort_by_metric_keeps_a_tasks_data_groups_together_however_the_tasks_runs_interleave():
    """Rows of two tasks in any order: a task's runs stay together, each data group of them together with its
    runs without a number last in that group (not after the task's other data), then the next task's."""
    def row(run, task, data, value=None, name="accuracy"):
        metric = None if value is None else {"name": name, "value": value, "part": "test", "split": "test",
                                             "higher_is_better": name == "accuracy"}
        return {"run": run, "task": task, "data": data, "metric": metric}
    rows = [row("c1", "classify", "aaa", 0.5), row("f1", "forecast", "aaa", 0.9, "MASE"),
            row("c2", "classify", "bbb", 0.9), row("c3", "classify", "aaa"), row("c4", "classify", "bbb", 0.4),
            row("f2", "forecast", "aaa", 0.7, "MASE")]
    assert [r["run"] for r in sort_by_metric(rows)] == ["c1", "c3", "c2", "c4", "f2", "f1"]


def test_an_int8_runs_report_record_is_read_instead_of_the_float_run_even_where_that_run_is_still_there(tmp_path):
    """A report whose record says the float run had no headline (null), or whose record was edited into no headline
    (no map, a name or part that is no text, a
    higher_is_better or split_shown that is no bool), shows none even with the float run still in place:
    the record, not the float run (which may have been refit since), is what the export compared; a report without
    the record (an older export) reads the float run; a record without split_shown reads as one that shows none."""
    root = tmp_path / "runs"
    source = _run(root / "classify-20260101-000000", "classify", metrics={"test": {"accuracy": 0.875, "n": 8}})
    kept = {"name": "accuracy", "value": 0.875, "spec": ".4f", "part": "test", "higher_is_better": True,
            "split_shown": True}

    def int8(name, record):
        run = _int8(root / name, source, "classify", fp32={"accuracy": 0.875}, chosen={"accuracy": 0.8625})
        if record != ():
            report = json.loads((run / "export_report.json").read_text())
            (run / "export_report.json").write_text(json.dumps({**report, "source_headline": record}))
    int8("older-int8", ())                                            # no record
    int8("none-int8", None)
    int8("text-int8", "not a record")
    int8("no-name-int8", {**kept, "name": None})
    int8("no-part-int8", {**kept, "part": None})
    int8("shown-text-int8", {**kept, "split_shown": "yes"})
    int8("no-higher-int8", {**kept, "higher_is_better": None})
    int8("unshown-int8", {k: v for k, v in kept.items() if k != "split_shown"})
    rows = _rows(root)
    assert rows["older-int8"]["metric"]["shown"] == "accuracy 0.8625 (test, int8)"     # read from the float run
    unread = ("none-int8", "text-int8", "no-name-int8", "no-part-int8", "shown-text-int8", "no-higher-int8")
    assert [rows[n]["metric"] for n in unread] == [None] * 6
    got = rows["unshown-int8"]["metric"]
    assert (got["shown"], got["higher_is_better"]) == ("accuracy 0.8625 (int8)", True)


def test_headline_record_is_the_float_runs_headline_without_its_int8_flag_and_none_where_it_has_none(tmp_path):
    """What export int8 keeps in its report: the float run's headline fields as written by hand below; none for
    a run without metrics.json, nor for an int8 run (whose headline is the engine's, not a float run's)."""
    from lstmkit.run_metric import headline_record
    source = _run(tmp_path / "classify-20260101-000000", "classify", metrics={"test": {"accuracy": 0.875, "n": 8}})
    assert headline_record(source) == {"name": "accuracy", "value": 0.875, "spec": ".4f", "part": "test",
                                       "higher_is_better": True, "split_shown": True}
    assert headline_record(_run(tmp_path / "classify-20260101-000001", "classify")) is None
    int8 = _int8(tmp_path / "classify-20260101-000000-int8", source, "classify", fp32={"accuracy": 0.875},
                 chosen={"accuracy": 0.8625})
    assert headline_of(int8).int8 and headline_record(int8) is None
