"""An export written with ``--out`` travels alone: the folder (or ``FILE.onnx`` and the files named after
it) holds what its ``around_graph`` reads (lstmkit.json, a text model's vocab.json), so the graph is used
with ONNX Runtime and numpy after the run folder is gone (examples/onnx_by_hand.py on the exported
folder, or the graph fed directly)."""
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from cli_helpers import run_cli  # noqa: E402
from estimator_data import QUICK, labelled_texts  # noqa: E402
from onnx_example import by_hand, exported_forecaster  # noqa: E402
from lstmkit.deploy.onnx import export_onnx  # noqa: E402

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export_alone(run: Path, out: Path, tmp: Path) -> dict:
    """Export a copy of ``run`` with ``out`` (a name without ``.onnx``: a new folder), checking the copies
    against the run's files, then remove the copy: what ``out`` holds is all there is. Returns the report."""
    if out.suffix != ".onnx":
        out.mkdir()
    copy = tmp / "gone"
    shutil.copytree(run, copy)
    path = export_onnx(copy, out)
    report = json.loads((out / "onnx.json" if out.is_dir() else Path(f"{path}.json")).read_text())
    for name, beside in report["run_files"].items():
        assert _sha((out if out.is_dir() else out.parent) / beside) == _sha(copy / name)
    shutil.rmtree(copy)
    return report


@pytest.fixture(scope="module")
def forecaster(tmp_path_factory):
    d = tmp_path_factory.mktemp("alone_forecast")
    _, y = exported_forecaster(d)
    return d / "f", y


def test_a_forecast_exported_to_a_folder_is_used_without_its_run(forecaster, tmp_path, capsys):
    run, y = forecaster
    out = tmp_path / "deploy"
    out.mkdir()
    copy = tmp_path / "gone"
    shutil.copytree(run, copy)
    code, said, err = run_cli(["export", "onnx", "--run", copy, "--out", out], capsys)
    assert code == 0, err
    shutil.rmtree(copy)
    assert sorted(p.name for p in out.iterdir()) == ["lstmkit.json", "model.onnx", "onnx.json"]
    assert json.loads((out / "onnx.json").read_text())["run_files"] == {"lstmkit.json": "lstmkit.json"}
    want = lstmkit.load(run).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(by_hand().forecast(out, y)[:, 0], want, rtol=1e-5, atol=1e-5)
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", out], capsys)   # the same run again: replaced
    assert code == 0, err


def test_a_graph_exported_as_a_file_names_its_own_copies(forecaster, tmp_path):
    """``--out FILE.onnx`` still writes FILE.onnx and FILE.onnx.json; the run's files go beside them under
    FILE.onnx's name, so two graphs exported into one folder keep their own; the example reads them."""
    run, y = forecaster
    report = _export_alone(run, tmp_path / "sales.onnx", tmp_path)
    assert report["run_files"] == {"lstmkit.json": "sales.onnx.lstmkit.json"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.onnx", "sales.onnx.json", "sales.onnx.lstmkit.json"]
    meta = json.loads((tmp_path / report["run_files"]["lstmkit.json"]).read_text())
    assert meta["preprocessing"]["panel_scaler"]["series"]
    want = lstmkit.load(run).predict(y, engine="onnx")["y"].to_numpy()
    np.testing.assert_allclose(by_hand().forecast(tmp_path / "sales.onnx", y)[:, 0], want, rtol=1e-5, atol=1e-5)


def test_a_run_exported_into_itself_names_its_own_files(forecaster):
    run, _ = forecaster
    export_onnx(run)
    assert json.loads((run / "onnx.json").read_text())["run_files"] == {"lstmkit.json": "lstmkit.json"}


def test_a_text_classifier_exported_to_a_folder_is_used_without_its_run(forecaster, tmp_path, capsys):
    x, labels = labelled_texts()
    est = lstmkit.TextClassifier(**QUICK, min_freq=1).fit(x, labels)
    est.save(tmp_path / "c")
    report = _export_alone(tmp_path / "c", tmp_path / "deploy", tmp_path)
    assert report["run_files"] == {"lstmkit.json": "lstmkit.json", "vocab.json": "vocab.json"}
    texts = ["the film 3 was good", "The film was AWFUL!"]
    got_labels, got = by_hand().classify_texts(tmp_path / "deploy", texts)
    np.testing.assert_allclose(got, est.predict_proba(texts), atol=1e-5)
    assert got_labels == list(est.predict(texts))
    # another run's graphs into it would leave this one's vocab.json beside them: refused, nothing changed
    before = {p.name: _sha(p) for p in (tmp_path / "deploy").iterdir()}
    code, _, err = run_cli(["export", "onnx", "--run", forecaster[0], "--out", tmp_path / "deploy"], capsys)
    assert code == 2 and "holds the ONNX export of another run" in err, err
    assert {p.name: _sha(p) for p in (tmp_path / "deploy").iterdir()} == before


def test_a_language_model_exported_to_a_folder_is_used_without_its_run(tmp_path):
    lines = [f"the {a} dog {b}" for a in ("red", "big", "old") for b in ("runs", "sits", "sleeps")] * 8
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    lm = lstmkit.LanguageModel(**QUICK, level="char", embed_dim=16).fit(str(tmp_path / "t.txt"), out=tmp_path / "runs")
    _export_alone(lm.run_dir_, tmp_path / "deploy", tmp_path)
    text = "the old dog sits"
    got = by_hand().lm_log_prob(tmp_path / "deploy", text)
    assert got == pytest.approx(-(len(text) + 1) * np.log(lm.perplexity([text])), rel=1e-5)


def test_a_translator_exported_to_a_folder_is_used_without_its_run(tmp_path, monkeypatch):
    import torch
    from translate_data import TINY, make_pairs
    pairs = make_pairs(120, seed=1, max_len=5)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tr = lstmkit.Translator(**{**TINY, "max_epochs": 2, "patience": 2}).fit(
            [s for s, _ in pairs], [t for _, t in pairs], out=tmp_path / "runs")
        report = _export_alone(tr.run_dir_, tmp_path / "deploy", tmp_path)
        assert report["run_files"] == {"lstmkit.json": "lstmkit.json", "vocab.json": "vocab.json"}
        sentences = [s for s, _ in make_pairs(4, seed=3, max_len=5)]
        assert by_hand().translate(tmp_path / "deploy", sentences, 1) == tr.translate(sentences, beam=1)
        export_onnx(tr.run_dir_, tmp_path / "new" / "deploy")          # a folder the export makes: the same
        assert sorted(p.name for p in (tmp_path / "new" / "deploy").iterdir()) == sorted(
            p.name for p in (tmp_path / "deploy").iterdir())
        # into the run: both graphs written and checked, then the decoding check refused: the encoder and
        # decoder there were the new ones under the earlier report; now the run is as it was
        for name in ("encoder.onnx", "decoder.onnx", "onnx.json"):
            (tr.run_dir_ / name).write_text("earlier")
        before = _files(tr.run_dir_)
        from lstmkit.errors import LstmkitError
        from lstmkit.tasks.translate.deploy import TranslateAdapter

        def refused(self, folder):
            raise LstmkitError("the decoding check failed", "report it")

        monkeypatch.setattr(TranslateAdapter, "decoding_check", refused)
        with pytest.raises(LstmkitError, match="decoding check"):
            export_onnx(tr.run_dir_)
        assert _files(tr.run_dir_) == before
    finally:
        torch.set_num_threads(threads)


def test_a_speech_model_exported_to_a_folder_holds_its_feature_settings_and_symbols(tmp_path):
    """No by-hand example computes speech features; the folder holds what around_graph names for them
    (lstmkit.json's config) and for the CTC decoding (its preprocessing.symbols), and its graph runs."""
    from lstmkit.tasks.speech.synthetic import tiny_run
    run = tiny_run(tmp_path / "s", mode="ctc", max_epochs=1)
    report = _export_alone(run, tmp_path / "deploy", tmp_path)
    features, decoding = report["around_graph"]
    meta = json.loads((tmp_path / "deploy" / report["run_files"]["lstmkit.json"]).read_text())
    c = meta["config"]
    assert f"mono {c['sample_rate']} Hz" in features and f"hop {c['hop_ms']:g} ms" in features
    symbols = meta["preprocessing"]["symbols"]
    assert "lstmkit.json's preprocessing.symbols" in decoding and symbols["blank"] == 0
    session = ort.InferenceSession(str(tmp_path / "deploy" / "model.onnx"), providers=["CPUExecutionProvider"])
    x = np.zeros((1, 100, c["n_mels"]), np.float32)
    feeds = {i.name: (x if i.name == "x" else np.asarray([100]) if i.name == "lengths"
                      else np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32))
             for i in session.get_inputs()}
    y = session.run(None, feeds)[0]                         # [1, frames, blank + chars]
    assert y.shape[-1] == 1 + len(symbols["chars"]) and np.isfinite(y).all()


def test_a_speech_models_language_model_is_said_to_be_a_run_of_its_own(tmp_path):
    """It said 'with the run's language model', which an exported folder does not hold: it now says where
    lstmkit.json names it and which settings weigh it."""
    from dataclasses import replace
    from lstmkit.deploy.registry import adapter_for
    from lstmkit.tasks.speech.synthetic import tiny_run
    adapter = adapter_for(tiny_run(tmp_path / "s", mode="ctc", max_epochs=1))
    adapter.config = replace(adapter.config, lm=str(tmp_path / "lm"))      # a run trained with --lm
    assert adapter.around_graph[1].endswith("fused with the language model of lstmkit.json's data.lm_run (a run of its "
                                            "own, exported on its own) by config.lm_weight and config.length_bonus")


def test_a_graph_name_whose_copies_names_do_not_fit_is_refused_before_the_graph(forecaster, tmp_path, capsys):
    """'é' * 120 + '.onnx' (245 bytes) and its report (250) fit, its lstmkit.json copy (258) does not: said
    before the graph is traced, nothing written (not an OSError after the graph and before the report)."""
    run, _ = forecaster
    out = tmp_path / "deploy"
    out.mkdir()
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", out / f"{'é' * 120}.onnx"], capsys)
    assert code == 2 and "258 bytes long; a file or folder name may have at most 255 bytes" in err, err
    assert list(out.iterdir()) == []


def test_an_exported_folder_is_not_taken_for_a_run_that_did_not_finish(forecaster, tmp_path, capsys):
    """Its copied lstmkit.json made `lstmkit list` call it a finished run, and `predict` / `serve` said
    'weights file missing — the run did not finish; retrain or use --resume'."""
    run, _ = forecaster
    out = tmp_path / "exports" / "deploy"
    out.mkdir(parents=True)
    export_onnx(run, out)
    code, said, err = run_cli(["list", tmp_path / "exports"], capsys)
    # the state goes on under its run's line within 80 columns, its path whole
    assert code == 0 and f"ONNX export of {run.resolve()} (no weights)" in " ".join(said.split()), err
    assert str(run.resolve()) in said.split()
    code, _, err = run_cli(["forecast", "predict", "--run", out, "--data", tmp_path / "x.csv"], capsys)
    assert code == 2 and f"{out} is an ONNX export of the run {run.resolve()}" in err and "--resume" not in err, err


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) with its SHA-256."""
    return {str(p.relative_to(folder)): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_an_export_stopped_before_its_report_leaves_the_folder_as_it_was(forecaster, tmp_path, monkeypatch):
    """Ctrl-C after the graph and the copies, in the report's write: the folder held model.onnx and
    lstmkit.json without onnx.json, and read as a run that did not finish. Now nothing of it is left; an
    earlier export of the run there is as it was, and a folder the export made is gone again."""
    run, _ = forecaster
    import lstmkit.deploy.onnx as onnx_module

    def stopped(path, obj):
        raise KeyboardInterrupt

    fresh, kept = tmp_path / "fresh", tmp_path / "kept"
    fresh.mkdir()
    kept.mkdir()
    export_onnx(run, kept)
    before = _files(kept)
    monkeypatch.setattr(onnx_module, "write_json", stopped)
    for out in (fresh, kept, tmp_path / "made" / "sales.onnx"):
        with pytest.raises(KeyboardInterrupt):
            export_onnx(run, out)
    assert list(fresh.iterdir()) == [] and _files(kept) == before
    assert not (tmp_path / "made").exists()


def test_a_full_disk_in_a_copy_leaves_nothing_of_the_export(forecaster, tmp_path, monkeypatch, capsys):
    """ENOSPC while lstmkit.json was copied beside the graph: model.onnx was left in the folder, alone."""
    import errno
    run, _ = forecaster
    out = tmp_path / "deploy"
    out.mkdir()
    (out / ".notes").write_text("mine")

    def full(source, target):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", out], capsys)
    assert code != 0 and "no space left on device" in err.lower() and "nothing of the export was kept" in err, err
    assert [p.name for p in out.iterdir()] == [".notes"]


def test_a_folder_of_runs_is_refused_for_an_export(forecaster, tmp_path, capsys):
    """`--out runs/` put onnx.json and lstmkit.json into the runs folder: `lstmkit list runs` then showed
    the folder as one ONNX export and none of its runs."""
    run, _ = forecaster
    runs = tmp_path / "runs"
    shutil.copytree(run, runs / "f")
    before = sorted(p.name for p in runs.iterdir())
    code, _, err = run_cli(["export", "onnx", "--run", runs / "f", "--out", runs], capsys)
    assert code == 2 and f"--out {runs} holds run folders (f)" in err and str(runs / "f-onnx") in err, err
    assert sorted(p.name for p in runs.iterdir()) == before
    code, said, err = run_cli(["list", runs], capsys)
    assert code == 0 and "ONNX export" not in said and "finished" in said, err


def test_the_old_layouts_report_goes_with_the_graph_it_described(forecaster, tmp_path):
    """An `--out DIR` export before reports in folders were named onnx.json left DIR/model.onnx.json; a new
    export beside it kept it, a report of a graph no longer there. It goes; a file of that name lstmkit
    did not write stays: a folder of such files is not an export, and refused."""
    run, _ = forecaster
    old, other = tmp_path / "old", tmp_path / "other"
    for folder, report in ((old, {"file": "model.onnx", "opset": 17}), (other, {"mine": 1})):
        folder.mkdir()
        (folder / "model.onnx").write_bytes(b"an old graph")
        (folder / "model.onnx.json").write_text(json.dumps(report))
    export_onnx(run, old)
    assert sorted(p.name for p in old.iterdir()) == ["lstmkit.json", "model.onnx", "onnx.json"]
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match="not an ONNX export"):
        export_onnx(run, other)
    assert json.loads((other / "model.onnx.json").read_text()) == {"mine": 1}
    assert (other / "model.onnx").read_bytes() == b"an old graph"


def test_an_export_cut_short_by_an_older_version_is_completed_by_exporting_again(forecaster, tmp_path):
    """A folder left with model.onnx and the run's lstmkit.json but no onnx.json (Ctrl-C before the report,
    before exports were all or nothing) was refused as 'inside another run's folder': the export that would
    finish it could not be run. The run's own lstmkit.json there is this run's export; another run's is not."""
    run, _ = forecaster
    half = tmp_path / "half"
    half.mkdir()
    shutil.copyfile(run / "lstmkit.json", half / "lstmkit.json")
    (half / "model.onnx").write_bytes(b"cut short")
    export_onnx(run, half)
    assert sorted(p.name for p in half.iterdir()) == ["lstmkit.json", "model.onnx", "onnx.json"]
    other = tmp_path / "other"
    other.mkdir()
    (other / "lstmkit.json").write_text(json.dumps({**json.loads((run / "lstmkit.json").read_text()), "x": 1}))
    from lstmkit.errors import LstmkitError
    with pytest.raises(LstmkitError, match="inside another run's folder"):
        export_onnx(run, other)


def test_ctrl_c_while_the_files_are_moved_into_place_puts_back_what_was_there(forecaster, tmp_path, monkeypatch):
    """Stopped between one file moved into place and the next: the earlier export's files are back as they were,
    the old layout's report too, and no hidden folder is left."""
    run, _ = forecaster
    import lstmkit.deploy.onnx as onnx_module
    out = tmp_path / "kept"
    out.mkdir()
    export_onnx(run, out)
    (out / "model.onnx.json").write_text(json.dumps({"file": "model.onnx", "opset": 17}))
    before = _files(out)
    moved = []

    def stopped_second(tmp, path):
        moved.append(path)
        if len(moved) == 2:
            raise KeyboardInterrupt
        os.replace(tmp, path)

    monkeypatch.setattr(onnx_module, "replace_file", stopped_second)
    with pytest.raises(KeyboardInterrupt):
        export_onnx(run, out)
    assert _files(out) == before


def test_an_export_into_the_run_that_fails_leaves_the_run_as_it_was(forecaster, tmp_path, monkeypatch):
    """Without --out the graph replaced RUN/model.onnx as soon as it was checked: stopped before the report
    (Ctrl-C, a full disk), the run held the new graph under the earlier export's onnx.json. Now the run's
    files are as they were, no hidden folder is left, and an export that completes still names the run's
    own files."""
    run, _ = forecaster
    import lstmkit.deploy.onnx as onnx_module
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "model.onnx").write_bytes(b"an earlier graph")
    (copy / "onnx.json").write_text(json.dumps({"file": "model.onnx", "earlier": True}))
    before = _files(copy)

    def stopped(path, obj):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(onnx_module, "write_json", stopped)
        with pytest.raises(KeyboardInterrupt):
            export_onnx(copy)
    assert _files(copy) == before
    export_onnx(copy)
    report = json.loads((copy / "onnx.json").read_text())
    assert report["run_files"] == {"lstmkit.json": "lstmkit.json"} and "source_run" not in report
    assert sorted(set(_files(copy)) - set(before)) == [] and _files(copy)["lstmkit.json"] == before["lstmkit.json"]


def test_a_folder_of_other_files_is_refused_for_an_export(forecaster, tmp_path, capsys):
    """`--out .` in a home folder wrote model.onnx, onnx.json and lstmkit.json among the user's files (and
    replaced a model.onnx of theirs). Refused, naming a new folder and a file name; an empty folder (hidden
    files aside), an earlier export's folder and a graph file name in the same folder are taken."""
    run, _ = forecaster
    home = tmp_path / "home"
    home.mkdir()
    for name in ("notes.txt", "sales.csv", "model.onnx"):
        (home / name).write_text("mine")
    before = _files(home)
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", home], capsys)
    assert code == 2 and f"--out {home} already holds files that are not an ONNX export (model.onnx, notes.txt, " \
        "sales.csv)" in err and str(home / "f-onnx") in err and str(home / "f.onnx") in err, err
    assert _files(home) == before
    code, _, err = run_cli(["export", "onnx", "--run", run, "--out", home / "f.onnx"], capsys)
    assert code == 0, err
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".gitkeep").write_text("")
    export_onnx(run, hidden)
    export_onnx(run, hidden)                        # an earlier export there: replaced
    assert sorted(p.name for p in hidden.iterdir()) == [".gitkeep", "lstmkit.json", "model.onnx", "onnx.json"]
