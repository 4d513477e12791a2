"""LSTM-FCN (nn/fcn.py): shapes, lengths (a padded batch answers as each sequence alone), and
inputs longer or shorter than the LSTM branch's fixed width; the seed ensemble and its loss."""
import pytest
import torch

from lstmkit.nn.classifier import ClassificationLoss
from lstmkit.nn.fcn import FCNBranch, LSTMFCNEnsemble, LSTMFCNNet, MemberLoss, windows


def test_fcn_branch_shape_and_global_average_over_valid_steps():
    torch.manual_seed(0)
    fcn = FCNBranch(3, filters=(8, 16, 8), kernels=(5, 3, 3)).eval()
    x = torch.randn(4, 20, 3)
    assert fcn(x).shape == (4, 8)
    lengths = torch.tensor([20, 7, 12, 1])
    out = fcn(x, lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(out[b], fcn(x[b:b + 1, :n])[0], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="kernel"):
        FCNBranch(3, filters=(8, 16), kernels=(3,))


@pytest.mark.parametrize("n_classes, shape", [(2, (5,)), (4, (5, 4))])
def test_logits_shape_as_the_classifier_net(n_classes, shape):
    net = LSTMFCNNet(n_classes, n_features=2, steps=16, hidden_size=4)
    logits, weights = net.forward_with_weights(torch.randn(5, 16, 2))
    assert logits.shape == shape and weights is None
    assert net.lstm.input_size == 16 and net.head.in_features == 4 + 128     # 8 LSTM cells + the FCN's 128


def test_padded_batch_answers_as_each_sequence_alone_and_any_length_is_read():
    torch.manual_seed(1)
    net = LSTMFCNNet(3, n_features=2, steps=10, hidden_size=4, filters=(8, 16, 8)).eval()
    seqs = [torch.randn(n, 2) for n in (10, 4, 13, 1)]      # 13 > steps: the LSTM reads its first 10 values
    x = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    lengths = torch.tensor([len(s) for s in seqs])
    batch = net(x, lengths)
    alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(batch, alone, atol=1e-5, rtol=1e-5)
    # The LSTM branch sees a series padded with zeros to `steps`: zeros after a length change nothing.
    short = seqs[1][None]
    torch.testing.assert_close(net(short), net(torch.cat([short, torch.zeros(1, 6, 2)], 1), torch.tensor([4])))


def test_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_classes"):
        LSTMFCNNet(1, n_features=1, steps=5)
    with pytest.raises(ValueError, match="steps"):
        LSTMFCNNet(2, n_features=1, steps=0)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_ensemble_answers_with_the_members_mean_probability(n_classes):
    torch.manual_seed(2)
    ens = LSTMFCNEnsemble(n_classes, members=3, n_features=2, steps=10, hidden_size=4, filters=(8, 16, 8)).eval()
    x, lengths = torch.randn(5, 10, 2), torch.tensor([10, 3, 7, 10, 1])
    member = [net(x, lengths) for net in ens.nets]
    assert not torch.allclose(member[0], member[1])                 # each member starts from its own weights
    if n_classes == 2:
        want = torch.logit(torch.stack([torch.sigmoid(m) for m in member]).mean(0).double()).float()
    else:
        want = torch.stack([torch.softmax(m, -1) for m in member]).mean(0).log()
    got = ens(x, lengths)
    assert got.shape == member[0].shape
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    if n_classes > 2:
        torch.testing.assert_close(torch.softmax(got, -1).sum(-1), torch.ones(5))
    with pytest.raises(ValueError, match="members"):
        LSTMFCNEnsemble(2, members=1, n_features=1, steps=5)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_training_mode_gives_each_member_its_own_loss(n_classes):
    """In training mode the loss is the members' mean loss, so each member's gradient is the one it
    would get trained alone (an ensemble, not one net trained on averaged outputs)."""
    torch.manual_seed(3)
    ens = LSTMFCNEnsemble(n_classes, members=2, n_features=1, steps=8, hidden_size=4, filters=(4, 8, 4),
                          dropout=0.0).train()
    x, y = torch.randn(6, 8, 1), torch.randint(0, n_classes, (6,))
    base = ClassificationLoss(n_classes)
    loss = MemberLoss(base, 2)
    out = ens(x)
    assert out.shape[0] == 12
    loss(out, y).backward()
    together = [p.grad.clone() for p in ens.nets[0].parameters()]
    ens.zero_grad()
    (base(ens.nets[0](x), y) / 2).backward()
    for g, alone in zip(together, (p.grad for p in ens.nets[0].parameters())):
        torch.testing.assert_close(g, alone, atol=1e-6, rtol=1e-5)
    ens.eval()
    with torch.no_grad():                                           # eval mode: one row per target
        assert loss(ens(x), y) == base(ens(x), y)


def test_windows_cut_each_row_within_its_own_length():
    x = torch.arange(10.0)[None, :, None].repeat(3, 1, 1)                  # values = step index
    lengths, size = torch.tensor([10, 6, 3]), torch.tensor([8, 4, 3])
    first, last = windows(x, lengths, size, 0.0), windows(x, lengths, size, 1.0)
    for b, (n, w) in enumerate(zip(lengths.tolist(), size.tolist())):
        assert first[b, :w, 0].tolist() == list(range(w))                   # starts at the series' start
        assert last[b, :w, 0].tolist() == list(range(n - w, n))             # ends at its last valid step
        assert first[b, :, 0].max() <= n - 1 and last[b, :, 0].max() <= n - 1    # never reads the padding
    mid = windows(x, lengths, size, torch.tensor([0.5, 0.5, 0.5]))
    assert mid[0, 0, 0] == 1 and mid[1, 0, 0] == 1                           # room 2 -> start 1


@pytest.mark.parametrize("n_classes", [2, 4])
def test_crop_answers_with_the_mean_probability_over_evenly_spaced_windows(n_classes):
    torch.manual_seed(4)
    net = LSTMFCNNet(n_classes, n_features=2, steps=20, hidden_size=4, filters=(8, 16, 8), crop=0.8, crops=3).eval()
    assert net.lstm.input_size == 16                                           # the LSTM reads one window
    x = torch.randn(2, 20, 2)
    got = net(x)
    answers = torch.stack([net._logits(x[:, s:s + 16], torch.tensor([16, 16])) for s in (0, 2, 4)])
    if n_classes == 2:
        want = torch.logit(torch.sigmoid(answers).mean(0))
    else:
        want = torch.log(torch.softmax(answers, -1).mean(0))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_crop_padded_batch_answers_as_each_alone_and_training_draws_windows():
    torch.manual_seed(5)
    net = LSTMFCNNet(3, n_features=2, steps=12, hidden_size=4, filters=(8, 16, 8), crop=0.75, crops=4).eval()
    seqs = [torch.randn(n, 2) for n in (12, 5, 9, 1)]
    x = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    batch = net(x, torch.tensor([len(s) for s in seqs]))
    alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(batch, alone, atol=1e-5, rtol=1e-5)
    net.train()
    net.lstm_dropout.p = 0.0
    for m in net.fcn.norms:
        m.eval()                                  # batch statistics aside, only the window differs between calls
    torch.manual_seed(0)
    a = net(x[:1])
    torch.manual_seed(0)
    torch.testing.assert_close(net(x[:1]), a)                     # a function of torch's generator
    draws = torch.stack([net(x[:1]) for _ in range(8)])
    assert not torch.allclose(draws[0], draws[1:].mean(0))        # a new window per call


def test_crop_rejects_bad_values():
    with pytest.raises(ValueError, match="crop"):
        LSTMFCNNet(2, n_features=1, steps=5, crop=0.0)
    with pytest.raises(ValueError, match="crops"):
        LSTMFCNNet(2, n_features=1, steps=5, crop=0.9, crops=0)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_mean_probability_logits_are_float32_from_bf16_logits(n_classes):
    """Under bf16 autocast the members' logits are bf16: their mean probability, which the validation
    loss reads, was computed and answered 3 digits wide."""
    from lstmkit.nn.fcn import mean_probability_logits
    torch.manual_seed(0)
    logits = (torch.randn(5, 8) if n_classes == 2 else torch.randn(5, 8, n_classes)) * 4
    rounded = logits.bfloat16()
    got = mean_probability_logits(rounded, n_classes)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, mean_probability_logits(rounded.float(), n_classes), atol=1e-6, rtol=0)


def test_fcn_branch_answers_its_last_blocks_filters():
    # the summary is the global average of the last block's channels: filters[-1] wide, whatever the first
    torch.manual_seed(0)
    fcn = FCNBranch(3, filters=(8, 16, 4), kernels=(3, 3, 3))
    assert fcn.output_size == 4 and fcn(torch.randn(2, 5, 3)).shape == (2, 4)
    net = LSTMFCNNet(3, n_features=3, steps=5, hidden_size=4, filters=(8, 16, 4), kernels=(3, 3, 3))
    assert net(torch.randn(2, 5, 3)).shape == (2, 3)


def test_crop_width_rounds_half_up_and_one_window_sits_midway():
    # the LSTM branch's width is round(crop·steps), halves up: 2.5 -> 3, 1.5 -> 2
    assert LSTMFCNNet(2, n_features=1, steps=5, crop=0.5).width == 3
    assert LSTMFCNNet(2, n_features=1, steps=10, crop=0.25).width == 3
    assert LSTMFCNNet(2, n_features=1, steps=2, crop=0.75).width == 2
    # crops=1 answers with the middle window: 4 steps of 8, room 4 -> start 2
    torch.manual_seed(3)
    net = LSTMFCNNet(2, n_features=2, steps=8, hidden_size=4, filters=(8, 16, 8), crop=0.5, crops=1).eval()
    x = torch.randn(2, 8, 2)
    torch.testing.assert_close(net(x), net._logits(x[:, 2:6], torch.tensor([4, 4])), atol=1e-5, rtol=1e-5)


def test_the_default_net_is_the_papers_lstm_fcn():
    # the series classifier passes no filters or kernels: LSTM-FCN (Karim et al. 2017) over the FCN of
    # Wang et al. 2017, Conv1d 128-256-128 with kernels 8-5-3, "same" padding (Keras': the extra step of
    # the even kernel on the right), 8 LSTM cells, dropout 0.8 after the LSTM
    for fcn in (FCNBranch(2), LSTMFCNNet(3, n_features=2, steps=12).fcn):
        assert [(c.in_channels, c.out_channels, c.kernel_size[0]) for c in fcn.convs] == [
            (2, 128, 8), (128, 256, 5), (256, 128, 3)]
        assert fcn.pads == ((3, 4), (2, 2), (1, 1))
        assert [n.num_features for n in fcn.norms] == [128, 256, 128] and fcn.output_size == 128
    net = LSTMFCNNet(3, n_features=2, steps=12)
    assert (net.lstm.input_size, net.lstm.hidden_size, net.lstm_dropout.p) == (12, 8, 0.8)


def test_the_lstm_branch_answers_with_its_last_state_after_reading_every_feature():
    # the "dimension shuffle": F steps of `steps` values; the summary beside the FCN's is h after the last
    torch.manual_seed(6)
    net = LSTMFCNNet(3, n_features=4, steps=6, hidden_size=5, filters=(8, 16, 8)).eval()
    x = torch.randn(2, 6, 4)
    seen = []
    net.head.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    net(x)
    _, (h, _) = net.lstm(x.transpose(1, 2))                                  # [layers, B, H]
    torch.testing.assert_close(seen[0][:, :5], h[-1])


def test_a_series_of_one_step_is_a_net_of_width_one():
    net = LSTMFCNNet(2, n_features=3, steps=1, hidden_size=4, filters=(8, 16, 8)).eval()
    assert net.lstm.input_size == 1 and net(torch.randn(5, 1, 3)).shape == (5,)


def test_each_rows_window_is_its_length_times_crop_rounded_half_up():
    # crop 0.5 of a row of 5 steps: 2.5 -> a window of 3; crops=1 sits midway: room 2 -> start 1
    torch.manual_seed(7)
    net = LSTMFCNNet(2, n_features=2, steps=10, hidden_size=4, filters=(8, 16, 8), crop=0.5, crops=1).eval()
    x = torch.randn(1, 10, 2)                  # two classes: one window's mean probability is its own logit
    torch.testing.assert_close(net(x, torch.tensor([5])), net._logits(x[:, 1:4], torch.tensor([3])),
                               atol=1e-6, rtol=1e-6)
