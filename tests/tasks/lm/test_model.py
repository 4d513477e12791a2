import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.model import LanguageModelNet, token_loss


def test_never_predicted_ids_get_no_probability():
    net = LanguageModelNet(12, 8, 16, 1, never=(0, 10)).eval()
    logp = torch.log_softmax(net(torch.tensor([[10, 3, 4]])), dim=-1)     # [1, 3, 12]
    assert torch.isinf(logp[..., [0, 10]]).all() and torch.isfinite(logp[..., 1:10]).all()
    assert torch.allclose(logp.exp().sum(-1), torch.ones(1, 3))


def test_causal_outputs_do_not_read_the_future():
    net = LanguageModelNet(12, 8, 16, 2, model="lstm").eval()
    a, b = torch.tensor([[10, 3, 4, 5]]), torch.tensor([[10, 3, 4, 9]])
    assert torch.equal(net(a)[:, :3], net(b)[:, :3]) and not torch.equal(net(a)[:, 3], net(b)[:, 3])


def test_bidirectional_encoder_is_refused():
    with pytest.raises(LstmkitError, match="not causal"):
        LanguageModelNet(12, 8, 16, 1, model="bilstm")


def test_lstm_fcn_is_refused_for_its_batch_statistics(tmp_path):
    """An LM of lstm-fcn trained on outputs that read later tokens: BatchNorm's statistics in training
    span every token of the batch (its config lists the causal encoders without it). Its fit is refused;
    a run trained before still loads (in eval mode its outputs read no later token)."""
    from lstmkit.tasks.lm.estimator import LanguageModel
    with pytest.raises(LstmkitError, match=r"model 'lstm-fcn' reads the future \(its BatchNorm layers normalise"):
        LanguageModel(model="lstm-fcn", progress="off").fit(["a b c", "d e f"], out=tmp_path)
    assert not any(tmp_path.iterdir())
    net = LanguageModelNet(12, 8, 16, 1, model="lstm-fcn").eval()
    x = torch.randint(1, 12, (3, 9), generator=torch.Generator().manual_seed(0))
    changed = x.clone()
    changed[:, 5:] = torch.randint(1, 12, (3, 4), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(net(changed)[:, :5], net(x)[:, :5], atol=0, rtol=0)


def test_tied_weights_share_one_matrix_with_projection():
    net = LanguageModelNet(12, 8, 16, 1, tie_weights=True).eval()
    assert net.out is None and net.proj is not None and "out.weight" not in net.state_dict()
    assert LanguageModelNet(12, 16, 16, 1, tie_weights=True).proj is None
    x = torch.tensor([[10, 3]])
    before = net(x)
    with torch.no_grad():
        net.embedding.weight[5] += 1.0           # token 5 is not in the input: only its output row moved
    after = net(x)
    assert torch.equal(before[..., :5], after[..., :5]) and not torch.equal(before[..., 5], after[..., 5])


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_step_equals_forward(model):
    net = LanguageModelNet(12, 8, 16, 2, model=model).eval()
    x = torch.tensor([[10, 3, 4, 5, 6]])
    full = net(x)
    state = None
    for t in range(x.shape[1]):
        out, state = net.step(x[:, t], state)
        assert torch.allclose(net.head(out), full[:, t], atol=1e-6)


def test_token_loss_ignores_padding():
    logits = torch.randn(2, 3, 5)
    target = torch.tensor([[1, 2, 0], [3, 0, 0]])
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 5), target.reshape(-1), ignore_index=0)
    assert torch.allclose(token_loss(0)(logits, target), expected)
