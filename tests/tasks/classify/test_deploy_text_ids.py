"""The classify service encodes a request's texts at once (``encode_many`` and ``Ragged``, as
``predict`` does): the ids must be bitwise those of encoding each text alone, and a text of white
space is refused as before (a 422 naming ``["texts", i]``)."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.data.batching import TRUNCATE_MODES, pad_batch, truncate
from lstmkit.data.vocab import PAD_ID
from lstmkit.deploy.adapter import BadRequest
from lstmkit.tasks.classify.deploy import ClassifyAdapter
from lstmkit.tasks.classify.estimator import TextClassifier

UNICODE_TRAIN = ["Café crème brûlée was good", "好看的电影 great", "naïve ﬁlm awful",
                 "Ünïcödé wörds loved", "don't miss it, it’s bad", "é e\u0301 fine"]
AWKWARD = [
    "good film", "!!!", "...  ,,", "\u200b", "Don't <br /> 'stop' café", "好看的电影", "e\u0301 é ÉCOLE",
    "ﬁlm ＧＯＯＤ", "😀 good 😀", "zyzzyva qwxz unknownword", "good\x00bad", "tab\tand\nnew line",
    "it’s ok", "a" * 500, "good bad " * 300 + "the very end", " ".join(f"w{i}" for i in range(700)),
    "好" * 450, "'quoted' words'", "x_y 10/10 A'B'C",
]
BLANK = ["", " ", "\t\n", "\u3000", "\u00a0", " \r\n "]


def one_by_one(est, texts):
    """The service's encoding before it was batched (the reference): each text on its own."""
    cfg = est.config_
    out = []
    for i, t in enumerate(texts):
        ids = truncate(est.tokenizer_.encode(t), cfg.max_len, cfg.truncate) if t.strip() else []
        if len(ids) == 0:
            raise BadRequest(["texts", i], "the text is empty (no tokens)", "send text with at least one word")
        out.append(torch.tensor(ids, dtype=torch.long))
    return out


def outcome(encode, texts):
    """What an encoding gives: the list of id tensors, or the refusal's ``(loc, message, hint)``."""
    try:
        return list(encode(texts))
    except BadRequest as e:
        return ("refused", e.loc, e.message, e.hint)


def assert_same(adapter, texts):
    new, old = outcome(adapter.encode_texts, texts), outcome(lambda ts: one_by_one(adapter.est, ts), texts)
    if isinstance(old, tuple):
        assert new == old
        return
    assert len(new) == len(old)
    for a, b in zip(new, old):
        assert a.dtype == b.dtype == torch.long and torch.equal(a, b), (a, b)


@pytest.fixture(scope="module", params=["word", "char", "bpe"])
def adapter(request, tiny, texts):
    if request.param == "bpe":
        pytest.importorskip("tokenizers")
    train, labels = texts(40)
    train, labels = train + UNICODE_TRAIN, labels + ["pos", "neg"] * (len(UNICODE_TRAIN) // 2)
    kw = {"min_freq": 1, "max_size": 60} if request.param == "bpe" else {}
    clf = TextClassifier(**{**tiny, **kw}, max_epochs=1, tokenizer=request.param, word_scores=False).fit(train, labels)
    return ClassifyAdapter(clf)


@pytest.fixture(params=[(None, "both"), *((n, keep) for n in (1, 7, 400) for keep in TRUNCATE_MODES)],
                ids=lambda p: f"{p[0]}-{p[1]}")
def cut(adapter, request):
    cfg = adapter.est.config_
    before = cfg.max_len, cfg.truncate
    cfg.max_len, cfg.truncate = request.param
    yield adapter
    cfg.max_len, cfg.truncate = before


def test_batched_ids_equal_each_text_alone(cut):
    assert_same(cut, AWKWARD)
    for t in AWKWARD:                                     # a request of one text too
        assert_same(cut, [t])


@pytest.mark.parametrize("where", [0, 3, len(AWKWARD)])
@pytest.mark.parametrize("blank", BLANK)
def test_white_space_texts_refused_as_before(adapter, blank, where):
    texts = [*AWKWARD[:where], blank, *AWKWARD[where:], ""]
    with pytest.raises(BadRequest) as e:
        adapter.encode_request(texts, None)
    assert e.value.loc == ["texts", where] and e.value.message == "the text is empty (no tokens)"
    assert_same(adapter, texts)


def test_answer_pads_the_ids_as_one_tensor_per_text_did(cut):
    """The net reads bitwise the padded batch and lengths the per-text tensors gave, through
    ``answer`` and across the requests of ``answer_many``."""
    seen = []

    def net(x, lengths):
        seen.append((x, lengths))
        return cut.net(x, lengths)

    requests = [{"texts": AWKWARD[:5]}, {"texts": [" "]}, {"texts": AWKWARD[5:]}, {"texts": AWKWARD[9:10]}]
    out = cut.answer_many(net, requests)
    assert isinstance(out[1], BadRequest) and out[1].loc == ["texts", 0]
    want = pad_batch([s for r in (requests[0], requests[2], requests[3]) for s in one_by_one(cut.est, r["texts"])],
                     PAD_ID)
    assert all(torch.equal(a, b) and a.dtype == b.dtype for a, b in zip(seen[-1], want))
    alone = cut.answer(net, texts=AWKWARD)
    assert all(torch.equal(a, b) for a, b in zip(seen[-1], pad_batch(one_by_one(cut.est, AWKWARD), PAD_ID)))
    both = out[0]["predictions"] + out[2]["predictions"]
    assert [p["label"] for p in alone["predictions"]] == [p["label"] for p in both]
    for got, want in zip(alone["predictions"], both):      # the same rows in a batch of another size
        assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def _same_answers(got, want):
    """Answers equal in every byte a client sees (a refusal by its place, message and fix)."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        if isinstance(b, BadRequest):
            assert isinstance(a, BadRequest) and (a.loc, a.message, a.hint) == (b.loc, b.message, b.hint)
        else:
            assert a == b


def test_a_batch_encoded_at_once_answers_as_its_requests_encoded_each_alone(cut):
    """``answer_many`` of a text classifier encodes every request's texts in one call and looks for the
    notes per request only where the batch could draw one: the answers, their warnings (a text of unknown
    words, one cut by max_len, one far longer than training's, each named by its place in its own request)
    and the refusals are those of each request's texts encoded on their own (``_answer_each``, the path
    before), whatever stands beside them in the batch."""
    requests = [{"texts": ["good film"]}, {"texts": AWKWARD[:5]}, {"texts": [" "]}, {"texts": AWKWARD[5:12]},
                {"series": [[1.0]]}, {"texts": ["zyzzyva qwxz", "good"]}, {"texts": AWKWARD[12:]},
                {"texts": ["good", "bad film"]}, {"texts": ["good", ""]}, {"texts": AWKWARD[9:10]},
                {"texts": ["bad", "good bad " * 300]}]                    # known words only, far longer than training's
    got, want = cut.answer_many(cut.net, requests), cut._answer_each(cut.net, requests)
    _same_answers(got, want)
    assert any("warnings" in a for a in want if isinstance(a, dict))      # the batch drew notes, in their requests
    if cut.est.config_.max_len in (None, 400):                            # short known words: no note at all
        quiet = [{"texts": ["good film"]}, {"texts": ["bad", "good bad"]}]
        assert all("warnings" not in a for a in cut.answer_many(cut.net, quiet))
    for k in range(len(requests)):                                        # and each request alone
        _same_answers(cut.answer_many(cut.net, requests[k:k + 1]), cut._answer_each(cut.net, requests[k:k + 1]))


def test_a_batch_of_only_refused_requests_is_answered_with_their_refusals(adapter):
    requests = [{"texts": [" "]}, {"series": [[1.0]]}, {"texts": ["a"], "series": [[1.0]]}, {}]
    got = adapter.answer_many(adapter.net, requests)
    _same_answers(got, adapter._answer_each(adapter.net, requests))
    assert [e.loc for e in got] == [["texts", 0], ["series"], ["texts"], ["texts"]]


_PIECES = st.sampled_from(["good", "bad", "Don't", "'a'", "<br />", "café", "e\u0301", "好看", "ﬁ", "\x00", "\t",
                           " ", "\u3000", "!!", "zzz", "it’s", "😀", "Ünï"])
_TEXT = st.lists(_PIECES | st.text(max_size=8), max_size=15).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=8), max_len=st.sampled_from([None, 1, 2, 5]),
       keep=st.sampled_from(TRUNCATE_MODES))
def test_any_texts_encode_as_each_alone(adapter, texts, max_len, keep):
    cfg = adapter.est.config_
    before = cfg.max_len, cfg.truncate
    cfg.max_len, cfg.truncate = max_len, keep
    try:
        assert_same(adapter, texts)
    finally:
        cfg.max_len, cfg.truncate = before
