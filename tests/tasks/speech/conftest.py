"""Generated audio for the speech tests (tones per symbol, see tests/speech_data.py) and one
small CTC run and one classification run shared by the test files."""
import pytest

from speech_data import write_digits, write_manifest
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)

TINY = dict(hidden_size=48, num_layers=1, channels=32, n_mels=20, subsample=1, lr=0.01, max_epochs=25, patience=25,
            dropout=0.0, batch_size=16, progress="off", tensorboard=False, doctor=False, seed=0)


@pytest.fixture(scope="session")
def tiny():
    return dict(TINY)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """Folder with manifest.csv (120 clips) and test.csv (30 clips), relative paths."""
    d = tmp_path_factory.mktemp("speech")
    write_manifest(d, 120, seed=1)
    write_manifest(d, 30, seed=2, name="test.csv")
    return d


@pytest.fixture(scope="session")
def ctc_run(tmp_path_factory, corpus):
    """A fitted CTC recogniser with its run folder."""
    from lstmkit import SpeechRecognizer
    out = tmp_path_factory.mktemp("runs")
    return SpeechRecognizer(**TINY).fit(corpus / "manifest.csv", out=out)


@pytest.fixture(scope="session")
def digits(tmp_path_factory):
    return write_digits(tmp_path_factory.mktemp("digits"))
