"""LSTM-FCN (nn/fcn.py): shapes, lengths (a padded batch answers as each sequence alone), and
inputs longer or shorter than the LSTM branch's fixed width."""
import pytest
import torch

from lstmkit.nn.fcn import FCNBranch, LSTMFCNNet


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
