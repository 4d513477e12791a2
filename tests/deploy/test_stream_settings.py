"""``estimator.stream(mode, engine, max_streams)`` on every task that streams: the settings are
checked before any work, and ``max_streams`` bounds a language model's and a speech model's own
stream objects as it bounds a numeric stream."""
import numpy as np
import pytest

from lstmkit import LanguageModel, SequenceClassifier
from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.synthetic import tiny_run
from one_thread import one_thread_per_package  # noqa: F401  (autouse: one torch thread)

QUICK = dict(hidden_size=8, lr=2e-2, max_epochs=1, seed=0, progress="off", tensorboard=False, doctor=False)


@pytest.fixture(scope="module")
def series_clf():
    """A numeric classifier: it streams through torch whatever the engine (no stateful graph)."""
    rng = np.random.default_rng(0)
    seqs = [(s * np.linspace(0, 1, 10) + 0.1 * rng.standard_normal(10))[:, None] for s in (1, -1) * 10]
    return SequenceClassifier(**QUICK, model="lstm", pooling="last").fit(seqs, ["up", "down"] * 10)


@pytest.fixture(scope="module")
def lm():
    return LanguageModel(**QUICK, level="char", embed_dim=8, batch_size=8).fit(["abcdefgh"] * 40)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    from lstmkit import load
    return load(tiny_run(tmp_path_factory.mktemp("speech"), n=24, max_epochs=1))


def _first_message(name):
    return {"series_clf": 0.5, "lm": "a", "speech": [0.01] * 200}[name]


@pytest.mark.parametrize("name", ["series_clf", "lm", "speech"])
@pytest.mark.parametrize("settings, needle", [
    ({"engine": "bogus"}, "unknown engine 'bogus'"),
    ({"engine": None}, "unknown engine None"),
    ({"max_streams": 0}, "`max_streams` must be a positive integer or None, got 0"),
    ({"max_streams": "2"}, "`max_streams` must be a positive integer or None, got '2'"),
    ({"max_streams": True}, "got True"),
])
def test_bad_stream_settings_are_refused_naming_the_fix(request, name, settings, needle):
    model = request.getfixturevalue(name)
    with pytest.raises(LstmkitError, match=needle) as e:
        model.stream(**settings)
    assert e.value.hint


@pytest.mark.parametrize("name", ["series_clf", "lm", "speech"])
def test_max_streams_bounds_every_kind_of_stream(request, name):
    s = request.getfixturevalue(name).stream(max_streams=2)
    msg = _first_message(name)
    s.step(msg, id="a")
    s.step(msg, id="b")
    s.step(msg, id="a")                              # an open stream steps on
    with pytest.raises(LstmkitError, match=r"too many open streams \(2\)") as e:
        s.step(msg, id="c")
    assert e.value.hint.startswith("reset(id) each stream that has finished")   # was "reset()", which forgets all
    assert s.steps("a") and s.steps("b")                                       # the open ones as they were
    s.reset("b")
    s.step(msg, id="c")                              # room again once one is reset


@pytest.mark.parametrize("name", ["series_clf", "lm", "speech"])
def test_max_streams_may_be_a_numpy_integer(request, name):
    """Was: max_streams=np.int64(2) '`max_streams` must be a positive integer or None, got np.int64(2)'."""
    s = request.getfixturevalue(name).stream(max_streams=np.int64(2))
    msg = _first_message(name)
    s.step(msg, id="a")
    s.step(msg, id="b")
    with pytest.raises(LstmkitError, match=r"too many open streams \(2\)"):
        s.step(msg, id="c")


@pytest.mark.parametrize("name", ["series_clf", "lm", "speech"])
def test_stream_ids_are_names_and_reset_without_one_forgets_every_stream(request, name):
    s = request.getfixturevalue(name).stream()
    msg = _first_message(name)
    s.step(msg, id=3)
    s.step(msg, id={"user": 1})                      # any id is named by its text, as the service does
    assert s.steps("3") == 1 and s.steps(3) == 1 and s.steps(str({"user": 1})) == 1
    s.reset(3)
    assert s.steps("3") == 0 and s.steps(str({"user": 1})) == 1
    s.reset()
    assert s.steps(str({"user": 1})) == 0


@pytest.mark.parametrize("suffix", [".safetensors", ".json"])
def test_a_saved_stream_state_gets_the_umask_mode_and_restores(series_clf, tmp_path, suffix):
    import os
    s = series_clf.stream()
    s.step(0.5, id="a")
    path = s.save(tmp_path / f"state{suffix}")
    old = os.umask(0o022)
    os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o666 & ~old          # as a plain open() would make it
    t = series_clf.stream()
    t.restore(path)
    assert t.steps("a") == 1
