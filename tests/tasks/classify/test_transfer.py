"""classify --init-from an lm run (ULMFiT): weights and vocabulary copied, sizes taken from the LM,
per-layer learning rates, gradual unfreezing as documented, and one clear error per bad start."""
import json

import pandas as pd
import pytest
import torch

from cli_helpers import assert_user_error, run_cli
from lstmkit.errors import LstmkitError
from lstmkit.nn.classifier import ClassifierNet
from lstmkit.runs import WEIGHTS_FILE, file_sha256, load_tensors
from lstmkit.tasks.classify.estimator import SequenceClassifier, TextClassifier
from lstmkit.tasks.classify.transfer import GradualUnfreezing, discriminative_groups, layer_groups, read_lm
from lstmkit.tasks.lm import LanguageModel
from lstmkit.train.callbacks import Callback

TINY_LM = dict(embed_dim=8, hidden_size=12, num_layers=2, min_freq=1, max_epochs=1, batch_size=16,
               progress="off", tensorboard=False, doctor=False)
QUIET = dict(progress="off", tensorboard=False, doctor=False, batch_size=16)


def _lm(texts, out, **kw):
    return LanguageModel(**{**TINY_LM, "level": "word", **kw}).fit(texts, out=out).run_dir_


@pytest.fixture(scope="module")
def data(texts):
    return texts(80, seed=3)


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory, data):
    return _lm(data[0], tmp_path_factory.mktemp("lm"))


class Watch(Callback):
    """Records the classifier's weights at the start and which groups trained in each epoch."""

    def __init__(self, clf):
        self.clf, self.trained = clf, []

    def on_train_begin(self, trainer):
        self.start = {k: v.clone() for k, v in self.clf.net_.state_dict().items()}
        self.lrs = [g["lr"] for g in trainer._parts[1].param_groups]      # the trainer's optimizer

    def on_epoch_end(self, trainer, logs):
        self.trained.append([all(p.requires_grad for p in g) for g in layer_groups(self.clf.net_)])


def test_init_from_copies_weights_and_vocabulary_and_takes_the_lm_sizes(lm_run, data, tmp_path):
    clf = TextClassifier(init_from=str(lm_run), max_epochs=2, unfreeze_epochs=5, **QUIET)
    cfg = clf.config
    assert (cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.model, cfg.pooling) == (8, 12, 2, "lstm", "concat")
    watch = Watch(clf)
    clf.fit(*data, out=tmp_path, callbacks=[watch])
    lm_w = load_tensors(lm_run / WEIGHTS_FILE)
    assert torch.equal(watch.start["embedding.weight"], lm_w["embedding.weight"])
    for k in ("weight_ih_l0", "weight_hh_l1", "bias_ih_l1"):
        assert torch.equal(watch.start[f"encoder.{k}"], lm_w[f"encoder.{k}"])
    lm_itos = [*json.loads((lm_run / "vocab.json").read_text())["base"]["itos"], "<bos>", "</s>"]
    assert clf.tokenizer_.vocab.itos == lm_itos                        # the LM knows every training word
    assert clf.tokenizer_.encode(data[0][0]) == LanguageModel.load(lm_run).tokenizer_.encode(data[0][0])
    # two epochs of 5-epoch stages: only the head trained, the LM's weights are untouched
    assert watch.trained == [[False, False, False, True]] * 2
    after = clf.net_.state_dict()
    assert torch.equal(after["encoder.weight_hh_l1"], lm_w["encoder.weight_hh_l1"])
    assert not torch.equal(after["head.weight"], watch.start["head.weight"])
    assert all(p.requires_grad for p in clf.net_.parameters())        # left trainable for later use
    assert not hasattr(clf, "lm_start_")           # the LM's weights, copied, are not kept beside (nor pickled)
    meta = json.loads((clf.run_dir_ / "lstmkit.json").read_text())
    rec = meta["preprocessing"]["init_from"]
    assert rec["run"] == str(lm_run.resolve()) and rec["fingerprint"] == file_sha256(lm_run / WEIGHTS_FILE)[:16]
    again = TextClassifier.load(clf.run_dir_)                          # the LM is not needed to load
    assert again.init_from_ == rec and list(again.predict(data[0][:5])) == list(clf.predict(data[0][:5]))


def test_words_the_lm_lacks_are_appended_at_the_mean_embedding(lm_run, data):
    x, y = data
    x = [t + (" zyzzyva quokka" if i % 3 == 0 else "") for i, t in enumerate(x)]
    clf = TextClassifier(init_from=str(lm_run), max_epochs=1, unfreeze_epochs=5, **QUIET)
    watch = Watch(clf)
    clf.fit(x, y, callbacks=[watch])
    lm_w = load_tensors(lm_run / WEIGHTS_FILE)["embedding.weight"]
    n = len(lm_w)
    assert clf.tokenizer_.vocab.itos[n:] == ["quokka", "zyzzyva"]       # counted, min_freq 2, LM ids unchanged
    start = watch.start["embedding.weight"]
    assert torch.equal(start[:n], lm_w) and torch.allclose(start[n:], lm_w[2:].mean(0).expand(2, -1))
    assert clf.init_from_["words_added"] == 2 and clf.init_from_["vocab"] == n


def test_gradual_unfreezing_opens_one_layer_per_stage_with_lower_rates_below(lm_run, data):
    clf = TextClassifier(init_from=str(lm_run), max_epochs=4, patience=10, lr=0.01, **QUIET)
    watch = Watch(clf)
    clf.fit(*data, callbacks=[watch])
    # groups bottom to top: embedding, LSTM layer 0, LSTM layer 1, head
    assert watch.trained == [[False, False, False, True], [False, False, True, True],
                             [False, True, True, True], [True, True, True, True]]
    assert watch.lrs == pytest.approx([0.01, 0.01 / 1.5, 0.01 / 1.5 ** 2, 0.01 / 1.5 ** 3])


def test_unfreezing_schedule_and_discriminative_groups_directly():
    net = ClassifierNet(2, vocab_size=20, embed_dim=4, encoder="lstm", hidden_size=6, num_layers=3, pooling="concat")
    groups = layer_groups(net)
    assert len(groups) == 5 and sum(len(g) for g in groups) == len(list(net.parameters()))
    assert groups[0] == [net.embedding.weight] and net.head.weight in groups[-1]
    assert all(n.endswith("_l1") for n, p in net.encoder.named_parameters() if any(p is q for q in groups[2]))
    sched = GradualUnfreezing(net, epochs=2)
    assert [sched.trainable(e) for e in range(12)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 5]
    assert [GradualUnfreezing(net, 0).trainable(e) for e in (0, 3)] == [5, 5]
    sched.apply(2)
    assert [g[0].requires_grad for g in groups] == [False, False, False, True, True]
    rates = [g["lr"] for g in discriminative_groups(net, 1.0, 2.0)]
    assert rates == [1.0, 0.5, 0.25, 0.125, 0.0625]
    net.embedding.weight.requires_grad_(False)        # frozen before: a trainer without param_groups would leave it
    GradualUnfreezing(net, epochs=2)                    # out of its optimizer, and unfreezing could never train it
    assert all(p.requires_grad for p in net.parameters())


def test_concat_pooling_is_last_max_and_mean():
    torch.manual_seed(0)
    net = ClassifierNet(3, vocab_size=30, embed_dim=4, encoder="lstm", hidden_size=5, pooling="concat").eval()
    x = torch.randint(2, 30, (2, 6))
    x[1, 4:] = 0
    lengths = torch.tensor([6, 4])
    out, _ = net.encoder(net.embedding(x), lengths=lengths)
    pooled, _ = net._pool(out, lengths)
    assert pooled.shape == (2, 15)
    assert torch.allclose(pooled[1], torch.cat([out[1, 3], out[1, :4].amax(0), out[1, :4].mean(0)]))
    alone = net(x[1:, :4], lengths[1:])                                # padding changes nothing
    assert torch.allclose(net(x, lengths)[1], alone[0], atol=1e-6)


def test_bad_starts_are_one_clear_error(lm_run, data, tmp_path):
    with pytest.raises(LstmkitError, match="run folder not found"):
        TextClassifier(init_from=str(tmp_path / "nope"))
    with pytest.raises(LstmkitError, match=r"hidden_size=64 does not fit init_from='.*': the language model has "
                                           r"hidden size 12 — drop hidden_size= \(.*takes its hidden_size=12\)"):
        TextClassifier(init_from=str(lm_run), hidden_size=64)
    with pytest.raises(LstmkitError, match="model='bilstm' does not fit"):
        TextClassifier(init_from=str(lm_run), model="bilstm")
    # init_from given to fit() with the classifier's own sizes: the shapes do not fit
    with pytest.raises(LstmkitError, match="embed_dim=64 does not fit .*pass init_from to TextClassifier.*or embed_dim=8"):
        TextClassifier(**QUIET).fit(*data, init_from=str(lm_run))
    foreign = TextClassifier(max_epochs=1, embed_dim=4, hidden_size=4, min_freq=1, **QUIET).fit(*data, out=tmp_path)
    with pytest.raises(LstmkitError, match="is a 'classify' run, not a language model"):
        TextClassifier(init_from=str(foreign.run_dir_))
    gru = _lm(data[0], tmp_path / "gru", model="gru")
    with pytest.raises(LstmkitError, match="'gru' language model.*train the language model with model='lstm'"):
        TextClassifier(init_from=str(gru))
    char = _lm(data[0], tmp_path / "char", level="char")
    with pytest.raises(LstmkitError, match="tokenizer='word' does not fit .* tokenizer char"):
        TextClassifier(init_from=str(char), tokenizer="word")
    assert read_lm(char).level == "char" and TextClassifier(init_from=str(char)).config.tokenizer == "char"
    with pytest.raises(LstmkitError, match="vectors= and init_from= both"):
        TextClassifier(init_from=str(lm_run), vectors="glove.txt", **QUIET).fit(*data)


def test_cli_init_from(lm_run, data, tmp_path, capsys):
    csv = tmp_path / "d.csv"
    pd.DataFrame({"text": data[0], "label": data[1]}).to_csv(csv, index=False)
    common = ["classify", "train", "--data", csv, "--progress", "off", "--no-tensorboard", "--max-epochs", "1",
              "--out", tmp_path / "runs"]
    code, out, err = run_cli([*common, "--init-from", tmp_path / "missing"], capsys)
    assert_user_error(code, err, "run folder not found")
    code, out, err = run_cli([*common, "--init-from", lm_run, "--hidden-size", "7"], capsys)
    assert_user_error(code, err, "--hidden-size 7 does not fit", "hidden size 12")
    assert not (tmp_path / "runs").exists()
    code, out, err = run_cli([*common, "--init-from", lm_run], capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["init_from"] == str(lm_run) and meta["config"]["hidden_size"] == 12
    assert meta["preprocessing"]["init_from"]["fingerprint"] == file_sha256(lm_run / WEIGHTS_FILE)[:16]


def test_word_dropout_drops_whole_tokens_in_training_only():
    torch.manual_seed(0)
    net = ClassifierNet(2, vocab_size=30, embed_dim=6, encoder="bilstm", hidden_size=4, dropout=0.0, word_dropout=0.5)
    seen = []
    net.encoder.register_forward_hook(lambda m, args, kw=None: seen.append(args[0].detach()))
    x = torch.randint(2, 30, (8, 10))
    net.train()(x)
    e, full = seen[-1], net.embedding(x).detach()
    dropped = (e == 0).all(-1)
    assert 0 < dropped.float().mean() < 1                                   # some tokens, never parts of one
    assert torch.allclose(e[~dropped], 2 * full[~dropped])                  # the rest scaled by 1 / (1 - p)
    net.eval()(x)
    assert torch.equal(seen[-1], full)


def test_text_defaults_fill_only_what_the_caller_leaves_out():
    cfg = TextClassifier().config
    assert (cfg.embed_dim, cfg.hidden_size, cfg.word_dropout, cfg.pooling) == (64, 64, 0.4, "max-mean")
    assert cfg.word_scores and cfg.score_pairs == 262144 and not SequenceClassifier().config.word_scores
    assert (cfg.train.max_epochs, cfg.train.patience, cfg.train.batch_size) == (30, 4, 64)
    given = TextClassifier(embed_dim=32, train={"max_epochs": 3}).config
    assert (given.embed_dim, given.train.max_epochs, given.hidden_size) == (32, 3, 64)


@pytest.mark.parametrize("value, shown", [("5", "5"), ("[runs/lm]", "['runs/lm']")])
def test_an_init_from_that_is_not_a_path_names_the_setting_and_its_file(value, shown, tmp_path, capsys):
    """'init_from: 5' in a settings file was 'loading needs a run folder's path, got int': no word of
    which setting, or which file, held it."""
    (tmp_path / "r.csv").write_text("text,label\ngood film,pos\nbad film,neg\ngreat,pos\nawful,neg\n")
    (tmp_path / "c.yaml").write_text(f"init_from: {value}\n")
    code, _, err = run_cli(["classify", "train", "--data", tmp_path / "r.csv", "--config", tmp_path / "c.yaml",
                            "--out", tmp_path / "runs"], capsys)
    assert code == 2 and err == f"error: `init_from` must be text, got {shown} — check 'init_from:' in " \
                                 f"{tmp_path / 'c.yaml'}\n", err
    with pytest.raises(LstmkitError, match=r"^`init_from` must be text, got 5"):
        TextClassifier(init_from=5)
