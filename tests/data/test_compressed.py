"""Every reader reads .gz, .bz2, .xz, .zst and a .zip of one file the same as the plain file
(lstmkit.data.compressed); .zst where a zstandard decoder is installed, else one error saying so."""
import bz2
import gzip
import importlib.util
import lzma
import sys
import zipfile

import pytest

from lstmkit.data.compressed import compression, data_name, read_data
from lstmkit.data.decoding import file_ext, read_text_file
from lstmkit.data.tables import read_frame, read_table
from lstmkit.errors import LstmkitError
from lstmkit.tasks.classify.tsfile import read_ts
from lstmkit.tasks.forecast.tsffile import is_tsf, read_tsf
from zstd_data import stored_zstd

CSV = "time,y\n" + "".join(f"2024-01-{k:02d},{k * 1.5}\n" for k in range(1, 29))
TSF = ("@relation shops\n@attribute series_name string\n@attribute start_timestamp date\n@frequency daily\n"
       "@horizon 2\n@missing false\n@equallength true\n@data\nT1:2000-01-01 00-00-00:1,2,3,4\nT2:2000-01-01 00-00-00:5,6,7,8\n")
TS = "@problemName x\n@univariate true\n@classLabel true a b\n@data\n1,2,3:a\n4,5,6:b\n"


def _zip(path, name, data: bytes, junk: bool = True):
    with zipfile.ZipFile(path, "w") as z:
        if junk:                           # what a Mac's Finder adds: read past
            z.writestr(f"__MACOSX/._{name}", b"\0\0junk")
            z.writestr(".DS_Store", b"\0\x01")
        z.writestr(f"folder/{name}", data)
    return path


def _write(tmp_path, name: str, data: bytes, kind: str):
    """``data`` as ``name`` compressed by ``kind`` (a .zip's member named ``name``)."""
    if kind == ".zip":
        return _zip(tmp_path / (name.rsplit(".", 1)[0] + ".zip"), name, data)
    packed = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress, ".zst": stored_zstd,
              "": bytes}[kind](data)
    (tmp_path / (name + kind)).write_bytes(packed)
    return tmp_path / (name + kind)


def _zstd_decoder() -> bool:
    try:
        return any(importlib.util.find_spec(m) for m in ("zstandard", "compression.zstd"))
    except ModuleNotFoundError:                    # no package compression (Python < 3.14)
        return importlib.util.find_spec("zstandard") is not None


# what reads .zst is optional (the zstandard package; Python 3.14's compression.zstd): read where installed
NEEDS_ZSTD = pytest.mark.skipif(not _zstd_decoder(), reason="no zstandard decoder installed (optional)")
KINDS = [".gz", ".bz2", ".xz", ".zip", pytest.param(".zst", marks=NEEDS_ZSTD)]


@pytest.mark.parametrize("kind", KINDS)
def test_a_table_reads_as_the_plain_file(tmp_path, kind):
    plain = read_frame(_write(tmp_path, "s.csv", CSV.encode(), ""))
    packed = _write(tmp_path, "s.csv", CSV.encode(), kind)
    assert compression(packed) == kind and file_ext(packed) == ".csv"
    got = read_frame(packed)
    assert got.equals(plain) and got["y"].tolist()[:2] == [1.5, 3.0]
    assert read_table(packed).equals(read_table(tmp_path / "s.csv"))


@pytest.mark.parametrize("kind", KINDS)
def test_a_tsf_file_reads_and_is_known_by_its_inner_name(tmp_path, kind):
    packed = _write(tmp_path, "shops.tsf", TSF.encode(), kind)
    assert is_tsf(packed)
    df = read_tsf(packed)
    assert df.attrs["tsf"]["horizon"][0] == 2 and len(df) == 8 and df.iloc[:, -1].tolist()[-1] == 8


def test_a_zip_members_name_decides_the_type(tmp_path):
    packed = _zip(tmp_path / "download.zip", "Train.ts", TS.encode())      # no .ts in the archive's name
    assert data_name(packed) == "Train.ts" and file_ext(packed) == ".ts"
    seqs, labels, _ = read_ts(packed)
    assert labels == ["a", "b"] and seqs[1].ravel().tolist() == [4, 5, 6]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_byte_still_names_its_line(tmp_path, kind):
    raw = "a\nb\n".encode() + b"caf\xe9\n"
    with pytest.raises(LstmkitError, match=r"line 3 is not valid utf-8 \(byte 0xe9\)"):
        read_text_file(_write(tmp_path, "words.txt", raw, kind))


@pytest.mark.parametrize("kind, what", [(".gz", "gzip"), (".bz2", "bzip2"), (".xz", "xz"),
                                        pytest.param(".zst", "zstandard", marks=NEEDS_ZSTD)])
def test_a_cut_short_archive_is_one_error_naming_the_fix(tmp_path, kind, what):
    path = _write(tmp_path, "s.csv", CSV.encode() * 20, kind)
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    for read in (read_frame, read_text_file, read_data):
        with pytest.raises(LstmkitError, match=rf"s\.csv{kind} is not a valid {what} file, or it is cut short") as e:
            read(path)
        assert "download it again" in e.value.hint


def test_a_damaged_zip_is_one_error(tmp_path):
    (tmp_path / "s.zip").write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(LstmkitError, match=r"s\.zip is not a valid zip file"):
        read_frame(tmp_path / "s.zip")


def test_a_zip_of_several_files_lists_them_and_says_to_unzip(tmp_path):
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as z:
        for k in range(7):
            z.writestr(f"part{k}.csv", CSV)
        z.writestr("__MACOSX/._part0.csv", b"\0")
    with pytest.raises(LstmkitError, match=r"many\.zip holds 7 data files \(part0\.csv, part1\.csv, part2\.csv, "
                                           r"part3\.csv, part4\.csv, … \(7 in all\)\)") as e:
        read_frame(tmp_path / "many.zip")
    assert "unzip it" in e.value.hint
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as z:
        z.writestr("__MACOSX/._x.csv", b"\0")
    with pytest.raises(LstmkitError, match=r"empty\.zip holds no data file"):
        read_text_file(tmp_path / "empty.zip")


def test_a_zip_not_there_yet_is_named_by_its_own_name(tmp_path):
    assert file_ext(tmp_path / "later.csv.zip") == ".csv" and compression(tmp_path / "a.CSV.BZ2") == ".bz2"
    assert file_ext(tmp_path / "train.ft.txt.bz2") == ".txt" and not compression(tmp_path / "a.csv")


@pytest.mark.parametrize("kind", KINDS)
def test_ucr_files_parallel_lines_and_corpora_read_compressed(tmp_path, kind):
    from lstmkit.tasks.classify.series import read_series
    from lstmkit.tasks.lm.data import read_corpus
    from lstmkit.tasks.translate.data import read_lines
    ucr = read_series(_write(tmp_path, "Coffee_TRAIN.tsv", b"1\t0.1\t0.2\t0.3\n2\t0.5\t0.4\t0.3\n", kind))
    assert ucr.labels == ["1", "2"] and ucr.seqs[1].ravel().tolist() == [0.5, 0.4, 0.3]
    assert read_lines(_write(tmp_path, "train.de", "der Hund\ndie Katze\n".encode(), kind)) == ["der Hund", "die Katze"]
    corpus = read_corpus(str(_write(tmp_path, "train.ft.txt", b"__label__1 great\n__label__2 awful\n", kind)))
    assert list(corpus.lines) == ["great", "awful"]


def _hide_zstd(monkeypatch):
    """As on a Python before 3.14 without the zstandard package (the import fails)."""
    monkeypatch.setitem(sys.modules, "zstandard", None)
    monkeypatch.setitem(sys.modules, "compression.zstd", None)


def test_a_zst_file_without_a_decoder_is_one_error_saying_to_install_or_decompress(tmp_path, monkeypatch):
    """Before: "unknown file type '.zst'", which named no fix that reads it."""
    _hide_zstd(monkeypatch)
    table, tsf = _write(tmp_path, "s.csv", CSV.encode(), ".zst"), _write(tmp_path, "shops.tsf", TSF.encode(), ".zst")
    assert file_ext(table) == ".csv" and compression(table) == ".zst" and is_tsf(tsf)
    for read, path in ((read_frame, table), (read_table, table), (read_text_file, table), (read_data, table),
                       (read_tsf, tsf)):
        with pytest.raises(LstmkitError, match=rf"{path.name} is zstandard-compressed, and this Python \(before 3\.14\) "
                                               "reads that only through the zstandard package, which is not "
                                               "installed") as e:
            read(path)
        assert e.value.hint == (f"install the zstandard package (pip install zstandard) or decompress it "
                                f"(zstd -d {path}) and pass the decompressed file")


def test_zstandard_bytes_under_a_text_name_are_named_as_gzip_bytes_are(tmp_path):
    (tmp_path / "s.csv").write_bytes(stored_zstd(CSV.encode()))      # before: "it holds NUL bytes", no name for them
    with pytest.raises(LstmkitError, match=r"s\.csv is not a text file: it is zstandard-compressed") as e:
        read_frame(tmp_path / "s.csv")
    assert e.value.hint == "rename it s.csv.zst"
    (tmp_path / "g.csv").write_bytes(gzip.compress(CSV.encode()))
    with pytest.raises(LstmkitError, match=r"g\.csv is not a text file: it is gzip-compressed"):
        read_frame(tmp_path / "g.csv")



@pytest.mark.parametrize("name, pack, kind, suffix", [
    ("b.csv", bz2.compress, "bzip2", ".bz2"), ("x.csv", lzma.compress, "xz", ".xz"),
    ("e.csv", lambda raw: bz2.compress(b""), "bzip2", ".bz2"),           # an empty stream: its own end marker
])
def test_bzip2_and_xz_bytes_under_a_text_name_are_named_with_the_name_that_reads_them(name, pack, kind, suffix,
                                                                                      tmp_path):
    """Were 'it holds NUL bytes: a binary file, e.g. a spreadsheet, archive or model', no word of what."""
    (tmp_path / name).write_bytes(pack(CSV.encode()))
    with pytest.raises(LstmkitError, match=rf"{name} is not a text file: it is {kind}-compressed") as e:
        read_frame(tmp_path / name)
    assert e.value.hint == f"rename it {name}{suffix}"
    (tmp_path / (name + suffix)).write_bytes(pack(CSV.encode()))
    if name != "e.csv":
        assert read_frame(tmp_path / (name + suffix)).equals(read_frame(_write(tmp_path, "s.csv", CSV.encode(), "")))


def test_a_zip_of_a_data_file_under_a_text_name_is_told_from_a_workbook(tmp_path):
    """A .zip of one CSV named .csv was told 'rename it z.xlsx if it is a workbook, else unzip it'."""
    with zipfile.ZipFile(tmp_path / "z.csv", "w") as z:
        z.writestr("data/sales.csv", CSV)
    with pytest.raises(LstmkitError, match=r"z\.csv is not a text file: it is a zip archive \(of data/sales\.csv\)") as e:
        read_frame(tmp_path / "z.csv")
    assert e.value.hint.startswith("rename it z.csv.zip")
    (tmp_path / "z.csv.zip").write_bytes((tmp_path / "z.csv").read_bytes())
    assert read_frame(tmp_path / "z.csv.zip").equals(read_frame(_write(tmp_path, "s.csv", CSV.encode(), "")))


@NEEDS_ZSTD
def test_a_zst_file_of_several_frames_reads_them_all_and_damage_is_one_error(tmp_path):
    """``zstd`` writes a frame per joined file (``cat a.zst b.zst``): every frame is read, as ``zstd -d``
    reads them; bytes that are no zstandard frame are the damaged-archive error."""
    half = CSV.encode().split(b"2024-01-15", 1)
    (tmp_path / "two.csv.zst").write_bytes(stored_zstd(half[0]) + stored_zstd(b"2024-01-15" + half[1]))
    assert read_frame(tmp_path / "two.csv.zst").equals(read_frame(_write(tmp_path, "s.csv", CSV.encode(), "")))
    (tmp_path / "bad.csv.zst").write_bytes(stored_zstd(b"time,y\n")[:4] + b"\xff" * 40)
    with pytest.raises(LstmkitError, match=r"bad\.csv\.zst is not a valid zstandard file, or it is cut short"):
        read_data(tmp_path / "bad.csv.zst")
