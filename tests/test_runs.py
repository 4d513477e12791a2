import json
from pathlib import Path

import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.runs import (FORMAT_VERSION, WeightsMismatch, atomic_write, load_tensors, new_run_dir, read_meta,
                          read_run, save_tensors, write_json)


def _run(tmp_path, **meta):
    run = tmp_path / "run"
    run.mkdir()
    write_json(run / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "forecast",
                                      "status": "finished", **meta})
    save_tensors(run / "model.safetensors", {"w": torch.arange(6.0).view(2, 3)})
    return run


def test_round_trip(tmp_path):
    meta, weights = read_run(_run(tmp_path), "forecast")
    assert meta["task"] == "forecast"
    assert torch.equal(weights["w"], torch.arange(6.0).view(2, 3))


@pytest.mark.parametrize("case, message", [
    ("missing", "run folder not found"),
    ("file", "is a file, not a run folder"),
    ("empty_dir", "not an lstmkit run folder"),
    ("bad_json", "corrupt"),
    ("foreign_json", "not an lstmkit metadata file"),
    ("newer", "newer lstmkit"),
    ("other_task", "is a 'classify' run"),
    ("unfinished", "unfinished run"),
])
def test_bad_run_folders_are_clear_errors(tmp_path, case, message):
    run = tmp_path / "x"
    if case == "file":
        run.write_text("hello")
    elif case == "empty_dir":
        run.mkdir()
    elif case == "bad_json":
        run.mkdir()
        (run / "lstmkit.json").write_text("{not json")
    elif case == "foreign_json":
        run.mkdir()
        (run / "lstmkit.json").write_text('{"name": "something else"}')
    elif case == "newer":
        run = _run(tmp_path, format_version=FORMAT_VERSION + 1)
    elif case == "other_task":
        run = _run(tmp_path, task="classify")
    elif case == "unfinished":
        run = _run(tmp_path, status="training")
    with pytest.raises(LstmkitError, match=message):
        read_run(run, "forecast")


def test_truncated_or_foreign_weights_are_clear_errors(tmp_path):
    run = _run(tmp_path)
    data = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        read_run(run, "forecast")
    (run / "model.safetensors").write_bytes(b"\x80\x04\x95 a pickle, not safetensors")
    with pytest.raises(LstmkitError, match="corrupt or truncated"):
        load_tensors(run / "model.safetensors")
    (run / "model.safetensors").unlink()
    with pytest.raises(LstmkitError, match="weights file missing"):
        read_run(run, "forecast")


def test_atomic_write_leaves_old_file_and_no_temp_on_failure(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"v": 1})

    def boom(tmp):
        with open(tmp, "w") as f:
            f.write("{half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_new_run_dir_is_unique(tmp_path):
    a, b = new_run_dir(tmp_path, "forecast"), new_run_dir(tmp_path, "forecast")
    assert a != b and a.is_dir() and b.is_dir() and a.name.startswith("forecast-")


def test_read_meta_accepts_unfinished_runs_for_resume(tmp_path):
    run = _run(tmp_path, status="interrupted")
    assert read_meta(run, "forecast")["status"] == "interrupted"


def test_same_tensors_and_metadata_give_the_same_bytes(tmp_path):
    """safetensors writes its metadata from a hash map in varying order; save_tensors sorts it,
    so a resumed run's model file can be compared byte for byte with an uninterrupted one."""
    import hashlib

    from safetensors import safe_open

    tensors = {"layer.weight": torch.randn(3, 4), "bias": torch.arange(5)}
    meta = {"format": "pt", "task": "translate", "zeta": "1", "alpha": "2"}
    digests = set()
    for k in range(12):
        save_tensors(tmp_path / f"{k}.safetensors", tensors, metadata=meta)
        digests.add(hashlib.sha256((tmp_path / f"{k}.safetensors").read_bytes()).hexdigest())
    assert len(digests) == 1
    with safe_open(str(tmp_path / "0.safetensors"), "pt") as f:
        assert f.metadata() == meta
        assert torch.equal(f.get_tensor("layer.weight"), tensors["layer.weight"])


def _strict(text):
    def no_constant(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=no_constant)


def test_write_json_writes_standard_json_non_finite_as_null(tmp_path):
    import numpy as np
    path = tmp_path / "metrics.json"
    write_json(path, {"RMSE": float("inf"), "MAE": np.float64("nan"), "MASE": np.float32(1.5),
                      "per_step": np.array([1.0, -np.inf]), "t": torch.tensor(float("nan")),
                      "nested": [{"a": -float("inf"), "b": (1, 2.5)}], "path": tmp_path, "ok": True, "n": 3})
    got = _strict(path.read_text())
    assert got == {"RMSE": None, "MAE": None, "MASE": 1.5, "per_step": [1.0, None], "t": None,
                   "nested": [{"a": None, "b": [1, 2.5]}], "path": str(tmp_path), "ok": True, "n": 3}


def test_a_float32_value_is_written_by_its_shortest_text_and_reads_back_as_the_same_float32(tmp_path):
    # metrics.json, backtest.json, ...: a float32 scalar or array was widened first (0.1 as 0.10000000149011612)
    # where a table's float32 column is written by its shortest text; float64 stays as it was
    import numpy as np
    narrow = np.concatenate([np.random.default_rng(54).integers(0, 2 ** 32, 2_000, dtype=np.uint64)
                             .astype(np.uint32).view(np.float32),
                             np.float32([0.1, 1 / 3, 3.4028235e38, 1e-45, -0.0, np.nan, np.inf, 2097152.25])])
    half = np.float16([0.1, 65504, 6e-8, np.nan])
    path = tmp_path / "metrics.json"
    write_json(path, {"scalar": np.float32(0.1), "array": narrow, "grid": narrow[:6].reshape(2, 3),
                      "half": half, "half_scalar": np.float16(0.1), "wide": np.float64(np.float32(0.1)),
                      "wide_array": np.array([0.1, np.float32(0.1)]), "torch": torch.tensor([0.1, float("inf")]),
                      "torch_scalar": torch.tensor(0.7, requires_grad=True),
                      "bf16": torch.tensor(0.1, dtype=torch.bfloat16), "int": np.int32(7)})
    text = path.read_text()
    got = _strict(text)
    shortest = lambda a: [float(str(v)) if np.isfinite(v) else None for v in a]          # noqa: E731
    assert got["scalar"] == 0.1 and '"scalar": 0.1,' in text and "0.10000000149011612" in text   # the float64's alone
    assert got["array"] == shortest(narrow) and got["grid"] == [shortest(narrow[:3]), shortest(narrow[3:6])]
    finite = np.isfinite(narrow)
    assert np.array_equal(np.float32([v for v in got["array"] if v is not None]), narrow[finite])  # the same float32s
    assert got["half"] == [0.1, 65500.0, 6e-08, None] and got["half_scalar"] == 0.1     # 65500 reads as 65504
    assert got["wide"] == got["wide_array"][1] == 0.10000000149011612 and got["wide_array"][0] == 0.1
    assert got["torch"] == [0.1, None] and got["torch_scalar"] == 0.7
    assert got["bf16"] == 0.10009765625 and got["int"] == 7                 # bfloat16: numpy has no type for it


def test_a_pandas_float32_column_is_written_by_its_shortest_text_as_a_numpy_array_is(tmp_path):
    # a float32 Series (a frame's column, an Index) was written by its tolist, widened: 0.10000000149011612;
    # a nullable Float32 column's NA was 'not JSON serialisable: NAType'
    import numpy as np
    import pandas as pd
    values = np.float32([0.1, 1 / 3, np.nan, 2097152.25])
    frame = pd.DataFrame({"x": values, "wide": values.astype(np.float64)})
    path = tmp_path / "metrics.json"
    write_json(path, {"series": pd.Series(values), "column": frame["x"], "index": pd.Index(values[:2]),
                      "nullable": pd.Series([0.1, None], dtype="Float32"), "wide": frame["wide"],
                      "array": values})
    text = path.read_text()
    got = _strict(text)
    assert got["series"] == got["column"] == got["array"] == [0.1, 0.33333334, None, 2097152.2]
    assert got["index"] == [0.1, 0.33333334] and got["nullable"] == [0.1, None]
    assert got["wide"] == [0.10000000149011612, 0.3333333432674408, None, 2097152.25]   # float64 as it is
    assert text.count("0.10000000149011612") == 1


def test_json_keeps_numpy_integers_and_bools_as_they_are_and_writes_any_float16_by_its_shortest_text(tmp_path):
    # integers and bools are no float32 to shorten (np.int32(7) stays 7, not 7.0); a float16 array of 16 values
    # or more, and a torch float16 tensor, are each value's shortest text as a short one is (pyarrow writes a
    # float16 widened: 0.0999755859375)
    import numpy as np
    half = np.float16(np.linspace(0, 1, 21))
    path = tmp_path / "metrics.json"
    write_json(path, {"int": np.int32(7), "ints": np.arange(3, dtype=np.int16), "bools": np.array([True, False]),
                      "half": half, "torch_half": torch.tensor([0.1, 0.2], dtype=torch.float16),
                      "torch_int": torch.tensor([3, 4], dtype=torch.int32)})
    text = path.read_text()
    got = _strict(text)
    assert '"int": 7,' in text and got["ints"] == [0, 1, 2] and all(type(v) is int for v in got["ints"])
    assert got["bools"] == [True, False] and [type(v) for v in got["torch_int"]] == [int, int]
    assert got["half"] == [float(str(v)) for v in half] and got["half"][2] == 0.1 != float(half[2])
    assert got["torch_half"] == [0.1, 0.2]


def test_a_pandas_float32_array_is_written_as_its_series_is():
    # a column's .array (pandas.arrays, not pandas as a Series is): a nullable Float32 one's NA was 'not JSON
    # serialisable: NAType' where only the pandas module itself was told a pandas object
    import numpy as np
    import pandas as pd
    from lstmkit.files import json_safe
    nullable = pd.array([0.1, None], dtype="Float32")
    assert type(nullable).__module__ != "pandas" and json_safe(nullable) == [0.1, None]
    assert json_safe(pd.Series(np.float32([0.1, 1 / 3])).array) == [0.1, 0.33333334]


# -- verified run folders: lstmkit.json records the weights' SHA-256 ---------------------------
def _hashed_run(tmp_path, weights=None):
    run = tmp_path / "hashed"
    run.mkdir()
    save_tensors(run / "model.safetensors", weights or {"w": torch.arange(6.0).view(2, 3)})
    write_json(run / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "forecast", "status": "finished"})
    return run


def _flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01                                   # still a valid file: one weight changes a little
    path.write_bytes(bytes(data))


def test_meta_records_the_weights_sha256_and_loading_checks_it(tmp_path):
    import hashlib
    run = _hashed_run(tmp_path)
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["weights_sha256"] == {"model.safetensors": hashlib.sha256((run / "model.safetensors").read_bytes()).hexdigest()}
    read_run(run, "forecast")
    _flip_last_byte(run / "model.safetensors")
    with pytest.raises(LstmkitError) as e:
        read_run(run, "forecast")
    msg = str(e.value)
    assert "model.safetensors" in msg and "SHA-256" in msg and "retrain" in msg and "\n" not in msg


def test_a_run_without_recorded_hashes_still_loads(tmp_path):
    run = _run(tmp_path)                              # lstmkit.json written before the weights: no hash
    assert "weights_sha256" not in json.loads((run / "lstmkit.json").read_text())
    _flip_last_byte(run / "model.safetensors")
    read_run(run, "forecast")


def test_non_finite_weights_are_refused(tmp_path):
    run = _hashed_run(tmp_path, {"w": torch.full((2, 3), float("nan")), "n": torch.arange(3)})
    with pytest.raises(LstmkitError, match="model.safetensors holds NaN or infinite weights.*'w'"):
        read_run(run, "forecast")


def test_a_damaged_forecast_run_is_one_line_exit_2(tmp_path, capsys):
    from cli_helpers import assert_user_error, run_cli
    from forecast_data import FAST, sine_frame
    from lstmkit.tasks.forecast.estimator import Forecaster
    df = sine_frame(n=160)
    est = Forecaster(**{**FAST, "max_epochs": 1}).fit(df, target="y", time="time", out=tmp_path / "runs")
    _flip_last_byte(est.run_dir_ / "model.safetensors")
    with pytest.raises(LstmkitError, match="SHA-256"):
        Forecaster.load(est.run_dir_)
    df.to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "predict", "--run", est.run_dir_, "--data", tmp_path / "d.csv"], capsys)
    assert_user_error(code, err, "model.safetensors", "SHA-256")


# -- the environment: --out naming a file, file modes ---------------------------------------------
def test_a_file_written_onto_a_folder_is_one_line_exit_2(tmp_path, capsys):
    """``predict --out FOLDER``: the rename onto a folder was a bare IsADirectoryError traceback."""
    from cli_helpers import assert_user_error, run_cli
    from forecast_data import sine_frame
    (tmp_path / "preds").mkdir()
    with pytest.raises(LstmkitError, match=r"cannot write .*preds: it is a folder.*preds/out.csv"):
        atomic_write(tmp_path / "preds", lambda tmp: Path(tmp).write_text("x"))
    assert list((tmp_path / "preds").iterdir()) == [] and len(list(tmp_path.iterdir())) == 1   # no temp left
    sine_frame(n=160).to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--target", "y", "--time", "time",
                            "--horizon", "3", "--out", tmp_path / "runs", "--epochs", "1", "--ensemble", "1",
                            "--progress", "off"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").iterdir())
    code, _, err = run_cli(["forecast", "predict", "--run", run, "--data", tmp_path / "d.csv", "--out",
                            tmp_path / "preds"], capsys)
    assert_user_error(code, err, "it is a folder", "preds/forecast.csv")   # refused before the forecast


def test_out_naming_an_existing_file_is_one_line_exit_2(tmp_path, capsys):
    from cli_helpers import assert_user_error, run_cli
    from forecast_data import sine_frame
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(LstmkitError, match="is a file, not a folder"):
        new_run_dir(tmp_path / "taken", "forecast")
    with pytest.raises(LstmkitError, match="is a file, not a folder"):
        new_run_dir(tmp_path / "taken" / "deeper", "forecast")
    sine_frame(n=160).to_csv(tmp_path / "d.csv", index=False)
    code, _, err = run_cli(["forecast", "train", "--data", tmp_path / "d.csv", "--target", "y",
                            "--out", tmp_path / "taken", "--epochs", "1"], capsys)
    assert_user_error(code, err, str(tmp_path / "taken"), "--out")
    assert (tmp_path / "taken").read_text() == "a file"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_run_files_follow_the_umask(tmp_path, umask):
    import os
    old = os.umask(umask)
    try:
        write_json(tmp_path / "m.json", {"a": 1})
        save_tensors(tmp_path / "w.safetensors", {"w": torch.zeros(2)})
        atomic_write(tmp_path / "x.txt", lambda tmp: open(tmp, "w").write("x"))
    finally:
        os.umask(old)
    for name in ("m.json", "w.safetensors", "x.txt"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_to_json_is_strict_json_with_time_stamps_and_non_finite_numbers():
    """What `--json` prints (metrics, a backtest's folds with their cutoff times) parses strictly."""
    import datetime

    import numpy as np
    import pandas as pd
    from lstmkit.runs import to_json

    obj = {"cutoff": pd.Timestamp("2024-01-07"), "day": datetime.date(2024, 1, 8), "RMSE": float("inf"),
           "MAE": np.float64("nan"), "folds": np.array([1.5, np.inf])}
    strict = json.loads(to_json(obj), parse_constant=lambda c: pytest.fail(f"non-standard JSON token {c}"))
    assert strict == {"cutoff": "2024-01-07T00:00:00", "day": "2024-01-08", "RMSE": None, "MAE": None,
                      "folds": [1.5, None]}


def test_the_out_folder_given_for_a_run_names_the_runs_inside(tmp_path):
    """'--run runs' (the --out folder) said only 'no lstmkit.json'; the runs in it are one level down."""
    for name in ("lm-20260101-000000", "lm-20260102-000000", "speech-20260103-000000"):
        task = name.split("-")[0]
        (tmp_path / name).mkdir()
        write_json(tmp_path / name / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": task})
    (tmp_path / "notes").mkdir()
    with pytest.raises(LstmkitError, match=r"no lstmkit.json\); it holds 2 lm run folder\(s\) — pass one of them, "
                                           r"e.g. \S*lm-20260102-000000$"):
        read_meta(tmp_path, "lm")
    with pytest.raises(LstmkitError, match=r"it holds 3 run folder\(s\) — pass one of them, e.g. \S*speech-20260103"):
        read_meta(tmp_path)
    with pytest.raises(LstmkitError, match=r"no lstmkit.json\) — pass the folder printed by"):
        read_meta(tmp_path / "notes")


def test_a_vocabulary_from_another_run_is_refused(tmp_path):
    """Two runs' vocab.json of the same size swapped: every token was read as another word, the
    predictions silently wrong; its SHA-256 is recorded beside the weights' and checked."""
    run = tmp_path / "run"
    run.mkdir()
    save_tensors(run / "model.safetensors", {"w": torch.arange(6.0).view(2, 3)})
    (run / "vocab.json").write_text(json.dumps({"itos": ["<pad>", "<unk>", "good", "bad"]}))
    write_json(run / "lstmkit.json", {"format_version": FORMAT_VERSION, "task": "classify", "status": "finished"})
    assert set(json.loads((run / "lstmkit.json").read_text())["weights_sha256"]) == {"model.safetensors", "vocab.json"}
    read_run(run, "classify")
    (run / "vocab.json").write_text(json.dumps({"itos": ["<pad>", "<unk>", "bad", "good"]}))
    # WeightsMismatch: what serve --watch waits for quietly, as a save caught between its two writes
    with pytest.raises(WeightsMismatch, match=r"vocab.json does not match the SHA-256 recorded in lstmkit.json"):
        read_run(run, "classify")
    (run / "vocab.json").write_text(json.dumps({"itos": ["<pad>", "<unk>", "good", "bad"]}))
    save_tensors(run / "model.safetensors", {"w": torch.arange(6.0).view(3, 2)})
    with pytest.raises(WeightsMismatch, match=r"model.safetensors does not match the SHA-256 recorded in lstmkit.json"):
        read_run(run, "classify")


def test_weights_of_other_shapes_than_lstmkit_json_describes_are_a_weights_mismatch(tmp_path):
    """A retrain with another hidden size saved into the run folder writes its weights, then lstmkit.json: between the
    two, the weights do not fit the model the old lstmkit.json describes. WeightsMismatch (what serve --watch waits
    for quietly), as weights of the recorded shapes but another checksum are; the message is the one it was."""
    from lstmkit.runs import build_checked, load_weights
    build = lambda: torch.nn.Linear(3, 2)                           # noqa: E731
    with pytest.raises(WeightsMismatch, match=r"model.safetensors does not match the model in lstmkit.json \(weight: "
                       r"the metadata asks for 2x3, the weights hold 4x3\) — the two files come from different runs"):
        build_checked(build, {"weight": torch.empty(4, 3, device="meta"), "bias": torch.empty(2, device="meta")},
                      tmp_path)
    with pytest.raises(WeightsMismatch, match=r"the metadata asks for 10,100 numbers, the weights hold 100"):
        build_checked(lambda: torch.nn.Linear(100, 100), {"bias": torch.empty(100, device="meta")}, tmp_path,
                      exact=False)                                  # an int8 run's stored integers: at least half
    with pytest.raises(WeightsMismatch, match=r"does not match the model in lstmkit.json \(Error\(s\) in loading"):
        load_weights(build(), {"weight": torch.zeros(2, 3)}, tmp_path)
    assert build_checked(build, {"weight": torch.empty(2, 3, device="meta"), "bias": torch.empty(2, device="meta")},
                         tmp_path).weight.shape == (2, 3)


def test_a_name_longer_than_the_file_system_takes_is_one_clear_error(tmp_path):
    """The OSError (File name too long) of writing it was a traceback from every command's --out."""
    with pytest.raises(LstmkitError, match="the name 'ééé.*' is 260 bytes long; .* at most 255 bytes") as e:
        atomic_write(tmp_path / ("é" * 130) / "x.csv", lambda tmp: Path(tmp).write_text("x"))
    assert e.value.hint == "pass a shorter name"
    with pytest.raises(LstmkitError, match="--out: the name .* 258 bytes long"):
        new_run_dir(tmp_path / ("x" * 258), "forecast")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["p" * 251 + ".csv", "é" * 125 + ".csv", "日" * 83 + ".csv"])
def test_a_name_the_file_system_takes_is_written_though_its_temporary_name_is_longer(name, tmp_path):
    """A name of 242 to 255 bytes passed the length check, but its temporary file (``.NAME.`` + 8
    characters + ``.tmp``) was longer than 255 bytes: 'could not write … (file name too long) — free
    space or fix permissions', after the work; an int8 export beside a run of such a name too."""
    from lstmkit.files import remove_left_temps
    assert len(name.encode()) >= 242
    atomic_write(tmp_path / name, lambda tmp: Path(tmp).write_text("x"))
    assert (tmp_path / name).read_text() == "x" and [p.name for p in tmp_path.iterdir()] == [name]
    (tmp_path / ("." + name[:60] + ".abcdefgh.tmp")).write_text("left by kill -9")
    remove_left_temps(tmp_path)                       # a cut name is still one of lstmkit's temporary files
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_home_folder_path_from_python_is_told_in_pythons_words(tmp_path, monkeypatch):
    """``Forecaster.load("~/runs/x")``: no shell is there to expand '~', and the fix said 'the shell expands
    '~' only outside quotes and not after '=''; on the command line it still does."""
    from lstmkit.tasks.forecast.estimator import Forecaster
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(LstmkitError, match="run folder not found: ~/runs/x") as e:
        Forecaster.load("~/runs/x")
    assert e.value.hint == f"lstmkit reads '~' as a folder's name, as pathlib does: pass {tmp_path}/runs/x " \
                           "(os.path.expanduser)"


def test_a_file_of_a_run_is_told_its_folder(tmp_path):
    """lstmkit.load('runs/x/model.safetensors') (a path copied from a file browser) was 'pass the
    folder printed by train'; the folder is right there."""
    run = _run(tmp_path)
    for name in ("lstmkit.json", "model.safetensors"):
        with pytest.raises(LstmkitError, match="is a file of a run folder, not the folder") as e:
            read_run(run / name, "forecast")
        assert e.value.hint == f"pass its folder: {run}"
    assert read_run(run, "forecast")[0]["task"] == "forecast"


def test_a_path_with_windows_backslashes_is_told_the_path_with_slashes(tmp_path, monkeypatch):
    """A config written on Windows (`data: data\\sales.csv`), a path copied from Explorer: 'file not
    found: data\\sales.csv — check the path', though data/sales.csv was right there."""
    from lstmkit.data.tables import read_frame
    from lstmkit.tasks.forecast.estimator import Forecaster
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sales.csv").write_text("t,y\n1,2\n")
    with pytest.raises(LstmkitError, match=r"file not found: data\\sales.csv") as e:
        read_frame("data\\sales.csv")
    assert e.value.hint == "'\\' separates no folders on this system: pass data/sales.csv"
    with pytest.raises(LstmkitError, match=r"run folder not found") as e:
        Forecaster.load("data\\runs\\x")
    assert e.value.hint != "'\\' separates no folders on this system: pass data/runs/x"     # not there either


def test_weights_whose_header_length_starts_with_a_pickle_byte_are_read(tmp_path):
    """A header of 128 + 256 k bytes begins the file with 0x80, a pickle's first byte: such weights were
    once taken for a torch.save pickle (the series classifiers' runs); only a file whose header cannot be
    one is."""
    import torch
    from safetensors.torch import save

    from lstmkit.runs import declared_weights
    tensors = {"w": torch.ones(2, 3)}
    data = next(d for d in (save(tensors, metadata={"pad": "x" * k}) for k in range(300)) if d[0] == 0x80)
    (tmp_path / "model.safetensors").write_bytes(data)
    declared = declared_weights(tmp_path)
    assert list(declared) == ["w"] and declared["w"].shape == (2, 3) and declared["w"].dtype == torch.float32


# -- time stamps: RFC 3339, the offset with its colon, as JavaScript's Date.parse is specified to read ----
RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)"


def test_a_saved_run_and_an_update_record_their_times_in_rfc3339(tmp_path):
    import datetime
    import re

    import numpy as np

    from estimator_data import QUICK
    from lstmkit import Forecaster
    f = Forecaster(lookback=8, horizon=2, **QUICK).fit(np.sin(np.arange(80) / 4))
    written = json.loads((f.save(tmp_path / "run") / "lstmkit.json").read_text())["written"]
    f.update(np.sin(np.arange(80, 120) / 4), epochs=1)
    for stamp in (written, f.last_update_["when"]):
        assert re.fullmatch(RFC3339, stamp), stamp          # '+0000' was the basic form's offset in an extended stamp
        assert datetime.datetime.fromisoformat(stamp).tzinfo is not None


# -- a safetensors header of another shape (found by coverage-guided fuzzing) ---------------------------
@pytest.mark.parametrize("entry", [
    {"dtype": {}, "shape": [6], "data_offsets": [0, 24]},             # was TypeError: unhashable type: 'dict'
    {"dtype": "F32", "shape": ["6"], "data_offsets": [0, 24]},         # was read as the number 6
    {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 24]},         # was read as 2
    {"dtype": "F32", "shape": [6], "data_offsets": ["0", 24]},         # was TypeError: unsupported operand type(s)
    {"dtype": "F32", "shape": [0, 10 ** 30], "data_offsets": [0, 0]},   # was torch's overflow (TypeError)
    {"dtype": "F32", "shape": [0, 2 ** 62, 2 ** 62], "data_offsets": [0, 0]},   # was 'Stride calculation overflowed'
    # mutants that took these for whole numbers survived: a JSON true is no 1, nor false an offset 0; a side of
    # 2**63 or -2**64 is past int64 (a shape of no elements with a side of 2**63 went on to torch)
    {"dtype": "F32", "shape": [True], "data_offsets": [0, 4]},
    {"dtype": "F32", "shape": [6], "data_offsets": [False, 24]},
    {"dtype": "F32", "shape": [6], "data_offsets": [0, 24.0]},
    {"dtype": "F32", "shape": [0, 2 ** 63], "data_offsets": [0, 0]},
    {"dtype": "F32", "shape": [-(2 ** 64)], "data_offsets": [0, 0]},
])
def test_a_safetensors_header_entry_of_another_shape_is_one_clear_error(tmp_path, entry):
    from lstmkit.runs import declared_weights
    header = json.dumps({"w": entry}).encode()
    stop = entry["data_offsets"][1]
    body = bytes(int(stop)) if isinstance(stop, (int, float)) else b""
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + body)
    with pytest.raises(LstmkitError, match=r"model.safetensors in .* is corrupt or truncated \(its header's entry "
                                           r"'w' is not a tensor's") as e:
        declared_weights(tmp_path)
    assert "\n" not in str(e.value)


def test_a_safetensors_tensor_that_begins_before_the_data_is_corrupt(tmp_path):
    """'"data_offsets": [-24, 0]' spans 24 bytes, as a shape of 6 float32 needs, and ends where the data
    begins: a negative offset is refused, not read as a tensor (a mutant without that check survived)."""
    from lstmkit.runs import declared_weights
    header = json.dumps({"w": {"dtype": "F32", "shape": [6], "data_offsets": [-24, 0]}}).encode()
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(LstmkitError, match=r"model.safetensors in .* is corrupt or truncated \(w is declared \[6\]"):
        declared_weights(tmp_path)
