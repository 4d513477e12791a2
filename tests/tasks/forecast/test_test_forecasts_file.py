"""``test_forecasts.csv`` (a run's) and ``forecast evaluate --out``: every test forecast the printed
table was scored from, so that each of its rows -- the model's and every baseline's -- is recomputed
from the file alone with the metrics' definitions (metrics.py), as a user checking them would."""
import json

import numpy as np
import pandas as pd
import pytest

from cli_helpers import assert_user_error, run_cli
from lstmkit import Forecaster
from lstmkit.tasks.forecast.metrics import format_probabilistic, format_table
from one_thread import one_thread_per_module  # noqa: F401  (autouse: one torch thread, module fixtures too)

QUICK = dict(lookback=8, horizon=3, season=4, hidden_size=8, num_layers=1, dropout=0.0, batch_size=64, lr=1e-2,
             progress="off", tensorboard=False, device="cpu", doctor=False, ensemble=1, max_epochs=1,
             samples_per_epoch=32, seed=0, combine="none", ets=True, val_size=4, test_size=5, deseason=0,
             log=False, segment=0, highway=0)
BASELINES = ["naive", "seasonal_naive", "ets"]


def _series(n: int, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + 0.1 * t + 2 * np.sin(2 * np.pi * t / 4) + rng.normal(0, 0.3, n)


def one_series() -> pd.DataFrame:
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=40, freq="D"), "y": _series(40, 10.0, 0)})


def panel() -> pd.DataFrame:
    """Three shops of 30 days, two targets (sales, and visits in other units)."""
    parts = [pd.DataFrame({"shop": f"s{k}", "date": pd.date_range("2024-01-01", periods=30, freq="D"),
                           "sales": _series(30, 10.0 + 5 * k, k), "visits": 100 + 10 * _series(30, 1.0 + k, 10 + k)})
             for k in range(3)]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    one_series().to_csv(tmp / "one.csv", index=False)
    est = Forecaster(**QUICK).fit(str(tmp / "one.csv"), target="y", time="date", out=tmp / "runs")
    return est, est.run_dir_, tmp / "one.csv"


@pytest.fixture(scope="module")
def shops(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shops")
    panel().to_csv(tmp / "shops.csv", index=False)
    est = Forecaster(**QUICK, quantiles=[0.1, 0.5, 0.9]).fit(str(tmp / "shops.csv"), target=["sales", "visits"],
                                                            time="date", id="shop", out=tmp / "runs")
    return est, est.run_dir_, tmp / "shops.csv"


def recompute(table: pd.DataFrame, model: str, id_col: str | None = None) -> dict[str, dict[str, float]]:
    """Each row of the metrics table from the file by the definitions: per series MAE, RMSE, MAPE, sMAPE over
    its observed points (every target pooled), MASE the mean over targets of MAE_j / mase_scale_j; then the
    mean over series."""
    table = table[table["actual"].notna()]
    groups = table.groupby(id_col) if id_col else [("", table)]
    target = "target" if "target" in table else None
    rows = {}
    for name in [model, *BASELINES]:
        per = []
        for _, g in groups:
            y, f = g["actual"].to_numpy(), g[name].to_numpy()
            e = np.abs(y - f)
            by_target = g.groupby(target) if target else [("", g)]
            mase = np.mean([np.abs(t["actual"] - t[name]).mean() / t["mase_scale"].iloc[0] for _, t in by_target])
            per.append({"MAE": e.mean(), "RMSE": np.sqrt((e ** 2).mean()), "MAPE": 100 * np.mean(e / np.abs(y)),
                        "sMAPE": 100 * np.mean(2 * e / (np.abs(y) + np.abs(f))), "MASE": mase})
        rows[name] = {k: float(np.mean([p[k] for p in per])) for k in per[0]}
    return rows


def _close(got: dict, want: dict) -> None:
    for name, metrics in want.items():
        for k, v in metrics.items():
            assert got[name][k] == pytest.approx(v, rel=1e-9), (name, k)


def test_one_series_run_holds_its_test_forecasts_and_every_printed_row_is_recomputed_from_them(single):
    est, run, _ = single
    table = pd.read_csv(run / "test_forecasts.csv")
    assert list(table.columns) == ["origin", "step", "date", "actual", "lstm", *BASELINES, "mase_scale"]
    assert len(table) == 3 * 3                           # 5 test points: 3 origins of horizon 3
    assert table["step"].tolist() == [1, 2, 3] * 3
    # the data's own dates: the origin's and the point's, a step apart per horizon step
    origin, when = pd.to_datetime(table["origin"]), pd.to_datetime(table["date"])
    assert ((when - origin).dt.days == table["step"]).all()
    data = one_series().set_index("date")["y"]
    np.testing.assert_allclose(table["actual"], data.loc[when].to_numpy())
    np.testing.assert_allclose(table["naive"], data.loc[origin].to_numpy())     # the last value at its origin
    metrics = json.loads((run / "metrics.json").read_text())["metrics"]
    mine = recompute(table, "lstm")
    _close(metrics, mine)
    assert format_table(mine) == format_table(metrics)                # the rows train printed, to the digit
    # the model's column is test_forecasts(): the same windows, the same numbers
    got = est.test_forecasts(one_series())
    np.testing.assert_allclose(table["lstm"], got["forecast"][:, :, 0].reshape(-1), rtol=1e-12)


def test_a_panel_of_several_targets_names_its_series_and_targets_and_its_rows_and_coverage_recompute(shops):
    est, run, _ = shops
    table = pd.read_csv(run / "test_forecasts.csv")
    assert list(table.columns) == ["shop", "target", "origin", "step", "date", "actual", "lstm", "q0.1", "q0.5",
                                   "q0.9", *BASELINES, "mase_scale"]
    assert sorted(table["shop"].unique()) == ["s0", "s1", "s2"] and sorted(table["target"].unique()) == ["sales",
                                                                                                          "visits"]
    assert len(table) == 3 * 2 * 3 * 3                   # shops x targets x origins x steps
    record = json.loads((run / "metrics.json").read_text())
    mine = recompute(table, "lstm", "shop")
    _close(record["metrics"], mine)
    for t in ("sales", "visits"):                        # each target's own table
        _close(record["per_target"][t], recompute(table[table["target"] == t], "lstm", "shop"))
    # coverage of the 80% interval: the share of actual values between q0.1 and q0.9, over every point
    inside = (table["actual"] >= table["q0.1"]) & (table["actual"] <= table["q0.9"])
    assert record["metrics"]["lstm"]["coverage_80"] == pytest.approx(inside.mean())
    sales = inside[table["target"] == "sales"]
    assert record["per_target"]["sales"]["lstm"]["coverage_80"] == pytest.approx(sales.mean())
    # the actual values are the table's: each shop's value on that date
    data = panel().set_index(["shop", "date"])
    want = [data.loc[(s, pd.Timestamp(d)), t] for s, d, t in zip(table["shop"], table["date"], table["target"])]
    np.testing.assert_allclose(table["actual"], want)


def test_evaluate_out_writes_the_file_train_wrote_on_the_same_data(shops, tmp_path, capsys):
    _, run, data = shops
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--out", tmp_path / "ev.csv"],
                             capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ev.csv"), pd.read_csv(run / "test_forecasts.csv"))
    assert "wrote 54 test forecasts to" in err
    record = json.loads((run / "metrics.json").read_text())
    assert format_table(record["metrics"]) in out                     # the printed table, beside the file
    inside = pd.read_csv(tmp_path / "ev.csv").eval("actual >= `q0.1` and actual <= `q0.9`")
    assert format_probabilistic({"coverage_80": inside.mean()}).split(": ")[1] in out
    assert not list(tmp_path.glob("*.tmp"))                           # written to a temporary file, then renamed


def test_evaluate_out_of_one_series_with_json_keeps_standard_output_json(single, tmp_path, capsys):
    _, run, data = single
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--json",
                              "--out", tmp_path / "ev.parquet"], capsys)
    assert code == 0, err
    json.loads(out)                                                   # the note went to standard error
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ev.parquet").astype({"origin": str, "date": str}),
                                  pd.read_csv(run / "test_forecasts.csv"), check_dtype=False)


def test_evaluate_out_as_json_holds_the_floats_parquet_holds(single, tmp_path, capsys):
    # JSON kept 10 significant digits: a forecast read from it was not the one the CSV and Parquet hold
    _, run, data = single
    for name in ("ev.json", "ev.parquet"):
        code, _, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--out", tmp_path / name], capsys)
        assert code == 0, err
    records = pd.DataFrame(json.loads((tmp_path / "ev.json").read_text()))
    stored = pd.read_parquet(tmp_path / "ev.parquet")
    for column in ("actual", "lstm", *BASELINES, "mase_scale"):
        assert records[column].tolist() == stored[column].tolist(), column


def test_evaluate_out_to_standard_output_keeps_the_metrics_off_it(single, capfd):
    # --out /dev/stdout --json wrote the CSV and then the metrics' JSON into one stream: neither could be read
    _, run, data = single
    code, out, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--json",
                              "--out", "/dev/stdout"], capfd)         # captured at file descriptor 1
    assert code == 0, err
    import io
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(out)), pd.read_csv(run / "test_forecasts.csv"))
    assert json.loads(err[err.index("{"):])["metrics"] == json.loads((run / "metrics.json").read_text())["metrics"]


def test_evaluate_out_refuses_a_folder_and_a_run_file_before_any_work(single, tmp_path, capsys):
    _, run, data = single
    (tmp_path / "d.csv").mkdir()
    code, _, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data, "--out", tmp_path / "d.csv"], capsys)
    assert_user_error(code, err, "it is a folder", "d.csv")
    assert not any((tmp_path / "d.csv").iterdir())
    code, _, err = run_cli(["forecast", "evaluate", "--run", run, "--data", data,
                            "--out", run / "test_forecasts.csv"], capsys)
    assert_user_error(code, err, "test_forecasts.csv")


def test_no_test_windows_write_no_file_and_say_so_on_standard_error(tmp_path, capsys):
    # standard output holds the metrics (JSON with --json): the note beside them made it no JSON
    from lstmkit.table_out import is_standard_output
    from lstmkit.tasks.forecast.cli import _write_forecasts
    _write_forecasts(None, tmp_path / "ev.csv")
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("no test windows") and not (tmp_path / "ev.csv").exists()
    # a file not there (none written): not standard output, so the metrics stay on it
    assert is_standard_output(tmp_path / "ev.csv") is False and is_standard_output(None) is False


def test_a_run_saved_elsewhere_keeps_its_test_forecasts(single, tmp_path):
    _, run, _ = single
    copy = Forecaster.load(run).save(tmp_path / "copy")
    assert (copy / "test_forecasts.csv").read_bytes() == (run / "test_forecasts.csv").read_bytes()


def test_test_forecasts_past_the_most_rows_are_left_out_with_a_warning_naming_how_to_write_them(single, tmp_path,
                                                                                                  monkeypatch):
    """A fit keeps the table only up to MOST_ROWS rows (windows x steps x targets): at most, as many as
    the one-series run wrote, it is written; one fewer, it is not, and the warning names the rows and
    the command that writes them."""
    import lstmkit.tasks.forecast.forecast_table as forecast_table
    _, run, data = single
    rows = len(pd.read_csv(run / "test_forecasts.csv"))
    assert rows == (5 - 3 + 1) * 3          # test_size 5, horizon 3: three windows of three steps
    monkeypatch.setattr(forecast_table, "MOST_ROWS", rows)
    at_most = Forecaster(**QUICK).fit(str(data), target="y", time="date", out=tmp_path / "at")
    assert len(pd.read_csv(at_most.run_dir_ / "test_forecasts.csv")) == rows
    monkeypatch.setattr(forecast_table, "MOST_ROWS", rows - 1)
    with pytest.warns(UserWarning, match=r"the test part's forecasts are 9 rows \(3 windows x 3 steps x 1 target\), "
                                         r"over the 8 the run folder's test_forecasts.csv holds: it is not written — "
                                         r"Forecaster.test_forecasts\(data\) gives them"):
        over = Forecaster(**QUICK).fit(str(data), target="y", time="date", out=tmp_path / "over")
    assert not (over.run_dir_ / "test_forecasts.csv").exists() and (over.run_dir_ / "metrics.json").exists()


@pytest.mark.parametrize("change", [{}, {"id": ["a,b", 'say "x"', "c"]}, {"id": [1, 2, 3]},
                                    {"origin": pd.date_range("2024-03-30 22:00", periods=3, freq="h",
                                                             tz="Europe/Berlin")},
                                    {"date": pd.to_datetime(["2024-01-01 00:00:00.5"] * 3)},
                                    {"actual": [1e-05, np.nan, -0.0]}],
                         ids=["plain", "quoted", "numbers", "zoned", "fractions", "floats"])
def test_the_file_is_written_as_pandas_writes_it(change, tmp_path):
    """pyarrow's writer (ten times pandas' speed on a million rows) reads back as pandas' to_csv, its
    dates and hours spelled alike."""
    from lstmkit.tasks.forecast.forecast_table import write_csv
    table = pd.DataFrame({"id": ["s0", "s0", "s1"], "origin": pd.date_range("2024-01-01 09:00", periods=3, freq="h"),
                          "step": [1, 2, 1], "date": pd.date_range("2024-01-02", periods=3, freq="D"),
                          "actual": [1.5, 0.30000000000000004, 2e20]}).assign(**change)
    write_csv(table, tmp_path / "fast.csv")
    table.to_csv(tmp_path / "pandas.csv", index=False)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "fast.csv"), pd.read_csv(tmp_path / "pandas.csv"))
    # the same text, up to a small float's spelling (0.00001) and quotes around every text of a column that needs them
    if "actual" not in change and "a,b" not in change.get("id", []):
        assert (tmp_path / "fast.csv").read_text() == (tmp_path / "pandas.csv").read_text()


def test_an_m4_files_test_forecasts_name_their_time_t_as_predict_does(tmp_path):
    """An M4 file's times are step numbers that predict names ``t``; the test forecasts named them ``time``. Each
    forecast point's ``t`` is its origin's plus its step."""
    t = np.arange(40)
    rows = [",".join([f'"M{k + 1}"', *(f'"{v:.2f}"' for v in 10 + 5 * k + 2 * np.sin(2 * np.pi * t / 4))])
            for k in range(2)]
    path = tmp_path / "mine.csv"
    path.write_text("\n".join([",".join(f'"V{j}"' for j in range(1, 42)), *rows]) + "\n")
    est = Forecaster(**QUICK, format="m4").fit(str(path), out=tmp_path / "runs")
    table = pd.read_csv(est.run_dir_ / "test_forecasts.csv")
    assert "t" in table.columns and "time" not in table.columns
    assert (table["t"] == table["origin"] + table["step"]).all()
    assert "t" in est.predict(str(path)).columns


def test_evaluate_out_of_a_run_without_test_windows_says_so_on_standard_error_and_writes_nothing(tmp_path, capsys):
    """test_size 0: no test forecast to write; the note goes to standard error, the --json answer alone to
    standard output, and no file is made; with ``-`` (named standard output) nothing is written there, the
    answer going to standard error as it does beside a table."""
    one_series().to_csv(tmp_path / "one.csv", index=False)
    est = Forecaster(**{**QUICK, "test_size": 0}).fit(str(tmp_path / "one.csv"), target="y", time="date",
                                                     out=tmp_path / "runs")
    argv = ["forecast", "evaluate", "--run", est.run_dir_, "--data", tmp_path / "one.csv", "--json", "--out"]
    code, printed, err = run_cli([*argv, tmp_path / "ev.csv"], capsys)
    assert code == 0, err
    assert json.loads(printed)["test_points"] == 0 and not (tmp_path / "ev.csv").exists()
    assert err.strip() == f"no test windows (test_size 0): nothing written to {tmp_path / 'ev.csv'}"
    code, printed, err = run_cli([*argv, "-"], capsys)
    assert code == 0 and printed == "", err
    assert "no test windows (test_size 0): nothing written to standard output" in err
