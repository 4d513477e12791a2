"""The absolute decoding bound: with ``--max-len none`` a model that never writes ``<eos>`` stops at
``ceil(max_len_ratio * longest training target) + 2`` tokens (with a warning) however long the
source, normal translations are unchanged by the bound, and the service refuses a source it would
have to encode and attend over without bound."""
import math
import warnings

import pytest
import torch

from lstmkit.nn.seq2seq import EOS_ID, beam_search, greedy_search
from lstmkit.tasks.translate import Translator
from seq2seq_helpers import without_eos


@pytest.fixture(scope="module")
def trained():
    from translate_data import TINY, make_pairs
    train = make_pairs(120, seed=2, max_len=7)
    tr = Translator(**{**TINY, "max_epochs": 6, "patience": 6, "max_len": None}).fit(train, val_data=make_pairs(12,
                                                                                                            seed=8))
    return tr, train


@pytest.fixture()
def endless(trained):
    """The trained model with its <eos> output switched off (restored afterwards)."""
    with without_eos(trained[0].net_):
        yield trained[0]


def test_the_longest_training_target_is_recorded_and_bounds_decoding(trained):
    tr, train = trained
    longest = max(len(tr.tgt_tokenizer_.encode(t)) for _, t in train)
    assert tr.data_summary_["longest_target"] == longest
    assert tr.decode_steps() == math.ceil(tr.config_.max_len_ratio * longest) + 2


def test_normal_translations_are_unchanged_by_the_bound(trained):
    """Sentences of training length: the same tokens as the search without a bound, and no warning."""
    from translate_data import make_pairs
    tr, _ = trained
    sentences = [s for s, _ in make_pairs(10, seed=11, max_len=7)]
    for beam in (1, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bounded = [tr.output_tokens(s, beam=beam)[1] for s in sentences]
        free = []
        for s in sentences:
            ids = tr.src_tokenizer_.encode(s)
            free.append(beam_search(tr.net_, torch.tensor([ids]), torch.tensor([len(ids)]), beam,
                                    tr.config_.length_penalty, tr.config_.max_len_ratio)[0].ids)
        assert bounded == free
        assert any(ids and ids[-1] == EOS_ID for ids in bounded)       # the model does end sentences


@pytest.mark.parametrize("beam", [1, 3])
def test_a_decode_that_never_ends_stops_at_the_bound_with_a_warning(endless, beam):
    long = " ".join(["the big dog runs ."] * 100)                        # 500 tokens: 1,002 steps by the ratio
    n = len(endless.src_tokenizer_.encode(long))
    steps = endless.decode_steps()
    assert steps < math.ceil(endless.config_.max_len_ratio * n) + 2
    with pytest.warns(UserWarning, match=rf"1 translation\(s\) reached the longest output this model writes "
                                         rf"\({steps} tokens"):
        pieces, ids = endless.output_tokens(long, beam=beam)
    assert len(ids) == steps and EOS_ID not in ids
    with pytest.warns(UserWarning, match=r"2 translation\(s\) reached the longest output"):
        out = endless.translate([long, long, "dog ."], beam=beam)
    assert len(out) == 3


def test_the_bound_cuts_only_what_the_ratio_would_have_let_run_longer(endless):
    """A short source whose ratio limit is under the bound stops there, not marked as cut."""
    ids = endless.src_tokenizer_.encode("dog .")
    src, n = torch.tensor([ids]), torch.tensor([len(ids)])
    ratio, steps = endless.config_.max_len_ratio, endless.decode_steps()
    for hyp in (greedy_search(endless.net_, src, n, ratio, steps)[0], beam_search(endless.net_, src, n, 3, 1.0, ratio,
                                                                                  steps)[0]):
        assert len(hyp.ids) == math.ceil(ratio * len(ids)) + 2 < steps and not hyp.cut


def test_the_service_refuses_a_source_over_twice_the_longest_trained_one(trained):
    pytest.importorskip("pydantic")
    from lstmkit.deploy.adapter import BadRequest
    from lstmkit.tasks.translate.deploy import TranslateAdapter
    tr, _ = trained
    adapter = TranslateAdapter(tr)
    limit = tr.source_limit()
    assert limit == 2 * tr.data_summary_["longest_source"]
    assert adapter.metadata()["max_source_tokens"] == limit and adapter.metadata()["max_output_tokens"] == tr.decode_steps()
    assert len(adapter.answer(tr.net_, ["the dog ."], beam=1)["translations"]) == 1
    with pytest.raises(BadRequest, match=rf"has {limit + 1} tokens; this model reads at most {limit}"):
        adapter.check_request([" ".join(["dog"] * (limit + 1))], 1)
