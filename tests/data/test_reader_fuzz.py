"""Property-based fuzzing of the readers of downloaded data: whatever mostly-broken text or bytes a
file holds, each reader returns a well-formed result or raises one :class:`LstmkitError`; any other
exception is a bug. Inputs come from grammars of plausible and corrupted pieces, so the parsers get
past their first check; failures found are kept as ``@example``s."""
import bz2
import gzip
import io
import lzma
import tempfile
import warnings
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lstmkit.data.compressed import read_data
from lstmkit.data.decoding import text_lines
from lstmkit.data.textsets import class_index_csv, fasttext_lines
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.tsfile import parse_ts
from lstmkit.tasks.forecast.tsffile import parse_tsf
from lstmkit.tasks.speech.corpora import _lj_line, _trans_lines

# the deadline catches a reader that runs away on some input (a regex backtracking); an example takes
# under 70 ms even on a loaded machine, and 10 s leaves the suite's busiest moments no chance to trip it
FUZZ = settings(max_examples=150, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _either(call):
    """``call()``'s result, or None when it raised LstmkitError; warnings are the readers' business."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except LstmkitError as e:
            assert str(e).strip()
            return None


# pieces: plausible and corrupted
junk = st.text(st.sampled_from("ab1.-:,?@#_ \t\u00e9\x00\u00b2\u0663"), max_size=8)     # ², Arabic-Indic 3
numbers = st.sampled_from(["1", "-2.5", "0", "1e3", "3.5e38", "1e400", "nan", "inf", "-inf", "1_0", "?", "",
                           " 4 ", "x", "0x10", "٣"]) | st.floats(allow_nan=False, width=32).map(repr) | junk


def _joined(parts, sep):
    return st.lists(parts, max_size=6).map(sep.join)


# -- .tsf (Monash) -----------------------------------------------------------------------------------
tsf_dates = st.sampled_from(["1979-01-01 00-00-00", "2000-02-29", "9999-12-31 23-59-59", "0001-01-01",
                             "1979-13-01 00-00-00", "1979-01-01 00:00:00", "", "x"]) | junk
tsf_header = st.one_of(
    st.sampled_from(["@relation x", "@attribute series_name string", "@attribute start_timestamp date",
                     "@attribute state string", "@attribute n numeric", "@attribute value string",
                     "@attribute time date", "@attribute bad", "@attribute a b c", "@attribute x float",
                     "@frequency monthly", "@frequency daily", "@frequency 10_minutes", "@frequency yearly",
                     "@frequency 0_days", "@frequency 99999999999999999999_weeks", "@frequency 999999999_years",
                     "@frequency", "@frequency fortnightly", "@horizon 24", "@horizon 0", "@horizon -1",
                     "@horizon x", "@missing true", "@missing false", "@missing", "@equallength true",
                     "@equallength false", "@equallength maybe", "@", "@ ", "@unknown x", "# comment", "",
                     "not a tag"]),
    st.builds(lambda n, k: f"@frequency {n}_{k}", st.integers(0, 400) | st.integers(0, 10 ** 22),
              st.sampled_from(["seconds", "minutes", "hours", "days", "weeks", "months", "quarters", "years"])),
    st.builds("@{} {}".format, st.sampled_from(["attribute", "frequency", "horizon", "missing", "equallength"]), junk),
    st.builds("@{}".format, junk))
tsf_data = st.one_of(
    st.builds(lambda name, date, vals: f"{name}:{date}:{vals}", junk, tsf_dates, _joined(numbers, ",")),
    st.builds(lambda *f: ":".join(f), junk, _joined(numbers, ",")),
    st.sampled_from(["", "# comment", "@data", "@frequency daily", ":::", "T1:1979-01-01 00-00-00:?,?"]),
    junk)


@FUZZ
@given(head=st.lists(tsf_header, max_size=8), data=st.booleans(), body=st.lists(tsf_data, max_size=6))
@example(head=["@"], data=True, body=["T1:1"])
@example(head=["@attribute series_name string", "@frequency 99999999999999999999_weeks"], data=True, body=["T1:1"])
@example(head=["@attribute series_name string", "@frequency 999999999_years"], data=True, body=["T1:1"])
@example(head=["@horizon \u00b2"], data=True, body=["T1:1"])          # '²'.isdigit(), but int('²') fails
@example(head=["@attribute series_name string", "@frequency 200_years"], data=True, body=["T1:1,2,3"])
def test_tsf_any_lines(head, data, body):
    lines = head + ["@data"] * data + body
    table = _either(lambda: parse_tsf(lines, "x.tsf "))
    if table is not None:
        info = table.attrs["tsf"]
        assert isinstance(table, pd.DataFrame) and info["series"] >= 1 and len(table) >= info["series"]
        assert np.isfinite(table[info["target"]].dropna()).all()


# what hypothesis found, each a traceback before: the message names the line and the fix
@pytest.mark.parametrize("tag, message", [
    ("@", r"line 2: '@' names no header tag — write the tag right after '@'"),
    ("@horizon \u00b2", r"line 2: @horizon must be a positive whole number, got '\u00b2'"),
    ("@frequency 99999999999999999999_weeks", r"line 2: @frequency is a step of 99999999999999999999 weeks, longer "
     r"than the 584 years that pandas' time stamps span — check the number"),
    ("@frequency 999999999_years", r"line 2: @frequency is a step of 999999999 years")])
def test_tsf_header_found_by_fuzzing(tag, message):
    with pytest.raises(LstmkitError, match=message):
        parse_tsf(["@attribute series_name string", tag, "@data", "T1:1,2"], "x.tsf ")


def test_tsf_a_step_leaving_pandas_years_reads_without_season():
    table = parse_tsf(["@attribute series_name string", "@frequency 200_years", "@data", "T1:1,2,3"], "x.tsf ")
    assert table["value"].tolist() == [1, 2, 3] and table.attrs["tsf"]["season"] == 1


@st.composite
def valid_tsf(draw):
    """A well-formed file: its series' values by name (None: a '?', after the first when @missing
    true), their start dates and the lines it is written as."""
    n = draw(st.integers(1, 4))
    missing = draw(st.booleans())
    value = st.floats(-1e6, 1e6, allow_nan=False, width=32)
    rest = (st.none() | value) if missing else value              # a series' first value is never '?'
    series = {f"T{k}": [draw(value)] + draw(st.lists(rest, max_size=5)) for k in range(1, n + 1)}
    starts = {name: draw(st.datetimes(datetime(1980, 1, 1), datetime(2100, 1, 1))).replace(microsecond=0)
              for name in series}
    freq = draw(st.sampled_from(["monthly", "daily", "hourly", "10_minutes", "yearly"]))
    lines = ["@relation fuzz", "@attribute series_name string", "@attribute start_timestamp date",
             f"@frequency {freq}", "@horizon 3", f"@missing {'true' if missing else 'false'}", "@equallength false",
             "@data"]
    for name, vals in series.items():
        text = ",".join("?" if v is None else repr(v) for v in vals)
        lines.append(f"{name}:{starts[name]:%Y-%m-%d %H-%M-%S}:{text}")
    return series, starts, lines


@FUZZ
@given(case=valid_tsf())
def test_tsf_valid_files_round_trip(case):
    series, starts, lines = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse_tsf(lines, "x.tsf ")
    assert len(table) == sum(len(v) for v in series.values())      # one row per value
    for name, vals in series.items():
        got = table.loc[table["series_name"] == name, "value"].to_numpy()
        want = np.array([np.nan if v is None else v for v in vals])
        np.testing.assert_array_equal(got, want)
        assert table.loc[table["series_name"] == name, "time"].iloc[0] == pd.Timestamp(starts[name])


# -- .ts (sktime / aeon) ----------------------------------------------------------------------------
ts_header = st.sampled_from(["@problemName x", "@timeStamps false", "@timeStamps true", "@timeStamps",
                             "@univariate true", "@univariate false", "@equalLength true", "@classLabel true a b",
                             "@classLabel true", "@classLabel false", "@classLabel maybe", "@classLabel",
                             "@dimensions 2", "@dimensions 0", "@dimensions x", "@targetLabel true", "@", "",
                             "# c", "x"]) | st.builds("@{}".format, junk) | st.builds(
    "@{} {}".format, st.sampled_from(["classLabel", "classLabel true", "dimensions", "univariate", "timeStamps"]), junk)
ts_data = st.one_of(
    st.builds(lambda dims, label: ":".join(dims + ([label] if label is not None else [])),
              st.lists(_joined(numbers, ","), min_size=1, max_size=3),
              st.none() | st.sampled_from(["a", "b", "c", ""])),
    st.sampled_from(["", "# c", "@data", "1,2:3,4:a"]), junk)


@FUZZ
@given(head=st.lists(ts_header, max_size=6), data=st.booleans(), body=st.lists(ts_data, max_size=5))
@example(head=["@classLabel true a b", "@dimensions \u00b2"], data=True, body=["1:a"])
def test_ts_any_lines(head, data, body):
    out = _either(lambda: parse_ts(head + ["@data"] * data + body, "x.ts "))
    if out is not None:
        seqs, labels = out
        assert seqs and (labels is None or len(labels) == len(seqs))
        assert all(s.ndim == 2 and len(s) and s.shape[1] == seqs[0].shape[1] and np.isfinite(s).all() for s in seqs)


# -- fastText and class-index CSV -----------------------------------------------------------------
ft_lines = st.one_of(
    st.builds(lambda labels, text: " ".join(labels + [text]), st.lists(st.sampled_from(
        ["__label__pos", "__label__neg", "__label__", "__label__a,", "__label__,x"]), max_size=3), junk),
    st.builds(lambda text, label: f"{text} {label}", junk, st.sampled_from(["__label__pos", "__label__", "x"])),
    st.sampled_from(["", "  ", "\r", "plain text", "__label__pos\u2028great"]), junk)


@FUZZ
@given(lines=st.lists(ft_lines, max_size=6), ends=st.sampled_from(["\n", "\r\n", "\r"]), labels=st.booleans())
def test_fasttext_any_lines(lines, ends, labels):
    text = ends.join(lines)
    out = _either(lambda: fasttext_lines(text, " of x.txt", labels))
    if out is not None:
        assert len(out.texts) == len(out.lines) and (out.labels is None) == (not labels)
        assert out.labels is None or (len(out.labels) == len(out.texts) and all(out.labels))
        assert all(1 <= n <= len(text_lines(text)) for n in out.lines) and out.lines == sorted(set(out.lines))


csv_cells = st.sampled_from(["1", "2", "3", "0", "99999", "x", "", '"', '"a,b"', '"a\nb"', 'a\\nb', " 2 "]) | junk
classes_files = st.none() | st.sampled_from([b"", b"\n", b"a\nb\n", b"a\na\n", b"a\n\nb", b"\xef\xbb\xbfa\nb",
                                             b"\xff\xfe", b"a\r\nb\r\nc"])


@FUZZ
@given(rows=st.lists(st.lists(csv_cells, min_size=1, max_size=4).map(",".join), max_size=6),
       classes=classes_files, labels=st.booleans())
def test_class_index_csv_any_rows(rows, classes, labels):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.csv"
        path.write_text("\n".join(rows), encoding="utf-8")
        if classes is not None:
            (Path(tmp) / "classes.txt").write_bytes(classes)
        out = _either(lambda: class_index_csv(path, labels=labels))
    if out is not None:
        assert len(out.texts) == len(out.lines) and (out.labels is None) == (not labels)
        assert out.labels is None or len(out.labels) == len(out.texts)


# -- speech transcripts (no audio needed) -----------------------------------------------------------
@FUZZ
@given(line=st.text(st.sampled_from("LJ01-|ab \t\"."), max_size=20))
def test_lj_metadata_any_line(line):
    out = _either(lambda: _lj_line(Path("metadata.csv"), 1, line))
    if out is not None:
        assert all(part and part == part.strip() for part in out)


@FUZZ
@given(raw=st.binary(max_size=40) | st.text(st.sampled_from("19-2-0001 AB\t\r\n\u00e9"), max_size=40).map(str.encode))
def test_trans_txt_any_bytes(raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "19-198.trans.txt"
        path.write_bytes(raw)
        out = _either(lambda: _trans_lines(path))
    if out is not None:
        assert all(uid and text for _, uid, text in out)


# -- compressed files -------------------------------------------------------------------------------
def _archive(kind: str, content: bytes) -> bytes:
    if kind == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("data.csv", content)
        return buf.getvalue()
    return {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[kind](content)


@st.composite
def damaged(draw):
    """A suffix and bytes: random, a magic number and junk, or a real archive cut short or with bytes changed."""
    kind = draw(st.sampled_from([".gz", ".bz2", ".xz", ".zip"]))
    how = draw(st.sampled_from(["random", "magic", "cut", "flip"]))
    if how == "random":
        return kind, draw(st.binary(max_size=64))
    if how == "magic":
        magic = {".gz": b"\x1f\x8b\x08", ".bz2": b"BZh9", ".xz": b"\xfd7zXZ\x00", ".zip": b"PK\x03\x04"}[kind]
        return kind, magic + draw(st.binary(max_size=64))
    good = _archive(kind, draw(st.binary(min_size=1, max_size=200)))
    if how == "cut":
        return kind, good[:draw(st.integers(0, len(good) - 1))]
    data = bytearray(good)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return kind, bytes(data)


@FUZZ
@given(case=damaged())
def test_read_data_damaged_archives(case):
    kind, raw = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data.csv{kind}"
        path.write_bytes(raw)
        out = _either(lambda: read_data(path))
    assert out is None or isinstance(out, bytes)


def _patched_zip(field: int, value: int) -> bytes:
    """A zip of one file whose central directory entry has the 2-byte ``field`` (its offset) set to ``value``."""
    data = bytearray(_archive(".zip", b"a,b\n1,x\n"))
    at = data.index(b"PK\x01\x02") + field
    data[at:at + 2] = value.to_bytes(2, "little")
    return bytes(data)


# what hypothesis found: zips that zipfile opens but will not read raised NotImplementedError / RuntimeError
@pytest.mark.parametrize("field, value, reason", [
    (8, 0x01, "encrypted, password required"), (8, 0x40, "strong encryption"), (8, 0x20, "compressed patched data"),
    (10, 99, "compression"), (6, 64, "zip file version 6.4")])
def test_a_zip_zipfile_cannot_read_is_one_error(field, value, reason):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv.zip"
        path.write_bytes(_patched_zip(field, value))
        with pytest.raises(LstmkitError, match=rf"data\.csv\.zip is a zip file that Python's zipfile cannot read "
                           rf"\(.*{reason}.*\) — decompress it with another tool"):
            read_data(path)


@FUZZ
@given(kind=st.sampled_from([".gz", ".bz2", ".xz", ".zip"]), content=st.binary(max_size=100))
def test_read_data_round_trip(kind, content):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"data.csv{kind}"
        path.write_bytes(_archive(kind, content))
        assert read_data(path) == content
