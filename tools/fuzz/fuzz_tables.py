"""Fuzz the hand-written table readers: any bytes in, the data or one LstmkitError out.

The input's first byte picks the reader and the file's suffix (CSV/TSV/text tables as texts and as
numbers, JSON and JSON Lines, ARFF, .ts, speech manifests, a --config in YAML, TOML or JSON, and a
translation's two line-aligned files, split at the first NUL byte); the rest is the file. Run from
the repository root:

    PYTHONPATH=src python tools/fuzz/fuzz_tables.py /tmp/tables-corpus \
        -max_total_time=600 -rss_limit_mb=2048 -timeout=10
"""
from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_common import fuzz, seeded  # noqa: E402

with atheris.instrument_imports(include=["lstmkit"]):
    from lstmkit.config import load_yaml
    from lstmkit.data.tables import read_frame, read_table
    from lstmkit.errors import LstmkitError
    from lstmkit.tasks.classify.arfffile import read_arff
    from lstmkit.tasks.classify.tsfile import read_ts
    from lstmkit.tasks.speech.manifest import read_manifest
    from lstmkit.tasks.translate.data import read_pairs

WORK = Path(tempfile.mkdtemp(prefix="lstmkit-fuzz-tables-"))
PAIRS = ".src"
CASES = [(".csv", read_table), (".tsv", read_table), (".txt", read_table), (".csv", read_frame),
         (".tsv", read_frame), (".json", read_frame), (".jsonl", read_frame), (".arff", read_arff), (".ts", read_ts),
         (".csv", read_manifest), (".tsv", read_manifest), (".yaml", load_yaml), (".toml", load_yaml),
         (".json", load_yaml), (PAIRS, read_pairs)]
SEEDS = [
    b"text,label\nhello world,pos\n\"a, quoted\"\"x\",neg\n",
    b"sentence\tlabel\nit is good\t1\nbad\t0\n",
    b"text;label\nhi;a\nho;b\n",
    b"time,y,x\n2024-01-01,1.5,3\n2024-01-02,2,4\n",
    b"time\ty\n2024-01-01\t1,5\n2024-01-02\t2,25\n",
    b'[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]',
    b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n',
    b"@relation t\n@attribute s relational\n@attribute d0 numeric\n@end s\n@attribute class {a,b}\n@data\n"
    b"'1\\n2',a\n'3\\n4',b\n",
    b"@problemName t\n@timeStamps false\n@univariate true\n@classLabel true a b\n@data\n1,2,3:a\n4,5,6:b\n",
    b"path,text\na.wav,hello\nb.wav,world\n",
    b"path\tsentence\nclips/a.mp3\thi\n",
    b"lookback: 24\nhorizon: 12\ntrain:\n  lr: 1e-3\n  max_epochs: 5\n",
    b"lookback = 24\n[train]\nlr = 1e-3\n",
    b'{"lookback": 24, "train": {"lr": 0.001}}',
    b"hello world\nhow are you\n\0hallo welt\nwie geht es\n",
]


def one(data: bytes) -> None:
    if not data:
        return
    suffix, read = CASES[data[0] % len(CASES)]
    if suffix == PAIRS:
        src, _, tgt = data[1:].partition(b"\0")
        (WORK / "a.src").write_bytes(src)
        (WORK / "a.tgt").write_bytes(tgt)
        read_pairs(src_file=WORK / "a.src", tgt_file=WORK / "a.tgt")
        return
    path = WORK / f"f{suffix}"
    path.write_bytes(data[1:])
    read(path)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    seeded(sys.argv, [(f"s{k}", bytes([k]) + s) for k, s in enumerate(SEEDS)])
    fuzz(one, (LstmkitError,))
