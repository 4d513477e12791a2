"""The encoder-decoder: shapes, masking of padding, every attention, tied embeddings."""
import pytest
import torch

from lstmkit.tasks.translate.model import ATTENTIONS, AdditiveAttention, LuongAttention, Seq2Seq, sequence_loss


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
