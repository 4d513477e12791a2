"""nn.seq2seq: the encoder-decoder (shapes, masking of padding, every attention, tied embeddings) and its
decoders (beam 1 is greedy, beam never scores below greedy, scores are what the model assigns)."""
import math

import pytest
import torch

from lstmkit.nn.seq2seq import (ATTENTIONS, EOS_ID, AdditiveAttention, LuongAttention, Seq2Seq, beam_search,
                                greedy_search, max_lengths, sequence_loss)


def _batch():
    src = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0]])
    src_len = torch.tensor([4, 2])
    tgt_in = torch.tensor([[2, 4, 5], [2, 6, 0]])
    return src, src_len, tgt_in


@pytest.mark.parametrize("attention", ATTENTIONS)
@pytest.mark.parametrize("encoder", ["bilstm", "lstm", "gru", "transformer"])
def test_forward_shapes(attention, encoder):
    torch.manual_seed(0)
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=8, num_layers=2, encoder=encoder, attention=attention,
                  dropout=0.1).eval()
    logits = net(*_batch())
    assert logits.shape == (2, 3, 10) and torch.isfinite(logits).all()
    loss = sequence_loss(0.1)(logits, torch.tensor([[4, 5, 3], [6, 3, 0]]))
    loss.backward()


@pytest.mark.parametrize("attention", ["bahdanau", "dot", "general"])
def test_padding_does_not_change_a_sentence(attention):
    """A sentence decoded alone or beside a longer one (so padded) gives the same logits."""
    torch.manual_seed(0)
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=8, attention=attention).eval()
    src, src_len, tgt_in = _batch()
    both = net(src, src_len, tgt_in)
    alone = net(src[1:, :2], src_len[1:], tgt_in[1:])
    torch.testing.assert_close(both[1:], alone, atol=1e-5, rtol=1e-5)


def test_attention_weights_are_zero_at_padding():
    keys = torch.randn(2, 4, 6)
    mask = torch.tensor([[True, True, True, True], [True, True, False, False]])
    for att in (AdditiveAttention(5, 6, 7), LuongAttention(5, 6, "general"), LuongAttention(6, 6, "dot")):
        q = torch.randn(2, 6 if getattr(att, "kind", "") == "dot" else 5)
        ctx, w = att(q, keys, att.prepare(keys), mask)
        assert ctx.shape == (2, 6)
        torch.testing.assert_close(w.sum(-1), torch.ones(2))
        assert (w[1, 2:] == 0).all()


def test_tied_embeddings_share_one_tensor():
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=16, tie_embeddings=True)
    assert net.out.weight is net.tgt_embed.weight
    assert "out.weight" not in net.state_dict() and "out.bias" in net.state_dict()
    assert sum(p is net.tgt_embed.weight for p in net.parameters()) == 1
    assert net(*_batch()).shape == (2, 3, 10)


def test_teacher_forcing_below_one_still_trains():
    torch.manual_seed(0)
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=8, teacher_forcing=0.5).train()
    sequence_loss()(net(*_batch()), torch.tensor([[4, 5, 3], [6, 3, 0]])).backward()
    assert net.src_embed.weight.grad is not None


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


@pytest.mark.parametrize("beam", [1, 4, 5])
@pytest.mark.parametrize("attention", ["bahdanau", "general", "none"])
def test_batched_equals_one_by_one(beam, attention):
    for seed in (1, 2):
        net, src, src_len = _random_model(seed, attention)
        batch = beam_search(net, src, src_len, beam=beam, alpha=0.6)
        for i in range(len(src)):
            alone = beam_search(net, src[i:i + 1, : int(src_len[i])], src_len[i:i + 1], beam=beam, alpha=0.6)[0]
            assert alone.ids == batch[i].ids
            assert alone.score == pytest.approx(batch[i].score, abs=1e-5)


@pytest.mark.parametrize("beam", [1, 5])
def test_traced_back_attention_is_the_winners_own(beam):
    """The search keeps back-pointers and traces the winners back at the end: each winner's
    attention rows are the ones the decoder gives when fed that winner's own tokens."""
    for seed in range(4):
        net, src, src_len = _random_model(seed)
        with torch.no_grad():                   # flatter output (the winner often extends another
            net.out.weight.div_(4.0)            # row), sharper attention (rows differ clearly)
            net.attn.v.weight.mul_(30.0)
        for i, h in enumerate(beam_search(net, src, src_len, beam=beam, alpha=0.6)):
            memory, state = net.encode(src[i:i + 1], src_len[i:i + 1])
            rows = []
            for y in [2] + h.ids[:-1]:
                _, state, w = net.step(torch.tensor([y]), state, memory)
                rows.append(w[0])
            torch.testing.assert_close(h.attention, torch.stack(rows), atol=1e-5, rtol=0)


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


def test_a_beam_beyond_memory_is_refused_before_its_rows_are_made(monkeypatch):
    """--beam 100000 took 3.5 GB on 45 short pairs of 20 words, ~6 GB a sentence a step on a real
    vocabulary: refused from the rows' size, naming --beam, before the encoder memory is copied."""
    from lstmkit.errors import LstmkitError
    from lstmkit import memory
    monkeypatch.setattr(memory, "memory_limit", lambda device: (2**20, None, "this machine's memory"))
    net, src, src_len = _random_model(0, "bahdanau")
    assert len(beam_search(net, src, src_len, beam=4)) == len(src)          # a usual beam: as before
    with pytest.raises(LstmkitError, match=r"^a beam of 100,000 needs about [\d.]+ [MG]iB for \d+ sentence\(s\) at once, "
                                           r"more than the 1 MiB of this machine's memory — pass --beam \d+ \(5 to 10"):
        beam_search(net, src, src_len, beam=100_000)


A, B, C = 4, 5, 6


class _TableDecoder(torch.nn.Module):
    """A decoder whose next-token probabilities are a table of the tokens written so far (its state),
    ``<pad> <unk> <bos> <eos> a b c`` = 0-6, four equal tokens after any prefix it does not hold; its
    attention over the source's positions follows the token it reads and how many it has read."""
    LAST = {EOS_ID: 0.25, A: 0.25, B: 0.25, C: 0.25}

    def __init__(self, table):
        super().__init__()
        self.TABLE = table

    def encode(self, src, src_len):
        from lstmkit.nn.seq2seq import Memory
        mask = torch.arange(src.shape[1])[None] < src_len[:, None]
        return Memory(torch.zeros(*src.shape, 1), None, mask), torch.zeros(len(src), 0, dtype=torch.long)

    def step(self, y, state, memory):
        written = torch.cat([state, y[:, None]], 1)
        rows = []
        for ids in written[:, 1:].tolist():
            p = torch.full((7,), 1e-12)
            for k, v in self.TABLE.get(tuple(ids), self.LAST).items():
                p[k] = v
            rows.append(p.log())
        where = torch.arange(memory.out.shape[1], dtype=torch.float)
        weights = torch.softmax(where * y[:, None] / 4 - (where - written.shape[1]).abs()[None], -1)   # [B, S]
        return torch.stack(rows), written, weights

    @staticmethod
    def reorder(state, idx):
        return state[idx]


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_narrow_beam_keeps_the_greedy_translation_when_its_own_ends_worse(alpha):
    """A beam keeps the `beam` best prefixes a step: at beam 2 "b a" and "b c" outscore "a <eos>",
    then end worse than it (-3.13 against -1.83). The search answered "b a <eos>", below beam 1's
    translation; the greedy path now competes at the end."""
    table = {(): {A: 0.4, B: 0.35, C: 0.25},      # greedy writes a, then <eos>: log .4 + log .4 = -1.83
             (A,): {EOS_ID: 0.4, A: 0.2, B: 0.2, C: 0.2},
             (B,): {A: 0.5, C: 0.5},               # b a = b c = -1.74 push "a <eos>" out of a beam of 2
             (C,): {A: 0.9, C: 0.1}}               # (c a = -1.49 too of 3), then end no better than 4 equal tokens
    net, src, src_len = _TableDecoder(table), torch.tensor([[4]]), torch.tensor([1])
    g = greedy_search(net, src, src_len)[0]
    assert g.ids == [4, EOS_ID]
    for beam in (2, 3):
        b = beam_search(net, src, src_len, beam=beam, alpha=alpha)[0]
        assert b.ids == [4, EOS_ID] and b.score == pytest.approx(g.score, abs=1e-6)
    wide = beam_search(net, src, src_len, beam=4, alpha=alpha)[0]     # wide enough to keep it itself
    assert wide.ids == [4, EOS_ID]


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_hypothesis_that_ended_is_kept_after_live_ones_push_it_out_of_the_beam(alpha):
    """"b <eos>" (log .19 = -1.66) ends at step 2, where "a a" and "a c" (-0.92 each) push it out of a
    beam of 2; both then end at -2.30, as greedy's "a a <eos>" does. The search answered one of them;
    each sentence's best ended hypothesis is now kept aside."""
    table = {(): {A: 0.8, B: 0.2}, (A,): {A: 0.5, C: 0.5}, (B,): {EOS_ID: 0.95, A: 0.05}}
    net, src, src_len = _TableDecoder(table), torch.tensor([[4, 5, 6]]), torch.tensor([3])
    assert greedy_search(net, src, src_len, max_len_ratio=1.0)[0].ids == [A, A, EOS_ID]
    b = beam_search(net, src, src_len, beam=2, alpha=alpha, max_len_ratio=1.0)[0]
    assert b.ids == [B, EOS_ID] and b.score == pytest.approx(math.log(0.2 * 0.95), abs=1e-5)
    memory, state = net.encode(src, src_len)
    rows = []
    for y in [2, B]:                            # its attention rows: those it read "b" then "<eos>" with
        _, state, w = net.step(torch.tensor([y]), state, memory)
        rows.append(w[0])
    torch.testing.assert_close(b.attention, torch.stack(rows), atol=1e-6, rtol=0)


@pytest.mark.parametrize("make", [lambda: AdditiveAttention(8, 8, 8), lambda: LuongAttention(8, 8, "general")])
def test_attention_weights_are_float32_under_cpu_bf16_autocast(make):
    """CPU autocast leaves softmax in bf16 (CUDA's runs it in float32): the weights were 3 digits wide."""
    torch.manual_seed(0)
    att, keys, q = make(), torch.randn(4, 40, 8), torch.randn(4, 8)
    mask = torch.arange(40) < torch.tensor([40, 31, 17, 5])[:, None]
    with torch.no_grad():
        _, plain = att(q, keys, att.prepare(keys), mask)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            _, weights = att(q, keys, att.prepare(keys), mask)
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights.sum(-1), torch.ones(4), atol=1e-6, rtol=0)
    assert bool((weights[~mask] == 0).all())
    torch.testing.assert_close(weights, plain, atol=0.05, rtol=0)       # the scores alone rounded to bf16


def _every_ending(net, src, src_len, limit):
    """Each hypothesis the search may answer, by brute force: every token sequence that ends at its
    first <eos> or at ``limit`` tokens, with its log-probability (the decoder's own, step by step)."""
    out = {}

    def grow(ids, state, memory, y, total):
        logp = torch.log_softmax(net.step(torch.tensor([y]), state, memory)[0][0].float(), -1)
        new_state = net.step(torch.tensor([y]), state, memory)[1]
        for tok in range(len(logp)):
            seq, s = ids + [tok], total + float(logp[tok])
            if tok == EOS_ID or len(seq) == limit:
                out[tuple(seq)] = s
            else:
                grow(seq, new_state, memory, tok, s)

    memory, state = net.encode(src, src_len)
    grow([], state, memory, 2, 0.0)
    return out


def test_a_beam_that_holds_every_prefix_answers_the_best_length_normalised_hypothesis():
    """Against every hypothesis of a 3-token table decoder: "<eos>" (-0.92) is the best sum, "a a <eos>"
    (-1.21, three tokens) the best once the GNMT penalty ((5 + len) / 6) ** alpha divides it."""
    from lstmkit.nn.seq2seq import length_penalty
    table = {(): {EOS_ID: 0.4, A: 0.6}, (A,): {EOS_ID: 0.45, A: 0.55}, (A, A): {EOS_ID: 0.9, A: 0.1}}
    net, src, src_len = _TableDecoder(table), torch.tensor([[4]]), torch.tensor([1])
    every = _every_ending(net, src, src_len, limit=int(max_lengths(src_len, 1.0)[0]))
    winners = set()
    for alpha in (0.0, 0.6, 1.0, 2.0):
        best = max(every, key=lambda ids: every[ids] / length_penalty(len(ids), alpha))
        h = beam_search(net, src, src_len, beam=7 * 7, alpha=alpha, max_len_ratio=1.0)[0]
        assert tuple(h.ids) == best and h.score == pytest.approx(every[best], abs=1e-5), alpha
        winners.add(best)
    assert winners == {(EOS_ID,), (A, A, EOS_ID)}


def test_output_bounds_and_a_hypothesis_cut_by_max_steps():
    """Each sentence may write ceil(ratio x length) + 2 tokens, at most max_steps; a hypothesis is cut
    when it stopped at max_steps without <eos> where the ratio alone would have let it go on."""
    from lstmkit.nn.seq2seq import _cut
    assert max_lengths(torch.tensor([1, 3, 4]), 1.5).tolist() == [4, 7, 8]
    assert max_lengths(torch.tensor([1, 3, 4]), 1.5, max_steps=7).tolist() == [4, 7, 7]
    five = [4, 5, 6, 4, 5]
    assert _cut(five, 2, 2.0, 5)                                  # its own limit 6: max_steps 5 cut it
    assert not _cut(five[:4] + [EOS_ID], 2, 2.0, 5)               # it ended itself
    assert not _cut(five, 2, 2.0, None) and not _cut(five[:4], 2, 2.0, 5)
    assert not _cut(five, 2, 1.5, 5)                              # its own limit is 5 too: no cut


def test_an_encoder_without_a_final_state_hands_the_decoder_the_mean_of_its_valid_outputs():
    """The transformer encoder has no (h, c): the bridge reads the mean of the memory over each
    sentence's own positions (padding left out), h0 = tanh(W_h mean + b_h), c0 = W_c mean + b_c."""
    torch.manual_seed(0)
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=8, num_layers=2, encoder="transformer", dropout=0.0).eval()
    src, src_len, _ = _batch()
    with torch.no_grad():
        memory, (h0, c0, _) = net.encode(src, src_len)
        for b, n in enumerate(src_len.tolist()):
            mean = memory.out[b, :n].sum(0) / n                 # [E], the n valid positions alone
            for layer in range(2):
                torch.testing.assert_close(h0[layer, b], torch.tanh(net.bridge_h(mean)), atol=1e-5, rtol=0)
                torch.testing.assert_close(c0[layer, b], net.bridge_c(mean), atol=1e-5, rtol=0)


def _fed_by_hand(net, src, src_len, tgt_in, own: bool):
    """The decoder's logits step by step, fed the target (``own`` False) or its own argmax at every
    target position that is not padding (``own`` True; padding is fed as padding)."""
    memory, state = net.encode(src, src_len)
    y, outs, fed = tgt_in[:, 0], [], [tgt_in[:, 0]]
    for t in range(tgt_in.shape[1]):
        logits, state, _ = net.step(y, state, memory)
        outs.append(logits)
        if t + 1 < tgt_in.shape[1]:
            nxt = tgt_in[:, t + 1]
            y = torch.where(nxt != 0, logits.argmax(-1), nxt) if own else nxt
            fed.append(y)
    return torch.stack(outs, 1), torch.stack(fed, 1)


def test_teacher_forcing_zero_feeds_the_models_own_tokens_in_training_and_the_target_in_eval():
    """``teacher_forcing`` is the share of training steps fed the target: at 0 every step reads the
    argmax of the step before (padding stays padding); out of training (validation loss) every step is
    fed the target whatever the share."""
    torch.manual_seed(3)
    net = Seq2Seq(12, 10, embed_dim=8, hidden_size=8, dropout=0.0, teacher_forcing=0.0)
    src, src_len, _ = _batch()
    tgt_in = torch.tensor([[2, 4, 5, 6, 7], [2, 6, 8, 0, 0]])
    with torch.no_grad():
        want, fed = _fed_by_hand(net, src, src_len, tgt_in, own=True)
        assert not torch.equal(fed, tgt_in)                     # the model's own tokens differ from the target
        assert (fed[1, 3:] == 0).all()
        torch.testing.assert_close(net.train()(src, src_len, tgt_in), want, atol=1e-5, rtol=0)
        forced, _ = _fed_by_hand(net, src, src_len, tgt_in, own=False)
        torch.testing.assert_close(net.eval()(src, src_len, tgt_in), forced, atol=1e-5, rtol=0)


def test_the_gnmt_length_penalty_by_hand():
    """Wu et al. 2016: lp(Y) = (5 + |Y|)^alpha / (5 + 1)^alpha, so one token is never penalised."""
    from lstmkit.nn.seq2seq import length_penalty
    for alpha in (0.0, 0.6, 1.0, 2.0):
        assert length_penalty(1, alpha) == pytest.approx(1.0)
    assert length_penalty(7, 1.0) == pytest.approx(2.0)                 # 12 / 6
    assert length_penalty(13, 0.5) == pytest.approx(math.sqrt(3.0))     # (18 / 6) ** 0.5
    assert length_penalty(4, 0.0) == 1.0


def test_batches_weighed_by_their_target_tokens_give_the_mean_over_every_token():
    """``batch_weight`` is a batch's target tokens (padding not counted): the trainer's validation loss,
    each batch's mean weighed so, is the mean over every held-out token, however they are batched."""
    torch.manual_seed(0)
    loss = sequence_loss()
    long_ones, short_ones = torch.tensor([[4, 5, 6, 3], [7, 8, 3, 0]]), torch.tensor([[5, 3, 0, 0], [3, 0, 0, 0]])
    assert (loss.batch_weight(long_ones), loss.batch_weight(short_ones)) == (7.0, 3.0)
    a, b = torch.randn(2, 4, 10), torch.randn(2, 4, 10)
    weighed = (loss(a, long_ones) * 7.0 + loss(b, short_ones) * 3.0) / 10.0
    logp = torch.log_softmax(torch.cat([a, b]), -1)
    target = torch.cat([long_ones, short_ones])
    real = target != 0
    every = -logp[real].gather(1, target[real][:, None]).mean()            # the 10 tokens' mean
    torch.testing.assert_close(weighed, every)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_greedy_prefix_the_beam_drops_before_it_ends_still_competes(alpha):
    """At beam 2, "b a" and "b c" (.35 x .5 = .175 each) push greedy's "a a" (.4 x .36 = .144) out of the
    beam at step 2, before it ends; "a a <eos>" (.144 x .9 = .1296, log -2.04) then beats every ending the
    beam kept or cut: "a <eos>" (.4 x .3 = .12, log -2.12) and "b a <eos>" (.175 x .25, log -3.13), by the
    sum and by the GNMT penalty (-2.04 / (8/6) = -1.53 against -2.12 / (7/6) = -1.82). The greedy row
    carries it to the end, so beam 2 answers greedy's translation, not "a <eos>"."""
    table = {(): {A: 0.4, B: 0.35, C: 0.25}, (A,): {A: 0.36, C: 0.34, EOS_ID: 0.3}, (B,): {A: 0.5, C: 0.5},
             (A, A): {EOS_ID: 0.9, A: 0.1}}
    net, src, src_len = _TableDecoder(table), torch.tensor([[4]]), torch.tensor([1])
    g = greedy_search(net, src, src_len)[0]
    assert g.ids == [A, A, EOS_ID] and g.score == pytest.approx(math.log(0.4 * 0.36 * 0.9), abs=1e-6)
    b = beam_search(net, src, src_len, beam=2, alpha=alpha)[0]
    assert b.ids == [A, A, EOS_ID] and b.score == pytest.approx(g.score, abs=1e-6)


def test_the_end_the_beam_cuts_from_its_best_row_can_win():
    """At beam 2, step 2 keeps "b a" (.4 x .9 = .36) and "a a" (.6 x .5 = .3) and cuts "a <eos>" (.6 x .2 =
    .12), the ending of the beam's first row; every later ending is worse ("b a x" .108, "a a x" .09 at
    the limit of 3 tokens, "b <eos>" .04), so by the sum "a <eos>" is the answer."""
    rest = {EOS_ID: 0.1, A: 0.3, B: 0.3, C: 0.3}
    table = {(): {A: 0.6, B: 0.4}, (A,): {A: 0.5, C: 0.3, EOS_ID: 0.2}, (B,): {A: 0.9, EOS_ID: 0.1},
             (A, A): rest, (B, A): rest}
    net, src, src_len = _TableDecoder(table), torch.tensor([[4]]), torch.tensor([1])
    b = beam_search(net, src, src_len, beam=2, alpha=0.0, max_len_ratio=1.0)[0]
    assert b.ids == [A, EOS_ID] and b.score == pytest.approx(math.log(0.6 * 0.2), abs=1e-5)
    assert b.attention.shape == (2, 1)
