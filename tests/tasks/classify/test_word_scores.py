"""word_scores: naive-Bayes log-count ratios summed over a text's words, added to the logits with a
learned weight (a bag-of-words model beside the LSTM): the table, the net's use of it, the fit."""
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import LstmkitError
from lstmkit.nn.classifier import PAIR_PRIME, ClassifierNet, pair_rows
from lstmkit.tasks.classify.config import ClassifyConfig
from lstmkit.tasks.classify.labels import stratified_split
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
from lstmkit.data.batching import Ragged
from lstmkit.data.vocab import UNK_ID
from lstmkit.tasks.classify import wordscores
from lstmkit.tasks.classify.wordscores import MIX_WEIGHTS, fit_bias, fit_biases, texts_holding, word_scores

QUIET = dict(progress="off", tensorboard=False, doctor=False, batch_size=16)


def test_the_table_is_binarised_smoothed_log_count_ratios():
    ids = [torch.tensor([2, 2, 3]), torch.tensor([2]), torch.tensor([4])]       # class 1, class 1, class 0
    t = word_scores(ids, [1, 1, 0], 2, 5)
    # class 1: word 2 in 2 texts, word 3 in 1 (total 3); class 0: word 4 in 1 (total 1); each class smoothed by
    # its total over the mean (1.5, 0.5) -> class 1 (1.5, 1.5, 3.5, 2.5, 1.5) / 10.5, class 0 (.5, .5, .5, .5, 1.5) / 3.5
    assert t.shape == (5, 1) and t[0, 0] == 0                                   # <pad> scores nothing
    assert t[2, 0].item() == pytest.approx(math.log(3.5 / 10.5) - math.log(0.5 / 3.5))
    assert t[4, 0].item() == pytest.approx(math.log(1.5 / 10.5) - math.log(1.5 / 3.5))
    assert t[1, 0].item() == pytest.approx(0, abs=1e-6)                        # a word no text holds: no lean
    three = word_scores(ids, [2, 1, 0], 3, 5)
    assert three.shape == (5, 3) and torch.allclose(three[1:].sum(1), torch.zeros(4), atol=1e-6)   # centred


def test_a_small_class_gets_no_lean_from_the_smoothing():
    """9 texts of class 1 to 1 of class 0, with 2^10 pair rows: under an even add-1 smoothing every
    word no text holds scored log(p(unseen|1) / p(unseen|0)) = -1.6 (summed over a text, a lean that
    grows with its length); now 0, and a word of class 0's text still leans to class 0."""
    ids = [torch.tensor([2, 3, 4])] * 9 + [torch.tensor([5, 6])]
    t = word_scores(ids, [1] * 9 + [0], 2, 8, pairs=1024)
    unseen = [7] + list(range(8, 8 + 1024))
    seen = {int(r) for s in ids for r in torch.cat([s, pair_rows(s, 8, 1024)])}
    assert max(abs(t[r, 0].item()) for r in unseen if r not in seen) < 1e-6
    assert t[5, 0] < -1 and t[2, 0] > 1


def test_word_pairs_hash_into_rows_after_the_vocabulary_and_padding_scores_nothing():
    x = torch.tensor([[3, 4, 5, 0]])
    rows = pair_rows(x, 10, 7)
    assert rows.tolist() == [[10 + (3 * PAIR_PRIME + 4) % 7, 10 + (4 * PAIR_PRIME + 5) % 7, 0]]
    t = word_scores([torch.tensor([3, 4])], [1], 2, 10, pairs=7)
    assert t.shape == (17, 1) and t[rows[0, 0], 0] > t[rows[0, 1], 0]         # the pair (3, 4) was seen in class 1
    net = ClassifierNet(2, vocab_size=10, embed_dim=4, hidden_size=4, word_scores=True, score_pairs=7).eval()
    net.word_scores.copy_(torch.arange(17.0)[:, None])
    assert net.word_score_sum(x).item() == 3 + 4 + 5 + rows[0, 0].item() + rows[0, 1].item()
    keep = torch.tensor([[[True], [False], [True], [True]]])                  # word 4 dropped: both its pairs too
    assert net.word_score_sum(x, keep).item() == 3 + 5


def hand_count(ids, y, n_classes, vocab_size, pairs):
    """``[C, V + pairs]``: a text at a time, the set of its words and of its neighbour pairs' rows."""
    counts = torch.zeros(n_classes, vocab_size + pairs, dtype=torch.long)
    for seq, label in zip(ids, y):
        s = seq.tolist()
        held = set(s) | {0 if 0 in (a, b) else vocab_size + (a * PAIR_PRIME + b) % pairs
                         for a, b in zip(s, s[1:]) if pairs}
        for row in held:
            counts[label, row] += 1
    return counts


@pytest.mark.parametrize("n_classes, pairs, block", [(2, 0, 1 << 20), (3, 13, 7), (4, 50, 1)])
def test_the_counts_are_the_texts_of_each_class_holding_each_word_and_pair(n_classes, pairs, block):
    """Counted in blocks of texts (``block`` ids: one block, several, one text each) with one sort:
    equal to a count a text at a time, with repeated words and pairs, empty texts, unknown words
    (1) and padding (0) in them."""
    rng = np.random.default_rng(n_classes)
    lengths = rng.integers(0, 9, 60)
    lengths[[0, 7, 59]] = 0
    values = torch.from_numpy(rng.integers(0, 6, int(lengths.sum())))              # V = 6: many repeats
    ids = Ragged(values, torch.from_numpy(lengths))
    y = rng.integers(0, n_classes, 60).tolist()
    expected = hand_count(list(ids), y, n_classes, 6, pairs)
    assert (values == UNK_ID).any() and (values == 0).any() and expected.max() > 1
    assert (expected[:, 6:].sum() > 0) == bool(pairs)
    assert torch.equal(texts_holding(ids, y, n_classes, 6, pairs, block=block), expected)
    assert torch.equal(texts_holding(list(ids), y, n_classes, 6, pairs, block=block), expected)     # a list of texts
    assert torch.equal(word_scores(ids, y, n_classes, 6, pairs), word_scores(list(ids), y, n_classes, 6, pairs))
    assert texts_holding([], [], 2, 6, pairs).sum() == 0 and texts_holding([torch.zeros(0, dtype=torch.long)], [1],
                                                                           2, 6, pairs).sum() == 0


def test_a_fit_predicts_as_with_a_count_a_text_at_a_time(texts, monkeypatch):
    """The table, and so the mix fitted on it and every prediction, is the one a count a text at
    a time gives (the loop it replaced: 21 s on 200,000 texts against 3 s)."""
    x, y = texts(90, seed=3, classes=("neg", "pos", "meh"))
    settings = dict(word_scores=True, max_epochs=1, min_freq=2, score_pairs=64, **QUIET)
    fast = TextClassifier(**settings).fit(x, y)
    monkeypatch.setattr(wordscores, "texts_holding", lambda ids, *a: hand_count(list(ids), *a))
    slow = TextClassifier(**settings).fit(x, y)
    assert torch.equal(fast.net_.word_scores, slow.net_.word_scores) and fast.net_.word_scores.abs().sum() > 0
    assert fast.data_summary_["word_score_mix"] == slow.data_summary_["word_score_mix"]
    assert (fast.predict_proba(x) == slow.predict_proba(x)).all()


def test_the_net_adds_the_weighted_sum_of_its_words_scores():
    torch.manual_seed(0)
    net = ClassifierNet(2, vocab_size=10, embed_dim=4, hidden_size=4, dropout=0.0, word_scores=True).eval()
    plain = ClassifierNet(2, vocab_size=10, embed_dim=4, hidden_size=4, dropout=0.0).eval()
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if k not in ("word_scores", "mix")})
    net.word_scores.copy_(torch.arange(10.0)[:, None])
    net.mix.copy_(torch.tensor([2.0, 0.5]))
    x = torch.tensor([[3, 4, 0], [5, 0, 0]])
    lengths = torch.tensor([2, 1])
    assert torch.allclose(net(x, lengths) - 2 * plain(x, lengths), torch.tensor([3.5, 2.5]))
    net.word_dropout = 0.5
    torch.manual_seed(1)
    scores = [net.train()(torch.tensor([[9] * 20]))[0].item() for _ in range(2)]
    assert scores[0] != scores[1]                                     # dropped words score nothing in training


def test_fit_fills_the_table_from_the_training_part_and_it_survives_saving(texts, tmp_path):
    x, y = texts(60, seed=5)
    clf = TextClassifier(word_scores=True, max_epochs=1, min_freq=1, val_frac=0, **QUIET).fit(x, y, out=tmp_path)
    ids = [torch.tensor(clf.tokenizer_.encode(t)) for t in x]
    expected = word_scores(ids, [list(clf.classes_).index(v) for v in y], 2, clf.tokenizer_.vocab_size,
                           clf.config_.score_pairs)
    assert expected.shape == (clf.tokenizer_.vocab_size + 262144, 1)
    assert torch.equal(clf.net_.word_scores, expected) and expected.abs().sum() > 0
    assert clf.data_summary_["word_score_mix"] == [1.0, 0.0] and "nothing held out" in clf.data_summary_[
        "word_score_note"] and clf.net_.mix.tolist() == [1.0, 0.0]  # val_frac=0: no honest part to fit the mix on
    again = TextClassifier.load(clf.run_dir_)
    assert again.config_.word_scores and torch.equal(again.net_.word_scores, clf.net_.word_scores)
    assert (again.predict_proba(x[:5]) == clf.predict_proba(x[:5])).all()
    clf.net_.mix.copy_(torch.tensor([0.5, 1.0]))       # the exported graph has the word scores in it
    clf.save(clf.run_dir_)
    clf.export("onnx")
    report = json.loads((clf.run_dir_ / "onnx.json").read_text())
    assert report["max_abs_diff"] < report["tolerance"]


def test_the_table_reaches_a_network_rebuilt_at_the_vectors_width(texts, tmp_path):
    """A vectors file of another width than ``embed_dim`` (GloVe's 100 against the default) rebuilds
    the network at its width: the table had been copied into the first network, and the model
    trained and answered with an all-zero table, without a word. The table is not kept beside the
    network afterwards (``word_scores_``: up to LARGE_TABLE, twice in memory and in a pickle)."""
    x, y = texts(60, seed=5)
    words = sorted({w for t in x for w in t.split()})
    rng = np.random.default_rng(0)
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("".join(f"{w} {' '.join(f'{v:.3f}' for v in rng.normal(size=6))}\n" for w in words))
    clf = TextClassifier(word_scores=True, vectors=str(vectors), embed_dim=8, score_pairs=0, max_epochs=1, min_freq=1,
                         val_frac=0, **QUIET).fit(x, y)
    assert clf.config_.embed_dim == 6
    ids = [torch.tensor(clf.tokenizer_.encode(t)) for t in x]
    expected = word_scores(ids, [list(clf.classes_).index(v) for v in y], 2, clf.tokenizer_.vocab_size, 0)
    assert expected.abs().sum() > 0 and torch.equal(clf.net_.word_scores, expected)
    assert not hasattr(clf, "word_scores_")
    # loaded, it answers as fitted and has the fitted model's settings: load gave get_params the file's
    # width (embed_dim=6), so the loaded model's clone differed from the fitted one's
    loaded = TextClassifier.load(clf.save(tmp_path / "run"))
    assert loaded.config_.embed_dim == 6 and loaded.get_params()["embed_dim"] == clf.get_params()["embed_dim"] == 8
    assert np.allclose(loaded.predict_proba(x), clf.predict_proba(x))


def test_the_mix_and_its_bias_are_the_ones_with_the_lowest_validation_loss(texts):
    """Each pair of weights gets its own best class bias; the pair with the lowest validation loss
    is kept, its bias folded into the head's (divided by the LSTM's weight): the net then answers
    ``a * lstm + w * scores + bias``."""
    x, y = texts(80, seed=6)
    clf = TextClassifier(word_scores=True, max_epochs=1, min_freq=1, **QUIET).fit(x, y)
    _, val = stratified_split(y, clf.config_.val_frac, clf.config_.train.seed)
    ids = [torch.tensor(clf.tokenizer_.encode(x[i]))[None] for i in val]
    truth = torch.tensor([list(clf.classes_).index(y[i]) for i in val])
    a, w = clf.data_summary_["word_score_mix"]
    bias = torch.tensor(clf.data_summary_["word_score_bias"])
    net = clf.net_.eval()
    with torch.no_grad():
        answer = torch.stack([net(t)[0] for t in ids])[:, None]
        net.head.bias -= bias / a                                   # the LSTM as it was trained
        net.mix.copy_(torch.tensor([1.0, 0.0]))
        lstm = torch.stack([net(t)[0] for t in ids])[:, None]
        scores = torch.cat([net.word_score_sum(t) for t in ids])
    assert torch.allclose(answer, a * lstm + w * scores + bias, atol=1e-4)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    losses = [float(bce((z + fit_bias(z, truth))[:, 0], truth.float()))
              for z in (p * lstm + q * scores for p, q in MIX_WEIGHTS)]
    assert (a, w) == MIX_WEIGHTS[int(np.argmin(losses))] and w > 0                # the scores are used


def test_the_bias_is_the_prior_the_loss_asks_for():
    """With nothing else to go on, the fitted bias is the class prior's log-odds; weighted by
    balanced class weights, it is an even prior."""
    y = torch.tensor([1] * 20 + [0] * 80)
    assert fit_bias(torch.zeros(100, 1), y).item() == pytest.approx(math.log(20 / 80), abs=1e-4)
    assert fit_bias(torch.zeros(100, 1), y, torch.tensor([100 / 160, 100 / 40])).item() == pytest.approx(0, abs=1e-4)
    three = fit_bias(torch.zeros(10, 3), torch.tensor([0] * 6 + [1] * 3 + [2]))
    assert torch.softmax(three, 0).tolist() == pytest.approx([0.6, 0.3, 0.1], abs=1e-4)


def test_the_bias_takes_newton_steps():
    """One step from zero is Newton's: the log loss's gradient over its curvature. Logits 0 (p = 0.5)
    on 20 positives of 100: gradient 0.5 - 0.2, curvature 0.5 * 0.5, step -(0.3 / 0.25) = -1.2."""
    y = torch.tensor([1] * 20 + [0] * 80)
    assert fit_biases(torch.zeros(1, 100, 1), y, steps=1).item() == pytest.approx(-1.2, abs=1e-6)


def _skewed(n: int, share: float, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    filler, good, bad = "the film was a and it plot very".split(), "great superb lovely".split(), "dull poor bad".split()
    labels = np.where(rng.random(n) < share, "rare", "common")
    texts = [" ".join(rng.permutation([*rng.choice(filler, 6), *rng.choice(good if lab == "rare" else bad, 2)]))
             for lab in labels]
    return texts, labels.tolist()


def test_a_rare_class_is_found_with_balanced_weights_and_named_without():
    """98/2 classes a word tells apart: the mix's fitted bias lets balanced class weights find the
    rare class (it collapsed to the common one: the mix could not move the prior); without
    weights, a class never predicted on validation is named with the remedy."""
    x, y = _skewed(1500, 0.02, seed=0)
    test_x, test_y = _skewed(2000, 0.02, seed=1)
    fast = dict(max_epochs=3, min_freq=1, **QUIET)
    clf = TextClassifier(class_weight="balanced", **fast).fit(x, y)
    m = clf.evaluate(pd.DataFrame({"text": test_x, "label": test_y}))
    assert m["per_class"]["rare"]["recall"] > 0.9 and m["macro_f1"] > 0.9, m["per_class"]
    with pytest.warns(UserWarning, match=r"class 'rare' \(2\.\d% of the rows\) was never predicted on the "
                                         r"validation part .* class_weight='balanced'"):
        TextClassifier(word_scores=False, **{**fast, "max_epochs": 1}).fit(x, y)


def test_numeric_sequences_have_no_words():
    with pytest.raises(LstmkitError, match="word_scores is a setting of TextClassifier"):
        SequenceClassifier(word_scores=True)
    with pytest.raises(LstmkitError, match="word_scores needs texts"):        # a config object made directly
        ClassifyConfig(series=True, word_scores=True)


def test_a_large_table_is_said_with_a_pair_count_that_fits():
    """262,144 pair rows x 300 classes: a 300 MB table (model.safetensors 316 MB for 900 texts), without a word."""
    from lstmkit.tasks.classify.estimator import _warn_table_size
    with pytest.warns(UserWarning, match=r"the word-score table takes 300 MB \(262,457 word and word-pair rows x "
                                         r"300 classes\), in memory and in model.safetensors; pass --score-pairs 65536 "
                                         r"\(or 0: words only\) for one within 100 MB"):
        _warn_table_size(313, 262144, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_table_size(313, 65536, 300)          # the count it names fits
        _warn_table_size(313, 262144, 2)           # two classes: one column
        _warn_table_size(313, 262144, 14)          # DBpedia's 14 classes: 14 MB


def test_fit_says_a_large_table(texts, monkeypatch):
    from lstmkit.tasks.classify import estimator
    monkeypatch.setattr(estimator, "LARGE_TABLE", 1024)
    x, y = texts(30, classes=("neg", "pos", "meh"))
    with pytest.warns(UserWarning, match=r"the word-score table takes 0 MB \(\d+ word and word-pair rows x 3 classes\)"):
        TextClassifier(word_scores=True, max_epochs=1, min_freq=1, score_pairs=256, **QUIET).fit(x, y)


def test_a_class_never_predicted_on_the_training_data_is_named_when_nothing_is_held_out():
    """Numeric series hold nothing out by default (val_frac=0): a model that collapsed to the
    common class (recall 0 on the rare one, training and test data alike) was said by no warning;
    it is named on the training data now, with the remedy for skewed classes."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 12)), np.where(np.arange(200) % 20 == 0, "rare", "common")
    fast = dict(hidden_size=4, max_epochs=1, **QUIET)
    with pytest.warns(UserWarning, match=r"class 'rare' \(5\.0% of the rows\) was never predicted on the training "
                                         r"data \(recall 0 of 10\): .* class_weight='balanced'"):
        SequenceClassifier(**fast).fit(X, y)


def test_the_doctor_judges_the_model_the_run_keeps_with_its_word_score_mix():
    """The doctor compared the LSTM alone with the class prior, before the word-score mix was
    fitted: an LSTM that had learnt little (one epoch at a tiny learning rate) was 'no better than
    the prior: predict the majority class' while the model saved, words and all, told the classes apart."""
    x, y = _skewed(300, 0.1, seed=0)
    clf = TextClassifier(lr=1e-5, max_epochs=1, min_freq=1, **{**QUIET, "doctor": True}).fit(x, y)
    report = clf.result_.doctor
    assert clf.config_.word_scores and clf.metrics_["val"]["accuracy"] > clf.metrics_["val"]["majority_baseline_accuracy"]
    assert "loses_to_baseline" not in [f["kind"] for f in report["findings"]], report["findings"]
    cmp = report["evidence"]["baselines"]
    assert cmp["model"] < cmp["scores"]["class_prior"]
