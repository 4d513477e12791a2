import pytest
import torch
import torch.nn.functional as F

from lstmkit.data.batching import pad_batch
from lstmkit.nn.classifier import POOLINGS, AttentionPooling, ClassificationLoss, ClassifierNet, weighted_targets


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("encoder", ["bilstm", "lstm"])
def test_padded_batch_gives_the_logits_of_each_sequence_alone(pooling, encoder):
    torch.manual_seed(0)
    net = ClassifierNet(3, vocab_size=30, embed_dim=8, encoder=encoder, hidden_size=6, num_layers=2,
                        dropout=0.2, pooling=pooling).eval()
    seqs = [torch.randint(2, 30, (n,)) for n in (7, 2, 5, 1)]
    x, lengths = pad_batch(seqs)
    batched = net(x, lengths)                                           # [4, 3]
    alone = torch.cat([net(s[None], torch.tensor([len(s)])) for s in seqs])
    torch.testing.assert_close(batched, alone, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_numeric_front_end_padding_invariant(pooling):
    torch.manual_seed(1)
    net = ClassifierNet(2, n_features=3, embed_dim=8, hidden_size=5, pooling=pooling).eval()
    seqs = [torch.randn(n, 3) for n in (4, 9, 1)]
    x, lengths = pad_batch(seqs, pad_value=123.0)                       # junk padding must not matter
    logits = net(x, lengths)
    assert logits.shape == (3,)                                         # binary: one logit each
    alone = torch.cat([net(s[None]) for s in seqs])
    torch.testing.assert_close(logits, alone, rtol=1e-5, atol=1e-6)


def test_attention_weights_are_a_distribution_over_valid_positions():
    torch.manual_seed(0)
    pool = AttentionPooling(4)
    h = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    s, w = pool(h, mask)
    assert s.shape == (2, 4)
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    assert (w[1, 2:] == 0).all()
    torch.testing.assert_close(s[1], (w[1, :2, None] * h[1, :2]).sum(0))


def test_forward_with_weights_only_for_attention():
    net = ClassifierNet(2, vocab_size=10, embed_dim=4, hidden_size=4, pooling="attention").eval()
    logits, w = net.forward_with_weights(torch.tensor([[2, 3, 4]]))
    assert w.shape == (1, 3)
    assert ClassifierNet(2, vocab_size=10, embed_dim=4, hidden_size=4).forward_with_weights(torch.tensor([[2]]))[1] is None


def test_loss_binary_is_bce_and_multiclass_is_ce():
    logits = torch.tensor([0.3, -1.2, 2.0])
    y = torch.tensor([1, 0, 0])
    torch.testing.assert_close(ClassificationLoss(2)(logits, y), F.binary_cross_entropy_with_logits(logits, y.float()))
    w = torch.tensor([1.0, 3.0])
    per = F.binary_cross_entropy_with_logits(logits, y.float(), reduction="none")
    expected = (per * torch.tensor([3.0, 1.0, 1.0])).sum() / 5.0
    torch.testing.assert_close(ClassificationLoss(2, w)(logits, y), expected)
    multi = torch.randn(4, 3)
    ym = torch.tensor([0, 2, 1, 2])
    torch.testing.assert_close(ClassificationLoss(3)(multi, ym), F.cross_entropy(multi, ym))
    wm = torch.tensor([1.0, 2.0, 0.5])
    torch.testing.assert_close(ClassificationLoss(3, wm)(multi, ym), F.cross_entropy(multi, ym, weight=wm))


def test_example_weights_make_the_loss_their_weighted_mean_times_the_class_weights():
    """fit's sample_weight: sum(w_i * loss_i) / sum(w_i), as scikit-learn weighs examples; with class
    weights too, each example weighs its own weight times its class's."""
    logits, y = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([1, 0, 0])
    per = F.binary_cross_entropy_with_logits(logits, y.float(), reduction="none")
    sw = torch.tensor([2.0, 0.0, 1.0])
    torch.testing.assert_close(ClassificationLoss(2)(logits, weighted_targets(y, sw)), (per * sw).sum() / 3.0)
    both = sw * torch.tensor([3.0, 1.0, 1.0])                                   # class 1 weighs 3
    torch.testing.assert_close(ClassificationLoss(2, torch.tensor([1.0, 3.0]))(logits, weighted_targets(y, sw)),
                               (per * both).sum() / both.sum())
    multi, ym = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
    sm = torch.tensor([1.0, 4.0, 0.5, 0.0])
    torch.testing.assert_close(ClassificationLoss(3)(multi, weighted_targets(ym, sm)),
                               (F.cross_entropy(multi, ym, reduction="none") * sm).sum() / sm.sum())
    ones = weighted_targets(ym, torch.full((4,), 7.0))                          # equal weights: the plain mean
    torch.testing.assert_close(ClassificationLoss(3)(multi, ones), F.cross_entropy(multi, ym))
    nothing = ClassificationLoss(3)(multi, weighted_targets(ym, torch.zeros(4)))   # a batch of weight 0: adds 0
    assert nothing.item() == 0.0


def test_a_batch_weighs_its_examples_weights_in_a_mean_over_batches():
    """The trainer's validation loss weighs each batch's mean by ``batch_weight``: the examples' total
    weight (times their classes'), so the mean over batches is the weighted mean over every example;
    class indices alone weigh their number of rows, as before."""
    from lstmkit.config import TrainConfig
    from lstmkit.nn.fcn import MemberLoss
    from lstmkit.train.trainer import Trainer
    torch.manual_seed(0)
    logits, y = torch.randn(7), torch.tensor([1, 0, 0, 1, 1, 0, 1])
    sw = torch.tensor([2.0, 0.0, 1.0, 5.0, 0.5, 3.0, 1.0])
    cw = torch.tensor([1.0, 3.0])
    for loss in (ClassificationLoss(2), ClassificationLoss(2, cw), MemberLoss(ClassificationLoss(2, cw), 3)):
        whole = loss(logits, weighted_targets(y, sw))
        halves = [(logits[:3], weighted_targets(y[:3], sw[:3])), (logits[3:], weighted_targets(y[3:], sw[3:]))]

        trainer = Trainer(TrainConfig(device="cpu", progress="off"), loss_fn=loss)
        assert trainer._evaluate(torch.nn.Identity(), halves) == pytest.approx(whole.item(), rel=1e-6)
    assert ClassificationLoss(2, cw).batch_weight(weighted_targets(y, sw)) == pytest.approx(float((sw * cw[y]).sum()))
    assert ClassificationLoss(2).batch_weight(y) == 7.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_class_weights_alone_give_one_validation_loss_whatever_the_batches(n_classes):
    """Class indices under ``class_weights`` (``class_weight='balanced'`` without sample weights): each
    batch's loss is a class-weighted mean, so its weight in the mean over batches is its rows' class
    weights' total; weighed by its rows, the validation loss of the same rows moved with the batches
    they fell in (1.4867 whole, 1.5407 in batches of 6 and 4)."""
    from lstmkit.config import TrainConfig
    from lstmkit.nn.fcn import MemberLoss
    from lstmkit.train.trainer import Trainer
    torch.manual_seed(0)
    logits = torch.randn(10, n_classes) if n_classes > 2 else torch.randn(10)
    y = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1, 0, 1])
    cw = torch.tensor([0.5, 3.0, 1.0][:n_classes])
    for loss in (ClassificationLoss(n_classes, cw), MemberLoss(ClassificationLoss(n_classes, cw), 3)):
        whole = loss(logits, y).item()
        trainer = Trainer(TrainConfig(device="cpu", progress="off"), loss_fn=loss)
        for cut in (1, 4, 6, 9):
            parts = [(logits[:cut], y[:cut]), (logits[cut:], y[cut:])]
            assert trainer._evaluate(torch.nn.Identity(), parts) == pytest.approx(whole, rel=1e-6)
        ones = [(logits[k:k + 1], y[k:k + 1]) for k in range(10)]      # batch size 1
        assert trainer._evaluate(torch.nn.Identity(), ones) == pytest.approx(whole, rel=1e-6)


def test_max_mean_pooling_is_max_and_mean_side_by_side():
    torch.manual_seed(0)
    both = ClassifierNet(3, vocab_size=20, embed_dim=6, hidden_size=5, pooling="max-mean").eval()
    assert both.head.in_features == 2 * both.encoder.output_size
    x = torch.randint(1, 20, (4, 9))
    lengths = torch.tensor([9, 5, 2, 7])
    out, _ = both.encoder(both.embedding(x), lengths=lengths)
    summary, _ = both._pool(out, lengths)
    d = both.encoder.output_size
    for b, n in enumerate(lengths.tolist()):            # padding never enters either half
        torch.testing.assert_close(summary[b, :d], out[b, :n].amax(dim=0))
        torch.testing.assert_close(summary[b, d:], out[b, :n].mean(dim=0))


def test_attention_pooling_weights_are_float32_under_cpu_bf16_autocast():
    """CPU autocast leaves softmax in bf16 (CUDA's runs it in float32): the weights were 3 digits wide."""
    torch.manual_seed(0)
    pool, h = AttentionPooling(8), torch.randn(3, 50, 8)
    mask = torch.arange(50) < torch.tensor([50, 20, 3])[:, None]
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        _, weights = pool(h, mask)
    assert weights.dtype == torch.float32
    torch.testing.assert_close(weights.sum(1), torch.ones(3), atol=1e-6, rtol=0)
    assert bool((weights[~mask] == 0).all())


def test_attention_pooling_of_a_float64_model_stays_float64():
    """The float32 softmax that bf16 autocast needs made a float64 model's weights float32, and the
    pooling's matrix product with its float64 states failed (expected scalar type Float but found Double)."""
    torch.manual_seed(0)
    pool, h = AttentionPooling(8).double(), torch.randn(2, 5, 8, dtype=torch.float64)
    mask = torch.arange(5) < torch.tensor([5, 2])[:, None]
    with torch.no_grad():
        pooled, weights = pool(h, mask)
    assert pooled.dtype == weights.dtype == torch.float64
    torch.testing.assert_close(pooled, (weights[..., None] * h).sum(1))


@pytest.mark.parametrize("encoder", ["lstm-attention", "cnn-lstm", "transformer"])
def test_the_encoder_of_a_whole_sequence_label_reads_later_steps_too(encoder):
    # one label for the whole sequence: the classifier builds its encoder non-causal, so attention and
    # the convolution read later steps at every step (a causal one would waste them on early positions)
    torch.manual_seed(0)
    net = ClassifierNet(3, n_features=2, embed_dim=8, encoder=encoder, hidden_size=8, dropout=0.0).eval()
    assert not net.encoder.causal
    x = torch.randn(2, 6, 2)
    later = x.clone()
    later[:, 4:] += 1.0
    with torch.no_grad():
        moved = net.encoder(net.embedding(later))[0][:, :4] - net.encoder(net.embedding(x))[0][:, :4]
    assert moved.abs().max() > 1e-6
