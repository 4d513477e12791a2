import math

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


def test_defaults_never_predict_padding_and_keep_its_embedding_zero():
    """``never=(0,)`` and ``pad_id=0`` by default: id 0 (``<pad>``) has no probability and no embedding."""
    net = LanguageModelNet(6, 4, 8, 1).eval()
    logp = torch.log_softmax(net(torch.tensor([[0, 3, 4]])), dim=-1)
    assert torch.isinf(logp[..., 0]).all() and torch.isfinite(logp[..., 1:]).all()
    assert not net.embedding.weight[0].any() and net.embedding.weight[1:].abs().sum(-1).gt(0).all()


def test_the_never_mask_is_no_weight_of_the_checkpoint():
    """The mask follows from the vocabulary, so the state dict holds the learnt tensors alone (a fine-tuned
    model's vocabulary-sized tensors are moved by token, and older runs' weights load)."""
    net = LanguageModelNet(6, 4, 8, 1)
    assert "never_mask" not in net.state_dict()
    LanguageModelNet(6, 4, 8, 1).load_state_dict(net.state_dict())


def test_a_training_step_drops_out_between_layers_as_the_sequence_does():
    """In training mode ``step`` runs the encoder as the sequence does, dropout between its layers
    included; the single-cell path (eval mode) has none, so it must not be taken while training."""
    net = LanguageModelNet(12, 8, 16, 2, dropout=0.5).train()
    tok = torch.tensor([3, 5])
    torch.manual_seed(0)
    out, _ = net.step(tok)
    torch.manual_seed(0)
    want, _ = net.encoder(net.drop(net.embedding(tok))[:, None])
    torch.testing.assert_close(out, want[:, 0], atol=0, rtol=0)
    net.eval()
    torch.testing.assert_close(net.step(tok)[0], net.encoder(net.embedding(tok)[:, None])[0][:, 0])


def test_token_loss_leaves_out_padding_targets_by_hand():
    """Logits log(1/2, 1/4, 1/4) for every step: targets 1, 2 and two pads (id 0 by default) give
    (ln 4 + ln 4) / 2, the pads neither counted nor weighed; the batch weighs 2 tokens."""
    logits = torch.log(torch.tensor([0.5, 0.25, 0.25])).expand(1, 4, 3)
    target = torch.tensor([[1, 2, 0, 0]])
    loss = token_loss()
    assert loss(logits, target).item() == pytest.approx(math.log(4), rel=1e-6)
    assert loss.batch_weight(target) == 2
    assert token_loss(pad_id=2)(logits, target).item() == pytest.approx((math.log(4) + 2 * math.log(2)) / 3, rel=1e-6)
