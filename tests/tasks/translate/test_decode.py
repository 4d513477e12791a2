"""Greedy and beam search: beam 1 is greedy, beam never scores below greedy, scores are what
the model assigns, and a tiny copy task is learnt to 100 % exact match."""
import pytest
import torch

from lstmkit.tasks.translate.data import EOS_ID
from lstmkit.tasks.translate.decode import beam_search, greedy_search, max_lengths
from lstmkit.tasks.translate.model import Seq2Seq


def _random_model(seed, attention="bahdanau"):
    torch.manual_seed(seed)
    net = Seq2Seq(15, 9, embed_dim=8, hidden_size=8, attention=attention).eval()
    with torch.no_grad():                       # a peaky output so <eos> and ties behave like a trained model
        net.out.weight.mul_(6.0)
    src = torch.randint(4, 15, (6, 5))
    src_len = torch.tensor([5, 3, 4, 1, 2, 5])
    src[torch.arange(5)[None] >= src_len[:, None]] = 0
    return net, src, src_len


def _score(net, src, src_len, ids):
    """Sum of log-probabilities of ``ids`` under teacher forcing (the model's objective)."""
    tgt_in = torch.tensor([[2] + ids[:-1]])
    with torch.no_grad():
        logp = torch.log_softmax(net(src, src_len, tgt_in), -1)[0]
    return float(logp[torch.arange(len(ids)), torch.tensor(ids)].sum())


@pytest.mark.parametrize("attention", ["bahdanau", "general", "none"])
def test_beam_one_equals_greedy(attention):
    for seed in range(3):
        net, src, src_len = _random_model(seed, attention)
        g = greedy_search(net, src, src_len)
        b = beam_search(net, src, src_len, beam=1, alpha=0.0)
        assert [h.ids for h in g] == [h.ids for h in b]
        assert [h.score for h in g] == pytest.approx([h.score for h in b], abs=1e-5)


def test_batched_equals_one_by_one():
    net, src, src_len = _random_model(1)
    batch = beam_search(net, src, src_len, beam=4, alpha=0.6)
    for i in range(len(src)):
        alone = beam_search(net, src[i:i + 1, : int(src_len[i])], src_len[i:i + 1], beam=4, alpha=0.6)[0]
        assert alone.ids == batch[i].ids


def test_beam_never_scores_below_greedy_and_scores_are_the_models():
    for seed in range(8):
        net, src, src_len = _random_model(seed)
        g = greedy_search(net, src, src_len)
        for beam in (2, 5):
            b = beam_search(net, src, src_len, beam=beam, alpha=0.0)
            for i, (hg, hb) in enumerate(zip(g, b)):
                assert hb.score >= hg.score - 1e-5, (seed, beam, i)
                assert hb.score == pytest.approx(_score(net, src[i:i + 1], src_len[i:i + 1], hb.ids), abs=1e-4)


def test_stops_at_eos_and_respects_max_length():
    net, src, src_len = _random_model(0)
    limits = max_lengths(src_len, 1.0)
    for h, n in zip(beam_search(net, src, src_len, beam=3, max_len_ratio=1.0), limits.tolist()):
        assert len(h.ids) <= n
        assert EOS_ID not in h.ids[:-1]
        assert h.attention.shape == (len(h.ids), src.shape[1])


def test_copy_task_learns_to_exact_match(pairs, tiny):
    from lstmkit import Translator
    data = pairs(400, seed=1, copy=True)
    tr = Translator(**{**tiny, "max_epochs": 20, "patience": 20, "hidden_size": 32, "attention": "bahdanau"}).fit(
        data, val_data=pairs(30, seed=2, copy=True))
    test = [s for s, _ in pairs(50, seed=3, copy=True)]
    assert tr.translate(test, beam=1) == test
    assert tr.translate(test, beam=3) == test
