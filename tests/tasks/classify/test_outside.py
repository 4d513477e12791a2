"""A numeric classifier warns of sequences far outside its training range (lstmkit.tasks.classify.outside),
as a forecaster warns of a window: ``predict`` / ``predict_proba`` and ``classify predict`` warn,
the service answers with ``warnings`` naming the series, a stream's step warns (its ``/stream``
message carries them). Data within the range gives no warning; a run saved before ranges were
recorded loads and predicts without one."""
import json
import warnings

import numpy as np
import pytest

import lstmkit
from cli_helpers import run_cli
from lstmkit.tasks.classify.estimator import SequenceClassifier, load_classifier
from lstmkit.tasks.classify.outside import far_sequences


@pytest.fixture(scope="module")
def clf(tmp_path_factory, tiny_series):
    """A left-to-right LSTM (it streams) on ramps of two features, values within about -2.6 .. 2.6."""
    rng = np.random.default_rng(0)
    seqs = [(1 if k % 2 else -1) * np.linspace(0, 2, 10)[:, None] * [1.0, 0.5] + 0.2 * rng.standard_normal((10, 2))
            for k in range(20)]
    labels = ["up" if k % 2 else "down" for k in range(20)]
    params = {**tiny_series, "max_epochs": 1, "model": "lstm", "pooling": "last"}
    return SequenceClassifier(**params).fit(seqs, labels, out=tmp_path_factory.mktemp("far"))


def _near(n=3):
    return [np.linspace(0, 1.5, 10)[:, None] * [1.0, 0.5] for _ in range(n)]


def _quiet(call, *args, but: str | None = None):
    """``call(*args)``, any warning an error (but one matching ``but``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if but is not None:
            warnings.filterwarnings("ignore", message=but)
        return call(*args)


def test_predict_warns_of_the_first_sequence_far_outside_and_counts_the_others(clf):
    near = _near()
    _quiet(clf.predict, near)
    far = [near[0], near[1] * [1.0, 1000.0], near[2] * [1.0, 1000.0]]      # x1 in other units
    lo, hi = (np.asarray(v) for v in (clf.value_range_["lo"], clf.value_range_["hi"]))
    with pytest.warns(UserWarning, match=r"sequence 2 of 3 \(0 \.\. 750 in 'x1'; 1 more sequence too\) lies "
                                         r"[\d.e+]+ times the width of the training range of 'x1' \("
                                         rf"{lo[1]:.4g} \.\. {hi[1]:.4g}\) outside it: the network extrapolates") as got:
        p = clf.predict_proba(far)
    assert len(got) == 1 and np.isfinite(p).all()
    np.testing.assert_array_equal(p[0], _quiet(clf.predict_proba, near)[0])       # answers are as they were
    with pytest.warns(UserWarning, match="sequence 1 of 1 .* times the width"):
        clf.predict([near[0] - 10.0])


def test_far_sequences_finds_each_and_its_first_feature_far_outside():
    lo, hi = np.array([0.0, 0.0]), np.array([1.0, 1.0])
    seqs = [np.array([[0.5, 0.5]]), np.array([[0.5, 3.5], [-4.0, 0.0]]), np.array([[1.5, 1.9]])]
    found = far_sequences(seqs, lo, hi)
    assert [(k, j, d) for k, j, d, _, _ in found] == [(1, 0, 4.0)]      # -4: four widths below 0
    assert far_sequences(seqs[:1] + seqs[2:], lo, hi) == [] and far_sequences([], lo, hi) == []


def test_classify_predict_warns_on_the_command_line(clf, tmp_path, capsys):
    (tmp_path / "far.csv").write_text("sample,t,x0,x1\n" + "".join(
        f"{k},{t},{s[t, 0] * (100 if k == 3 else 1)},{s[t, 1]}\n" for k, s in enumerate(_near(4)) for t in range(10)))
    code, out, err = run_cli(["classify", "predict", "--run", clf.run_dir_, "--data", tmp_path / "far.csv"], capsys)
    assert code == 0 and len(out.splitlines()) == 5, err
    assert "warning: sample '3' (0 .. 150 in 'x0') lies" in err            # a long table's sample id


def test_a_run_saved_before_ranges_were_recorded_predicts_without_the_check(clf, tmp_path):
    import shutil
    old = tmp_path / "old"
    shutil.copytree(clf.run_dir_, old)
    meta = json.loads((old / "lstmkit.json").read_text())
    assert set(meta["preprocessing"]["range"]) == {"lo", "hi"}
    del meta["preprocessing"]["range"]
    (old / "lstmkit.json").write_text(json.dumps(meta))
    loaded = load_classifier(old)
    far = [_near(1)[0] * 1000.0]
    p = _quiet(loaded.predict_proba, far)                                  # no range, no check
    with pytest.warns(UserWarning, match="times the width"):              # the same run with its range
        np.testing.assert_allclose(load_classifier(clf.run_dir_).predict_proba(far), p)


def test_a_stream_step_far_outside_warns_and_says_so(clf):
    s = lstmkit.load(clf.run_dir_).stream()
    _quiet(s.step, [0.5, 0.2])
    with pytest.warns(UserWarning, match=r"the step just streamed \(9000 in 'x0'\) lies [\d.e+]+ times the width "
                                         r"of the training range of 'x0'"):
        y = s.step([9000.0, 0.2])
    assert np.isfinite(y).all()
    answer, notes = s.step_noted([0.1, 0.1])
    assert notes == [] and np.isfinite(answer).all()


def test_the_service_answers_with_warnings_naming_the_series(clf):
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(clf.run_dir_, engine="torch"))
    try:
        near = _near(1)[0].tolist()
        far = (_near(1)[0] * [1.0, 1000.0]).tolist()
        status, out = c.post_json({"series": [near, far, near]})
        assert status == 200, out
        [note] = out["warnings"]
        assert note.startswith("series[1] (0 .. 750 in 'x1') lies") and "training range of 'x1'" in note
        want = _quiet(clf.predict_proba, [np.asarray(near), np.asarray(far) / [1.0, 1000.0]])[:1]
        np.testing.assert_allclose([out["predictions"][0]["probabilities"][c] for c in clf.classes_], want[0],
                                   atol=1e-5)
        status, out = c.post_json({"series": [near]})
        assert status == 200 and "warnings" not in out
        ws = c.websocket()
        ws.send_text(json.dumps([0.5, 0.2]))
        assert "warnings" not in ws.receive_json()
        ws.send_text(json.dumps({"x0": 0.5, "x1": -700.0}))
        got = ws.receive_json()
        assert got["step"] == 2 and got["warnings"][0].startswith("the step just streamed (-700 in 'x1') lies")
        ws.close()
    finally:
        c.close()


@pytest.fixture(scope="module")
def reviews(tmp_path_factory, tiny, texts):
    """A word-level text classifier on short reviews (its vocabulary: the reviews' words)."""
    x, y = texts(40)
    return lstmkit.TextClassifier(**tiny, max_epochs=1).fit(x, y, out=tmp_path_factory.mktemp("reviews"))


def test_texts_of_words_the_model_never_read_are_warned_of(reviews, tmp_path, capsys):
    """A new file in another language or domain: the labels are the network's answer to unknown
    tokens alone, given without a word before. predict, predict_proba and evaluate say so."""
    _quiet(reviews.predict, ["the film was good", "awful plot"])                 # known words: quiet
    new = ["zxq qwv blorp", "the film was good", "frobnicate glarb"]
    with pytest.warns(UserWarning, match=r"^2 of 3 texts hold no word the model knows \(first: text 1, 'zxq qwv "
                                         r"blorp'; 55.6% of all their words are unknown to its vocabulary\): their "
                                         r"labels are guesses; pass texts in the language and domain") as got:
        reviews.predict_proba(new)
    assert len(got) == 1
    with pytest.warns(UserWarning, match=r"^75% of the texts' words are unknown to the model's vocabulary: it reads "
                                         r"little of them"):
        reviews.predict(["good zxq qwv blorp", "bad glarb frob plugh"])        # each text knows one word of four
    with pytest.warns(UserWarning, match="2 of 2 texts hold no word the model knows"):
        reviews.evaluate(["zxq qwv", "blorp"], ["neg", "pos"])
    long = "the film was good and the plot good"                       # eight known words a text
    with pytest.warns(UserWarning, match=r"^2 of 100 texts hold no word the model knows \(first: text 1, 'zxq'; "
                                         r"0.25% of all their words"):                          # it said "0%"
        reviews.predict(["zxq", "blorp"] + [long] * 98)
    (tmp_path / "new.txt").write_text("zxq qwv blorp\n")
    code, out, err = run_cli(["classify", "predict", "--run", reviews.run_dir_, "--data", tmp_path / "new.txt"], capsys)
    assert code == 0 and out.startswith("label,probability\n") and err.startswith("warning: 1 of 1 texts hold no word the model knows") and err.count("\n") == 1


def test_the_service_answers_with_a_warning_naming_texts_of_unknown_words(reviews):
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(reviews.run_dir_, engine="torch"))
    try:
        status, out = c.post_json({"texts": ["the film was good", "zxq qwv blorp"]})
        assert status == 200 and len(out["predictions"]) == 2, out
        assert out["warnings"] == [
            "1 of 2 texts hold no word the model knows (first: texts[1], 'zxq qwv blorp'; 42.9% of all their words are "
            "unknown to its vocabulary): their labels are guesses; pass texts in the language and domain the model "
            "was trained on, or retrain it on texts like these"]
        status, out = c.post_json({"texts": ["the film was good"]})
        assert status == 200 and "warnings" not in out
    finally:
        c.close()


@pytest.fixture(scope="module")
def capped(tmp_path_factory, tiny, texts):
    """A text classifier reading at most 16 tokens of a text (its training texts are shorter)."""
    x, y = texts(40)
    return lstmkit.TextClassifier(**tiny, max_epochs=1, max_len=16).fit(x, y, out=tmp_path_factory.mktemp("capped"))


def test_texts_cut_by_max_len_are_said_in_predict_evaluate_the_cli_and_the_service(capped, tmp_path, capsys):
    """A 50,000-word document among short ones was answered from its first 200 and last 200 words
    without a word: only training warned of its own texts cut. predict, evaluate, the command line
    and the service say how many, which first, and what the model reads; the answers are those of
    each text alone (padding beside a long one changes nothing)."""
    long = " ".join(["good film"] * 9 + ["awful"])       # 19 tokens: cut, and under twice the longest trained on (10)
    short = ["the film was good", "awful plot"]
    _quiet(capped.predict, short)                                            # none cut: quiet
    with pytest.warns(UserWarning, match=r"^1 of 3 texts \(33.3%\) are longer than the model's max_len=16 tokens "
                                         r"\(first: text 2, 19 tokens; the longest 19\): the model reads only their "
                                         r"first 8 and last 8 tokens, as in training; retrain with a larger max_len= "
                                         r"\(now 16; none reads them whole\) to read more$") as got:
        p = capped.predict_proba([short[0], long, short[1]])
    assert len(got) == 1
    np.testing.assert_array_equal(p[[0, 2]], _quiet(capped.predict_proba, short))
    with pytest.warns(UserWarning, match=r"^2 of 2 texts \(100%\) are longer .*first: text 1, 19 tokens; the longest 20\)"):
        capped.evaluate([long, long + " awful"], ["pos", "neg"])
    (tmp_path / "new.txt").write_text(f"{short[0]}\n{long}\n")
    code, out, err = run_cli(["classify", "predict", "--run", capped.run_dir_, "--data", tmp_path / "new.txt"], capsys)
    assert code == 0 and len(out.splitlines()) == 3, err
    assert err.startswith("warning: 1 of 2 texts (50%) are longer than the model's max_len=16 tokens (first: text 2, ")
    assert "retrain with a larger --max-len (now 16; none reads them whole)" in err
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(capped.run_dir_, engine="torch"))
    try:
        status, answer = c.post_json({"texts": [short[0], long]})
        assert status == 200 and len(answer["predictions"]) == 2, answer
        [note] = answer["warnings"]
        assert note.startswith("1 of 2 texts (50%) are longer than the model's max_len=16 tokens (first: texts[1], 19 "
                               "tokens; the longest 19)"), note
        status, answer = c.post_json({"texts": short})
        assert status == 200 and "warnings" not in answer
    finally:
        c.close()


@pytest.mark.filterwarnings("ignore:.* occur in the training data too")
def test_a_series_longer_than_max_len_is_said_in_predict_and_the_service(tiny_series, tmp_path):
    """A numeric series past max_len is read by its first and last steps: said, as for texts."""
    seqs = [(1 if k % 2 else -1) * np.linspace(0, 2, 10)[:, None] for k in range(20)]
    clf = SequenceClassifier(**tiny_series, max_epochs=1, model="lstm", max_len=12, unequal_length=True).fit(
        seqs, ["up" if k % 2 else "down" for k in range(20)], out=tmp_path)
    long = np.linspace(0, 2, 30)[:, None]
    with pytest.warns(UserWarning, match=r"^1 of 2 series \(50%\) are longer than the model's max_len=12 steps "
                                         r"\(first: sequence 2, 30 steps; the longest 30\): the model reads only "
                                         r"their first 6 and last 6 steps"):
        clf.predict([seqs[0], long])
    _quiet(clf.predict, seqs[:3])
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(clf.run_dir_, engine="torch"))
    try:
        status, out = c.post_json({"series": [seqs[0].ravel().tolist(), long.ravel().tolist()]})
        assert status == 200, out
        note, longer = out["warnings"]             # and 3 times the longest trained on, as predict says too
        assert note.startswith("1 of 2 series (50%) are longer than the model's max_len=12 steps (first: series[1], "
                               "30 steps"), note
        assert longer.startswith("1 of 2 series are over 2 times as long as the longest the model was trained on"), longer
    finally:
        c.close()


def test_an_lstm_fcn_cut_by_max_len_says_the_cut_not_other_lengths_on_its_training_series(tiny_series, tmp_path):
    """LSTM-FCN at max_len=6 on series of 10 steps: predict on the training series also said '20 of 20
    sequences are not 6 steps long as the training sequences were (lengths 10-10)': they were 10 long,
    and the network reads them as in training. Only max_len's cut is said; a shorter series still is."""
    seqs = [(1 if k % 2 else -1) * np.linspace(0, 2, 10)[:, None] for k in range(20)]
    clf = SequenceClassifier(**tiny_series, max_epochs=1, max_len=6).fit(
        seqs, ["up" if k % 2 else "down" for k in range(20)], out=tmp_path)
    assert clf.steps_ == 6
    _quiet(clf.predict, seqs, but=r"20 of 20 series \(100%\) are longer than the model's max_len=6 steps")
    with pytest.warns(UserWarning, match=r"1 of 1 sequences are not 6 steps long .*\(lengths 4-4\)"):
        clf.predict([seqs[0][:4]])


def test_predict_beside_one_very_long_text_pads_no_batch_past_the_bound(tiny, texts, monkeypatch):
    """With max_len none, a 5,000-word text was batched with the 255 next-longest, all padded to its
    length: 2.9 GB resident where they alone took 0.35 GB (a 50,000-word one: ~26 GB). Batches now
    stay within EVAL_STEPS padded steps, and each text's answer is the one it has alone."""
    import lstmkit.tasks.classify.classifier as classifier
    x, y = texts(40)
    clf = lstmkit.TextClassifier(**tiny, max_epochs=1, max_len=None).fit(x, y)
    long = " ".join(["good film"] * 150)
    batch = [*x[:20], long]
    longer = ".* times as long as the longest the model was trained on"       # the long one is, and is said so
    alone = np.concatenate([_quiet(clf.predict_proba, [t], but=longer) for t in batch])
    shapes = []
    forward = type(clf.net_).forward
    monkeypatch.setattr(classifier, "EVAL_STEPS", 60)
    monkeypatch.setattr(clf.net_, "forward", lambda x, lengths: shapes.append(tuple(x.shape[:2])) or
                        forward(clf.net_, x, lengths))
    np.testing.assert_allclose(_quiet(clf.predict_proba, batch, but=longer), alone, atol=1e-6)
    assert shapes[-1] == (1, 300) and all(b * t <= 60 for b, t in shapes[:-1]), shapes


def test_texts_far_longer_than_any_trained_on_are_warned_of(reviews, texts, tmp_path, capsys):
    """A model trained on one-line sentences labelled whole reviews without a word (MR's 51 tokens at most,
    IMDB's reviews 230 on average: most called negative). predict, evaluate and the service say so, naming the
    first and the training's longest; held-out texts from the same source, and the training texts, are quiet."""
    longest = reviews.data_summary_["train_length"]["max"]
    x, y = texts(200, seed=1)
    _quiet(reviews.evaluate, x, y)
    _quiet(reviews.predict, texts(40)[0])
    review = " ".join(texts(8, seed=2)[0])                                # eight sentences in one text
    n = len(reviews.tokenizer_.encode(review))
    assert n > 2 * longest
    with pytest.warns(UserWarning, match=rf"^1 of 2 texts are over 2 times as long as the longest the model was trained "
                                         rf"on \(first: text 2, {n} tokens; the longest training text: {longest}\): it "
                                         rf"never read texts this long, so their labels may be off; pass texts like the "
                                         rf"training ones \(a long one in parts of up to {longest} tokens\)") as got:
        reviews.predict(["the film was good", review])
    assert len(got) == 1
    with pytest.warns(UserWarning, match=r"^1 of 1 texts are over 2 times as long"):
        reviews.evaluate([review], ["pos"])
    (tmp_path / "long.txt").write_text(review + "\n")
    code, out, err = run_cli(["classify", "predict", "--run", reviews.run_dir_, "--data", tmp_path / "long.txt"], capsys)
    assert code == 0 and out.startswith("label,probability\n"), err
    assert err.startswith("warning: 1 of 1 texts are over 2 times as long") and err.count("\n") == 1, err
    pytest.importorskip("fastapi")
    from asgi_client import Client
    from lstmkit.deploy.server import create_app
    c = Client(create_app(reviews.run_dir_, engine="torch"))
    try:
        status, out = c.post_json({"texts": ["the film was good", review]})
    finally:
        c.close()
    assert status == 200 and len(out["predictions"]) == 2, out
    [note] = out["warnings"]
    assert note.startswith(f"1 of 2 texts are over 2 times as long as the longest the model was trained on (first: "
                           f"texts[1], {n} tokens;"), note


def test_a_text_cut_by_max_len_at_predict_says_what_the_model_reads(tiny, texts, tmp_path):
    x, y = texts(40)
    clf = lstmkit.TextClassifier(**tiny, max_epochs=1, max_len=14).fit(x, y, out=tmp_path)
    review = " ".join(texts(8, seed=2)[0])
    with pytest.warns(UserWarning, match=r"58 tokens, of which the model reads its first 7 and last 7; the longest training text: 10\)"):
        clf.predict([review])


def test_series_far_longer_than_any_trained_on_are_warned_of(clf, series, tiny_series, tmp_path):
    """Sensor series sampled ten times as often as the training ones: the LSTM read 10x the steps it was
    trained on, with values in range, and answered without a word. Series of the training's kind are quiet."""
    _quiet(clf.predict, _near())
    ramp = np.linspace(0, 1.5, 30)[:, None] * [1.0, 0.5]                   # the same ramp, three samples a step
    with pytest.warns(UserWarning, match=r"^2 of 2 series are over 2 times as long as the longest the model was "
                                         r"trained on \(first: sequence 1, 30 steps; the longest training series: 10\): "
                                         r"it never read series this long, so their labels may be off; pass series "
                                         r"like the training ones \(at the training data's sampling rate"):
        clf.predict([ramp, ramp])
    with pytest.warns(UserWarning, match=r"^1 of 1 series are over 2 times as long"):
        clf.evaluate([ramp], ["up"])
    from asgi_client import Client                                          # the service's answer says it too
    from lstmkit.deploy.server import create_app
    c = Client(create_app(clf.run_dir_, engine="torch"))
    try:
        status, out = c.post_json({"series": [_near(1)[0].tolist(), ramp.tolist()]})
        status_near, near = c.post_json({"series": [s.tolist() for s in _near(2)]})
    finally:
        c.close()
    assert status == 200 and out["warnings"] == [
        "1 of 2 series are over 2 times as long as the longest the model was trained on (first: series[1], 30 steps; "
        "the longest training series: 10): it never read series this long, so their labels may be off; pass series "
        "like the training ones (at the training data's sampling rate, resampled if need be), or retrain it on series "
        "like these"], out
    assert status_near == 200 and "warnings" not in near, near
    x, y = series(40)                                                      # lengths 8-20
    other = SequenceClassifier(**{**tiny_series, "max_epochs": 1, "model": "lstm", "unequal_length": True}).fit(
        x, y, out=tmp_path)
    _quiet(other.evaluate, *series(60, seed=1))


def test_a_few_texts_of_rare_words_in_the_training_file_itself_are_not_warned_of(tiny, texts, tmp_path):
    """Evaluated on its own training file, a model warned '4 of 2,999 texts hold no word the model knows …
    pass texts in the language and domain the model was trained on': texts whose every word fell under
    min_freq, not another language. One such text predicted alone is still warned of."""
    x, y = texts(300)
    x, y = x + ["Zork blah!"], y + ["pos"]                                 # words seen once: <unk> under min_freq 2
    clf = lstmkit.TextClassifier(**{**tiny, "min_freq": 2}, max_epochs=1).fit(x, y, out=tmp_path)
    from lstmkit.data.vocab import UNK_ID
    assert clf.tokenizer_.encode("Zork blah!")[:2] == [UNK_ID, UNK_ID]
    _quiet(clf.evaluate, x, y)
    with pytest.warns(UserWarning, match=r"^1 of 1 texts hold no word the model knows"):
        clf.predict(["Zork blah!"])


def test_the_notes_of_long_cut_and_unknown_texts_begin_one_token_past_their_bounds(reviews):
    """The notes answer a one-text request's usual case (nothing to say) by one reduction: at the bound itself
    nothing is said, one token past it the note names the sequence, as the search over every text does."""
    import torch
    from types import SimpleNamespace
    from lstmkit.data.batching import Ragged
    from lstmkit.data.vocab import UNK_ID
    from lstmkit.tasks.classify.classifier import LONGER
    from lstmkit.tasks.classify.fit_checks import cut_note

    name = lambda k: f"texts[{k}]"                                             # noqa: E731
    cfg = SimpleNamespace(max_len=5, truncate="head")
    assert cut_note(torch.tensor([3, 5]), cfg, "text", name) is None
    assert cut_note(torch.tensor([], dtype=torch.long), cfg, "text", name) is None
    assert cut_note(torch.tensor([3, 6, 7]), cfg, "text", name).startswith(
        "2 of 3 texts (66.7%) are longer than the model's max_len=5 tokens (first: texts[1], 6 tokens; the longest 7)")
    assert cut_note(torch.tensor([5, 6]), cfg, "text", name).startswith(      # one token past: said
        "1 of 2 texts (50%) are longer than the model's max_len=5 tokens (first: texts[1], 6 tokens")
    far = LONGER * reviews.data_summary_["train_length"]["max"]
    known = int(reviews.tokenizer_.encode("the film was good")[0])
    assert known != UNK_ID

    def ragged(lengths, unknown=()):
        values = torch.full((sum(lengths),), known)
        values[list(unknown)] = UNK_ID
        return Ragged(values, torch.tensor(lengths))
    texts = ["a", "b"]
    assert reviews._long_note(ragged([2, far]), name) is None
    assert reviews._long_note(ragged([far + 1, 2]), name).startswith(
        f"1 of 2 texts are over {LONGER} times as long as the longest the model was trained on (first: texts[0], "
        f"{far + 1} tokens")
    assert reviews._unknown_words_note(texts, ragged([2, 3]), name) is None
    assert reviews._unknown_words_note(texts, ragged([2, 3], unknown=[0, 1]), name).startswith(
        "1 of 2 texts hold no word the model knows (first: texts[0], 'a'; 40% of all their words are unknown")
    # no unknown token, but a text that encodes to no token at all: it holds no word the model knows either
    assert reviews._unknown_words_note(texts, ragged([0, 3]), name).startswith(
        "1 of 2 texts hold no word the model knows (first: texts[0], 'a'; 0% of all their words are unknown")
