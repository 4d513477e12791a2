"""The acoustic models: subsampling lengths and receptive field, padding invariance, CTC, seq2seq."""
import torch

from lstmkit.tasks.speech.model import AcousticModel, ConvSubsampler, CTCLoss, SpeechSeq2Seq, receptive_field


def test_subsampler_lengths_and_receptive_field():
    sub = ConvSubsampler(6, 8, 2)
    assert sub.receptive_field == receptive_field(2) == 7
    x = torch.randn(1, 30, 6)
    y, n = sub(x, torch.tensor([30]))
    assert y.shape == (1, int(n), 8) and int(n) == ((30 - 3) // 2 + 1 - 3) // 2 + 1 == 6
    # output frame 0 reads input frames 0..6 only
    x2 = x.clone()
    x2[:, 7:] = torch.randn(1, 23, 6)
    torch.testing.assert_close(sub(x2, torch.tensor([30]))[0][:, 0], y[:, 0])
    x2[:, 6] += 1.0
    assert not torch.allclose(sub(x2, torch.tensor([30]))[0][:, 0], y[:, 0])
    assert ConvSubsampler(6, 8, 0)(x, torch.tensor([30]))[0] is x


def test_padded_batch_gives_each_utterance_its_own_output():
    torch.manual_seed(0)
    net = AcousticModel(6, 5, subsample=1, channels=8, hidden_size=8, num_layers=1, dropout=0.0).eval()
    a, b = torch.randn(1, 20, 6), torch.randn(1, 13, 6)
    batch = torch.zeros(2, 20, 6)
    batch[0], batch[1, :13] = a[0], b[0]
    lp, lens = net(batch, torch.tensor([20, 13]))
    lp_b, lens_b = net(b, torch.tensor([13]))
    assert lens.tolist() == [9, 6] and int(lens_b) == 6
    torch.testing.assert_close(lp[1, :6], lp_b[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 9))


def test_ctc_training_step_lowers_the_loss():
    torch.manual_seed(0)
    net = AcousticModel(4, 3, subsample=0, hidden_size=8, num_layers=1, dropout=0.0)
    x = torch.randn(4, 12, 4)
    lengths = torch.tensor([12, 12, 10, 8])
    targets, tlen = torch.tensor([[1, 2], [2, 1], [1, 1], [2, 0]]), torch.tensor([2, 2, 2, 1])
    loss_fn, opt = CTCLoss(), torch.optim.Adam(net.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(net(x, lengths), (targets, tlen))
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    assert float(loss.detach()) < 0.5 * first


def test_speech_seq2seq_reuses_the_translation_decoder():
    from lstmkit.nn.seq2seq import beam_search, greedy_search
    torch.manual_seed(0)
    net = SpeechSeq2Seq(6, 9, subsample=1, channels=8, embed_dim=8, hidden_size=8, num_layers=1,
                        dropout=0.0).eval()
    x, lengths = torch.randn(2, 20, 6), torch.tensor([20, 15])
    logits = net(x, lengths, torch.full((2, 4), 2))
    assert logits.shape == (2, 4, 9)
    g = greedy_search(net, x, lengths, max_len_ratio=0.3)
    b = beam_search(net, x, lengths, beam=1, alpha=0.0, max_len_ratio=0.3)
    assert [h.ids for h in g] == [h.ids for h in b]
    assert all(len(h.ids) <= 0.3 * 20 + 3 for h in g)
