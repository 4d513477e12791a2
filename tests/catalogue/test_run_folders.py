"""Bad-input catalogue, damaged run folders: each case copies one trained forecast run, damages
``lstmkit.json`` or the weights, and runs `forecast predict` on it: exit 2, one line naming the
problem, no traceback, no allocation a run folder can force (``hidden_size: 1000000``)."""
import json
import math
import shutil

import numpy as np
import pytest

from catalogue_helpers import check, forecast_run

_DELETE = object()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("run_folders")
    return d, forecast_run(d, epochs=1)


def _set(meta, dotted, value):
    *path, last = dotted.split(".") if isinstance(dotted, str) else dotted
    node = meta
    for key in path:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


def meta_edit(dotted, value):
    def damage(run):
        meta = json.loads((run / "lstmkit.json").read_text())
        _set(meta, dotted, value)
        (run / "lstmkit.json").write_text(json.dumps(meta))
    return damage


def meta_text(text: bytes):
    def damage(run):
        (run / "lstmkit.json").write_bytes(text)
    return damage


def weights(fn):
    def damage(run):
        path = run / "model.safetensors"
        path.write_bytes(fn(path.read_bytes()))
    return damage


def _flip(data: bytes) -> bytes:
    b = bytearray(data)
    b[-5] ^= 0xFF
    return bytes(b)


def _nan_weights_with_their_hash(run):
    """All-NaN weights whose SHA-256 is recorded: only the finiteness check can catch them."""
    from safetensors.torch import load_file, save_file

    from lstmkit.runs import file_sha256
    path = run / "model.safetensors"
    tensors = {k: v.clone().fill_(float("nan")) for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["weights_sha256"]["model.safetensors"] = file_sha256(path)
    (run / "lstmkit.json").write_text(json.dumps(meta))


def _retyped(dtype, value=None):
    """The weights stored as ``dtype`` (filled with ``value``), their SHA-256 recorded: torch cast them to
    the model's float32 without a word, so bool weights forecast numbers from 0s and 1s and float64 1e300
    became inf ('the model overflows on this input')."""
    def damage(run):
        import torch
        from safetensors.torch import load_file, save_file

        from lstmkit.runs import file_sha256
        path = run / "model.safetensors"
        tensors = {k: (v.double().fill_(value) if value is not None else v).to(getattr(torch, dtype))
                   for k, v in load_file(str(path)).items()}
        save_file(tensors, str(path))
        meta = json.loads((run / "lstmkit.json").read_text())
        meta["weights_sha256"]["model.safetensors"] = file_sha256(path)
        (run / "lstmkit.json").write_text(json.dumps(meta))
    return damage


def _declared(hidden):
    """model.safetensors replaced by a well-formed one of a network with ``hidden`` units (the run's 4 and
    16 = 4 x 4 scaled), its data a sparse file of zeros, and ``hidden_size`` set to match (no SHA-256: a
    run older than the hash). Its network was made and its bytes read and copied before any check: 3x
    the file's size, a 13 GiB file the process's end."""
    def damage(run):
        import struct

        from safetensors import safe_open
        with safe_open(str(run / "model.safetensors"), framework="pt") as f:
            shapes = {k: f.get_slice(k).get_shape() for k in f.keys()}
        header, end = {}, 0
        for key in sorted(shapes):
            shape = [{4: hidden, 16: 4 * hidden}.get(n, n) for n in shapes[key]]
            size = 4 * math.prod(shape)
            header[key], end = {"dtype": "F32", "shape": shape, "data_offsets": [end, end + size]}, end + size
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(run / "model.safetensors", "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text)
            f.truncate(8 + len(text) + end)
        meta = json.loads((run / "lstmkit.json").read_text())
        meta["config"]["hidden_size"] = hidden
        del meta["weights_sha256"]
        (run / "lstmkit.json").write_text(json.dumps(meta))
    return damage


def _pickled(protocol_zip):
    """The weights saved by torch.save (its zip, or a plain pickle) under the safetensors name: never
    unpickled; it was 'corrupt or truncated (header too large)'."""
    def damage(run):
        import pickle

        import torch
        from safetensors.torch import load

        path = run / "model.safetensors"
        tensors = load(path.read_bytes())
        path.unlink()
        if protocol_zip:
            torch.save(tensors, path)
        else:
            path.write_bytes(pickle.dumps({k: v.tolist() for k, v in tensors.items()}, protocol=2))
    return damage


def _linked_out(name):
    """``name`` moved out of the run folder and linked back (a stranger's run whose link names a file of
    this machine: it was read, hashed and used without a word)."""
    def damage(run):
        away = run.parent / "elsewhere"
        away.mkdir()
        (run / name).rename(away / name)
        (run / name).symlink_to(away / name)
    return damage


def _link_loop(run):
    (run / "model.safetensors").unlink()
    (run / "model.safetensors").symlink_to("loop")
    (run / "loop").symlink_to("model.safetensors")


def _remove(name):
    def damage(run):
        (run / name).unlink()
    return damage


def _not_a_file(name, kind):
    """``name`` replaced by a link to /dev/zero, a named pipe or a folder (a stranger's run): a pipe
    would wait for a writer, a device never end; was 'weights file missing: ... use --resume'."""
    def damage(run):
        import os
        (run / name).unlink()
        if kind == "device":
            (run / name).symlink_to("/dev/zero")
        elif kind == "pipe":
            os.mkfifo(run / name)
        else:
            (run / name).mkdir()
    return damage


def _nested(name):
    """``name`` replaced by arrays nested 100,000 deep: Python's JSON parser raised RecursionError, a
    traceback from every reader of a run's JSON files."""
    def damage(run):
        (run / name).write_text("[" * 100_000 + "]" * 100_000)
    return damage


def _sparse(name, size):
    """``name`` grown to ``size`` bytes of zeros (a sparse file: a zip of a few MB unpacks to it); a 2 GB
    lstmkit.json was read and parsed whole, 4.4 GB of memory, before 'not valid JSON'."""
    def damage(run):
        with open(run / name, "r+b") as f:
            f.truncate(size)
    return damage


CASES = [
    # a config value the file was edited to: named as the file's, not with train's fix ('pass --lookback 1 or more')
    (meta_edit("config.lookback", "twelve"), "lstmkit.json holds a config that does not load: `lookback`"),
    (meta_edit("config.model", "nope"), "lstmkit.json holds a config that does not load: unknown model 'nope'"),
    (meta_edit("config.lookback", -12), "lookback"),
    (meta_edit("config.lookback", 0), "lookback"),
    (meta_edit("config.lookback", 1.5), "lookback"),
    (meta_edit("config.lookback", None), "lookback"),
    (meta_edit("config.lookback", _DELETE), "lookback"),
    (meta_edit("config.horizon", "3"), "horizon"),
    (meta_edit("config.horizon", -1), "horizon"),
    (meta_edit("config.hidden_size", 1000000), "the metadata asks for 4000000,"),
    (meta_edit("config.hidden_size", 0), "hidden_size"),
    (meta_edit("config.hidden_size", "big"), "hidden_size"),
    (meta_edit("config.num_layers", 100000), "must be at most 64"),
    (meta_edit("config.num_layers", 5), "does not match the model"),
    (meta_edit("config.num_layers", -1), "num_layers"),
    (meta_edit("config.dropout", 7), "dropout"),
    (meta_edit("config.model", "transformer-xl"), "transformer-xl"),
    (meta_edit("config.scaler", "zscore"), "zscore"),
    (meta_edit("config.target", []), "target"),
    (meta_edit("config.bogus_key", 1), "bogus_key"),
    (meta_edit("config", "lookback=12"), '"config" is str'),
    (meta_edit("config", _DELETE), "config"),
    (meta_edit("config", None), '"config" is null'),
    (meta_edit("preprocessing", None), '"preprocessing" is null'),     # a traceback once
    (meta_edit("model", None), '"model" is null'),
    (meta_edit("data", None), '"data" is null'),
    (meta_edit("config.train.batch_size", -5), "batch_size"),
    (meta_edit("preprocessing.panel_scaler.series.series.scale", "x"), "scale"),
    (meta_edit("preprocessing.panel_scaler.series.series.scale", [0.0]), "scale"),
    (meta_edit("preprocessing.panel_scaler.series.series.scale", [float("nan")]), "scale"),
    (meta_edit("preprocessing.panel_scaler.series.series.loc", _DELETE), "loc"),
    (meta_edit("preprocessing.panel_scaler", _DELETE), "panel_scaler"),
    (meta_edit("task", "classify"), "'classify' run"),
    (meta_edit("task", _DELETE), "not an lstmkit metadata file"),
    # a stranger's run of a task this lstmkit has not: was "use 'lstmkit weather ...'", a command that is not
    # there; a name with a line break or a terminal escape was printed as it was (three lines, red text)
    (meta_edit("task", "weather"), "is a 'weather' run, a task this version of lstmkit does not know"),
    (meta_edit("task", "wea\nther\x1b[31m"), "is a 'wea\\nther\\x1b[31m' run, a task this version"),
    (meta_edit("task", "../../etc"), "is a '../../etc' run, a task this version of lstmkit does not know"),
    (meta_edit("task", ["forecast"]), "\"task\" is ['forecast'], not a task name"),   # was "a '['forecast']' run"
    (meta_edit("format_version", "1"), "format_version '1'"),
    (meta_edit("format_version", True), "format_version True"),
    (meta_edit("format_version", -1), "format_version -1"),
    (meta_edit("format_version", 99), "(run format 99); this is lstmkit"),
    # a newer lstmkit's run of the same format number was read as this version reads it, without a word
    (meta_edit("lstmkit_version", "9.0.0"), "was written by lstmkit 9.0.0 (run format 1); this is lstmkit"),
    (meta_edit("lstmkit_version", "0.1.0x"), "lstmkit_version '0.1.0x', not a version number"),
    (meta_edit("lstmkit_version", 2), "lstmkit_version 2, not a version number"),
    (meta_edit("format_version", _DELETE), "not an lstmkit metadata file"),
    (meta_edit("status", "training"), "lstmkit forecast train --resume"),
    # left 'training' by a process that is gone (kill -9): was 'an unfinished run (status: training)', as one training
    (meta_edit("status", "training"), "the process that trained it is gone (killed, or its machine stopped)"),
    (meta_edit("status", "failed"), "holds a run whose training failed, with no record of why"),
    (meta_edit("status", _DELETE), '"status" is None'),                  # was 'an unfinished run: --resume it'
    (meta_edit("status", "done"), "\"status\" is 'done'"),
    (meta_edit(("weights_sha256", "model.safetensors"), "0" * 64), "model.safetensors"),
    (meta_text(b"{not json"), "not valid JSON"),
    (meta_text(b""), "not valid JSON"),
    (meta_text(b"[1, 2, 3]"), "not an lstmkit metadata file"),
    (meta_text(b"\xff\xfe\x00garbage"), "not valid JSON"),
    (_remove("lstmkit.json"), "not an lstmkit run folder"),
    (_remove("model.safetensors"), "model.safetensors"),
    (_not_a_file("model.safetensors", "device"), "model.safetensors is a symbolic link to /dev/zero, outside the run"),
    (_not_a_file("model.safetensors", "pipe"), "model.safetensors is a device, a pipe or a socket, not a file"),
    (_not_a_file("model.safetensors", "folder"), "model.safetensors is a folder, not a file"),
    (_linked_out("model.safetensors"), "model.safetensors is a symbolic link to "),
    (_linked_out("lstmkit.json"), "lstmkit.json is a symbolic link to "),
    (_linked_out("metrics.json"), "metrics.json is a symbolic link to "),
    (_link_loop, "model.safetensors is a symbolic link that leads to no file (a loop of links)"),
    (weights(lambda b: b[: len(b) // 2]), "model.safetensors"),
    (weights(lambda b: b""), "model.safetensors"),
    (weights(_flip), "model.safetensors"),
    (weights(lambda b: b"\x00" * len(b)), "model.safetensors"),
    (_nan_weights_with_their_hash, "NaN or infinite weights"),
    (_nested("lstmkit.json"), "lstmkit.json is corrupt (JSON nested deeper than any file lstmkit writes)"),
    (_nested("metrics.json"), "metrics.json is corrupt (JSON nested deeper than any file lstmkit writes)"),
    (_sparse("lstmkit.json", 2 * 2**30), "lstmkit.json is 2,048 MiB, larger than any JSON file lstmkit writes"),
    (_sparse("metrics.json", 300 * 2**20), "metrics.json is 300 MiB, larger than any JSON file lstmkit writes"),
    (_retyped("bool"), "as bool values; the model in lstmkit.json keeps it as float32"),
    (_retyped("int8"), "as int8 values; the model in lstmkit.json keeps it as float32"),
    (_retyped("float64", 1e300), "as float64 values; the model in lstmkit.json keeps it as float32"),
    (_retyped("float16"), "as float16 values; the model in lstmkit.json keeps it as float32"),
    # 1 GiB of zeros after the weights: read whole (6 GB took 64 s and 6.4 GB of memory) before 'does not match'
    (_sparse("model.safetensors", 2**30), "is corrupt or truncated (its tensors take 520 bytes, the file holds 1,073,"),
    (_pickled(True), "model.safetensors is a PyTorch pickle (torch.save), not safetensors: lstmkit never unpickles"),
    (_pickled(False), "model.safetensors is a PyTorch pickle (torch.save), not safetensors"),
]

# a run whose metadata and weights declare a network of 1.4 TB (300,000 units, the file sparse): refused before
# the network is made or a byte of it read, exit 1 (the machine lacks the memory; the run is not at fault)
TOO_LARGE = [
    (_declared(300_000), "model.safetensors is 1.31 TiB: loading it takes about 3.93 TiB of memory, more than the"),
]


@pytest.mark.parametrize("damage, needle, code", [(*c, 2) for c in CASES] + [(*c, 1) for c in TOO_LARGE],
                         ids=[f"{k}:{c[1][:30]}" for k, c in enumerate(CASES + TOO_LARGE)])
def test_damaged_run_folder(damage, needle, code, trained, tmp_path, capsys):
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    damage(run)
    check(["forecast", "predict", "--run", run, "--data", d / "sine.csv"], code, needle, tmp_path, capsys)


def test_the_undamaged_copy_predicts(trained, tmp_path, capsys):
    from cli_helpers import run_cli
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", d / "sine.csv"], capsys)
    assert code == 0 and np.isfinite(float(out.splitlines()[1].split(",")[-1])), err


def _versions(run, written, format_version=1, **config):
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["config"].update(config)
    (run / "lstmkit.json").write_text(json.dumps({**meta, "lstmkit_version": written,
                                                  "format_version": format_version}))


NEWER = [["forecast", "predict", "--run", "{run}", "--data", "{d}/sine.csv"],
         ["forecast", "evaluate", "--run", "{run}", "--data", "{d}/sine.csv"],
         ["forecast", "train", "--resume", "{run}"],
         ["forecast", "train", "--config", "{run}", "--data", "{d}/sine.csv", "--out", "{out}"],
         ["serve", "--run", "{run}"],
         ["export", "onnx", "--run", "{run}"],
         ["doctor", "{run}"]]


@pytest.mark.parametrize("argv", NEWER, ids=lambda a: " ".join(a[:2]))
def test_a_run_of_a_newer_lstmkit_names_both_versions_and_the_upgrade(argv, trained, tmp_path, capsys):
    """A run written by a later lstmkit (its format number the same) was read as this version reads it:
    a setting this one lacks was 'a config that does not load (the file was edited or damaged)', and
    predict, resume, serve and --config went on. Every command that reads the run says so, one line."""
    from lstmkit.version import __version__
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    _versions(run, "0.9.0", new_setting=3)
    line = check([a.format(run=run, d=d, out="{out}") for a in argv], 2, f"{run} was written by lstmkit 0.9.0 "
                 f"(run format 1); this is lstmkit {__version__}, which reads runs of its own version or older",
                 tmp_path, capsys, d)
    assert line.endswith("upgrade lstmkit (pip install -U 'lstmkit>=0.9.0') to use this run"), line


@pytest.mark.parametrize("written", ["0.0.1", "0.1.0.dev3", "0.1", None])
def test_a_run_of_an_older_or_this_lstmkit_predicts(written, trained, tmp_path, capsys):
    from cli_helpers import run_cli
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    _versions(run, written)
    code, out, err = run_cli(["forecast", "predict", "--run", run, "--data", d / "sine.csv"], capsys)
    assert code == 0 and np.isfinite(float(out.splitlines()[1].split(",")[-1])), err


def test_links_that_stay_inside_the_run_folder_are_read(trained, tmp_path, capsys):
    """A link inside the run (its weights under another name, a checkpoints folder beside them) and a
    link to the run folder itself (runs/latest) are not refused; one leading out of it is, in a folder
    of the run too, with the copy that follows the links: that copy predicts."""
    from cli_helpers import run_cli
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run)
    (run / "model.safetensors").rename(run / "weights-v1.safetensors")
    (run / "model.safetensors").symlink_to("weights-v1.safetensors")
    (run / "checkpoints").rename(run / "ckpt")
    (run / "checkpoints").symlink_to(run / "ckpt")
    (tmp_path / "latest").symlink_to(run)
    for folder in (run, tmp_path / "latest"):
        code, out, err = run_cli(["forecast", "predict", "--run", folder, "--data", d / "sine.csv"], capsys)
        assert code == 0 and np.isfinite(float(out.splitlines()[1].split(",")[-1])), err
    (tmp_path / "away").mkdir()
    (run / "ckpt" / "last.json").rename(tmp_path / "away" / "last.json")
    (run / "ckpt" / "last.json").symlink_to(tmp_path / "away" / "last.json")
    line = check(["forecast", "predict", "--run", run, "--data", d / "sine.csv"], 2,
                 f"{run}/checkpoints/last.json is a symbolic link to {tmp_path}/away/last.json, outside the run folder",
                 tmp_path, capsys)
    assert f"(cp -rL {run} NEWRUN)" in line
    shutil.copytree(run, tmp_path / "copy")                    # what cp -rL does: the files, not the links
    code, _, err = run_cli(["forecast", "predict", "--run", tmp_path / "copy", "--data", d / "sine.csv"], capsys)
    assert code == 0, err


# an --out that is one of a run folder's own files: `predict --out RUN/lstmkit.json` wrote the
# forecast over the run's metadata (the run was gone); the run is refused before any work
OWN_FILES = ["lstmkit.json", "history.csv", "metrics.json", "checkpoints/last.json", "plots/forecast.json"]


@pytest.mark.parametrize("name", OWN_FILES)
def test_an_out_that_is_a_file_of_the_run(name, trained, tmp_path, capsys):
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb"))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    check(["forecast", "predict", "--run", run, "--data", d / "sine.csv", "--out", run / name], 2,
          f"is a file of the run folder {run}", tmp_path, capsys)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_an_out_of_another_name_in_the_run_is_written_and_rewritten(trained, tmp_path, capsys):
    from cli_helpers import run_cli
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    for _ in range(2):
        code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", d / "sine.csv",
                                "--out", run / "forecast.json"], capsys)
        assert code == 0, err
    assert (run / "forecast.json").read_text().startswith("[")


@pytest.mark.parametrize("report, needle", [
    ({"findings": 5}, "its findings are int, not a list"),
    ({"findings": [{"kind": "x"}]}, "finding 1 lacks its kind, title, evidence or remedies"),
    ({"findings": [], "evidence": [1]}, "its evidence is list, not a mapping"),
    ({"findings": [], "evidence": {"baselines": {"model": "0.5", "scores": {"naive": 1}}}}, "not numbers"),
    ([[[[[]]]]] * 2, "is not a doctor report"),
    ("[" * 100_000 + "]" * 100_000, "doctor.json is corrupt (JSON nested deeper than any file lstmkit writes)"),
], ids=["findings", "finding", "evidence", "baselines", "list", "nested"])
def test_a_damaged_doctor_report(report, needle, trained, tmp_path, capsys):
    """`lstmkit doctor RUN` on a doctor.json of another shape was a TypeError or KeyError from the
    printer, a traceback."""
    _, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    assert "findings" in json.loads((run / "doctor.json").read_text())          # the undamaged report
    (run / "doctor.json").write_text(report if isinstance(report, str) else json.dumps(report))
    check(["doctor", run], 2, needle, tmp_path, capsys)


@pytest.fixture(scope="module")
def two_classifiers(tmp_path_factory):
    """Two tiny text classifiers whose vocabularies have the same size, not the same words: a file of
    one in the other's folder loaded, and answered wrongly."""
    from catalogue_helpers import train_once
    d = tmp_path_factory.mktemp("two_classifiers")
    rows = [("good film", "pos"), ("bad film", "neg"), ("great plot", "pos"), ("awful acting", "neg")] * 10
    (d / "reviews.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows))
    other = [("nice show", "pos"), ("poor show", "neg"), ("fine score", "pos"), ("dull singing", "neg")] * 10
    (d / "other.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in other))
    runs = [train_once(["classify", "train", "--data", f"{{d}}/{name}", "--embed-dim", "4", "--hidden-size", "4",
                        "--min-freq", "1", "--epochs", "1", "--progress", "off", "--no-tensorboard", "--no-doctor",
                        "--device", "cpu", "--out", "{out}"], d, d / name.split(".")[0])
            for name in ("reviews.csv", "other.csv")]
    vocabs = [json.loads((run / "vocab.json").read_text())["itos"] for run in runs]
    assert len(vocabs[0]) == len(vocabs[1]) and vocabs[0] != vocabs[1]
    return d, runs


@pytest.mark.parametrize("name", ["vocab.json", "lstmkit.json", "model.safetensors"])
def test_a_file_copied_from_another_run(name, two_classifiers, tmp_path, capsys):
    """Another run's vocab.json (same size, other order) was read without a word: every token meant
    another word and the labels came out wrong; each file copied from the other run is now refused."""
    d, (mine, theirs) = two_classifiers
    run = tmp_path / "run"
    shutil.copytree(mine, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    shutil.copy(theirs / name, run / name)
    check(["classify", "predict", "--run", run, "--data", d / "reviews.csv"], 2,
          "does not match the SHA-256 recorded in lstmkit.json", tmp_path, capsys)


@pytest.mark.parametrize("edit, needle", [
    ({"lowercase": "yes"}, "vocabulary state has lowercase 'yes', not true or false"),    # a KeyError traceback
    ({"itos": ["<pad>", "<unk>", 1, 2]}, "vocabulary state has the token 1, not a string"),   # answered, silently
    ({"itos": "<pad><unk>"}, "vocabulary state has itos of str"),               # was 'rebuild it with Vocab.build'
])
def test_a_hand_edited_vocabulary_with_its_hash(edit, needle, two_classifiers, tmp_path, capsys):
    """A stranger's vocab.json edited and its SHA-256 recorded again: the hash cannot catch it."""
    from lstmkit.runs import file_sha256
    d, (mine, _) = two_classifiers
    run = tmp_path / "run"
    shutil.copytree(mine, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    state = json.loads((run / "vocab.json").read_text())
    (run / "vocab.json").write_text(json.dumps({**state, **edit}))
    meta = json.loads((run / "lstmkit.json").read_text())
    meta["weights_sha256"]["vocab.json"] = file_sha256(run / "vocab.json")
    (run / "lstmkit.json").write_text(json.dumps(meta))
    check(["classify", "predict", "--run", run, "--data", d / "reviews.csv"], 2, needle, tmp_path, capsys)


LONG = "é" * 130                     # 260 bytes: one name longer than a file system takes (NAME_MAX 255)


@pytest.mark.parametrize("argv", [
    ["forecast", "predict", "--run", "{run}", "--data", "{d}/sine.csv", "--out", f"{{tmp}}/{LONG}.csv"],
    ["forecast", "predict", "--run", "{run}", "--data", "{d}/sine.csv", "--out", f"{{tmp}}/{LONG}/next.csv"],
    ["forecast", "backtest", "--run", "{run}", "--data", "{d}/sine.csv", "--out", f"{{tmp}}/{LONG}"],
    ["export", "onnx", "--run", "{run}", "--out", f"{{tmp}}/{LONG}.onnx"],
    # a graph name that fits beside a report name that does not (253 + 5 bytes): refused before the graph
    ["export", "onnx", "--run", "{run}", "--out", f"{{tmp}}/{'é' * 124}.onnx"],
    ["export", "int8", "--run", "{run}", "--out", f"{{tmp}}/{LONG}"],
    ["forecast", "train", "--data", "{d}/sine.csv", "--target", "y", "--lookback", "12", "--hidden-size", "4", "--epochs", "1",
     "--ensemble", "1", "--progress", "off", "--no-tensorboard", "--device", "cpu", "--out", f"{{tmp}}/{LONG}"],
], ids=["predict", "predict-folder", "backtest", "onnx", "onnx-report", "int8", "train"])
def test_an_out_whose_name_is_too_long(argv, trained, tmp_path, capsys):
    """An --out name of more than 255 bytes was an OSError traceback (predict, backtest, export) or,
    from train, exit 1 'pass a writable --out folder (or free space)'."""
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    args = [a.format(run=run, d=d, tmp=tmp_path) for a in argv]
    check(args, 2, "bytes long; a file or folder name may have at most 255 bytes", tmp_path, capsys)
    assert {p.name for p in tmp_path.iterdir()} == {"run"}



@pytest.mark.parametrize("argv", [
    ["forecast", "predict", "--run", "{run}", "--data", "{d}/sine.csv", "--out", "~/next.csv"],
    ["forecast", "backtest", "--run", "{run}", "--data", "{d}/sine.csv", "--out", "~/backtest"],
    ["export", "onnx", "--run", "{run}", "--out", "~/model.onnx"],
    ["export", "int8", "--run", "{run}", "--out", "~/int8"],
    ["forecast", "train", "--data", "{d}/sine.csv", "--target", "y", "--lookback", "12", "--hidden-size", "4",
     "--epochs", "1", "--ensemble", "1", "--progress", "off", "--no-tensorboard", "--device", "cpu", "--out", "~/runs"],
], ids=["predict", "backtest", "onnx", "int8", "train"])
def test_an_out_with_a_tilde_the_shell_left(argv, trained, tmp_path, capsys, monkeypatch):
    """`--out '~/next.csv'` (quoted, or after '=') made a folder named '~' in the working folder and
    said 'wrote 1 rows to ~/next.csv', read as the home folder."""
    import os
    d, good = trained
    run = tmp_path / "run"
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    monkeypatch.chdir(tmp_path)
    line = check([a.format(run=run, d=d) for a in argv], 2, "would make a folder named '~' here: the shell expands '~' "
                 "only outside quotes", tmp_path, capsys)
    assert f"pass {os.path.expanduser('~')}/" in line
    assert {p.name for p in tmp_path.iterdir()} == {"run"}


def test_a_run_folder_that_starts_with_a_dash(trained, tmp_path, capsys, monkeypatch):
    """`lstmkit doctor -run` (a run folder named '-run') was 'no such option: -r — see ... --help'.
    After an option that takes a value (`--run -run`, `--data -sine.csv`) such a name already worked."""
    d, good = trained
    shutil.copytree(good, tmp_path / "-run", ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    monkeypatch.chdir(tmp_path)
    check(["doctor", "-run"], 2, "'-run' is a file or folder here, read as options since it starts with '-': pass it "
          "as ./-run", tmp_path, capsys)


def test_export_onnx_of_a_run_whose_name_is_not_utf8(trained, tmp_path, capsys):
    """Linux names may be any bytes; the exporter takes UTF-8 names only, and said 'the exporter cannot
    trace it: TypeError' with the fix 'train an encoder that exports (--model lstm)' of an LSTM."""
    import os
    _, good = trained
    run = tmp_path / os.fsdecode(b"run-\xff")
    shutil.copytree(good, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    check(["export", "onnx", "--run", run], 2, "has a name that is not UTF-8 text", tmp_path, capsys)
    assert not (run / "model.onnx").exists()


# a run shipped as an archive (a release asset, a model zoo's download): was "RUN.zip is a file, not a run
# folder — pass the folder printed by 'train'", and a path into it "run folder not found"
@pytest.mark.parametrize("fmt, into, needle", [
    ("zip", "", "run.zip is a zip archive, not a run folder: lstmkit reads a run folder unpacked"),
    ("zip", "/run", "run.zip is a zip archive, not a run folder"),
    ("gztar", "", "run.tar.gz is a tar archive, not a run folder"),
], ids=["zip", "a-path-into-the-zip", "tar.gz"])
def test_a_run_folder_in_an_archive(fmt, into, needle, trained, tmp_path, capsys):
    d, good = trained
    shutil.copytree(good, tmp_path / "packed" / "run", ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    archive = shutil.make_archive(str(tmp_path / "run"), fmt, tmp_path / "packed")
    line = check(["forecast", "predict", "--run", archive + into, "--data", d / "sine.csv"], 2, needle, tmp_path, capsys)
    fix = line.partition(" — ")[2]
    assert (f"unzip {archive} -d DIR), then pass DIR/run, the folder that holds lstmkit.json" in fix if fmt == "zip"
            else f"tar -xf {archive} -C DIR), then pass DIR, the folder" in fix), line


def test_a_zip_file_without_a_run_is_still_a_file(trained, tmp_path, capsys):
    import zipfile
    d, _ = trained
    with zipfile.ZipFile(tmp_path / "sheet.xlsx", "w") as z:         # a spreadsheet is a zip file too
        z.writestr("xl/workbook.xml", "<workbook/>")
    check(["forecast", "predict", "--run", tmp_path / "sheet.xlsx", "--data", d / "sine.csv"], 2,
          "sheet.xlsx is a file, not a run folder", tmp_path, capsys)


# another user's run copied with its owner-only modes (0600 files): lstmkit.json and vocab.json were a
# PermissionError traceback, the weights exit 2 ('check the file's permissions'). Modes stop no root, so
# the read is refused as the kernel would refuse it.
@pytest.mark.parametrize("name", ["lstmkit.json", "model.safetensors", "vocab.json"])
def test_a_run_file_this_user_cannot_read(name, two_classifiers, tmp_path, capsys, monkeypatch):
    import builtins
    import errno
    import io
    import os
    d, (first, _) = two_classifiers
    run = tmp_path / "run"
    shutil.copytree(first, run, ignore=shutil.ignore_patterns("tb", "plots", "checkpoints"))
    real = io.open

    def refuse(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(run / name):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(file))
        return real(file, *a, **k)
    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    line = check(["classify", "predict", "--run", run, "--data", d / "reviews.csv"], 1,
                 f"cannot read {run / name} (permission denied)", tmp_path, capsys)
    assert f"make the run folder readable to this user (its owner: chmod -R a+rX {run})" in line, line
