"""lm train --init-from RUN (ULMFiT's LM fine-tuning): the start's vocabulary with the new text's
words appended, its weights moved by token, its architecture, the start recorded; bad starts are
one clear error; a classifier starts from the fine-tuned model."""
import json

import pytest
import torch

from cli_helpers import assert_user_error, run_cli
from lstmkit import LanguageModel
from lstmkit.errors import LstmkitError
from lstmkit.runs import WEIGHTS_FILE, file_sha256
from lstmkit.tasks.lm.finetune import copy_start, extended_tokenizer

QUIET = dict(progress="off", tensorboard=False, doctor=False)
START = dict(level="word", embed_dim=8, hidden_size=12, num_layers=2, min_freq=1, tie_weights=True, dropout=0.0,
             lr=1e-2, batch_size=16, max_epochs=3, seed=0, **QUIET)


def new_text(n: int) -> list[str]:
    """The start's toy language plus two words it never saw ('green', 'frog')."""
    import numpy as np
    rng = np.random.default_rng(1)
    return [f"the {rng.choice(['green', 'big'])} {rng.choice(['frog', 'dog'])} sits" for _ in range(n)]


@pytest.fixture(scope="module")
def start(tmp_path_factory, sentences):
    return LanguageModel(**START).fit(sentences(120), out=tmp_path_factory.mktemp("start"))


@pytest.fixture(scope="module")
def tuned(start, tmp_path_factory):
    return LanguageModel(init_from=str(start.run_dir_), max_epochs=3, lr=1e-2, **QUIET).fit(
        new_text(120), out=tmp_path_factory.mktemp("tuned"))


def test_vocabulary_keeps_the_start_ids_and_appends_new_words(start):
    tok, added = extended_tokenizer(start.tokenizer_, new_text(40), 1, None)
    n = len(start.tokenizer_.itos) - 2
    assert tok.itos[:n] == start.tokenizer_.itos[:n] and added == 2
    assert set(tok.itos[n:n + 2]) == {"green", "frog"} and tok.itos[-2:] == ["<bos>", "</s>"]
    assert extended_tokenizer(start.tokenizer_, new_text(40), 1, n + 1)[1] == 1      # max_size caps the additions


def test_weights_move_by_token_and_new_rows_start_at_the_mean(start):
    tok, _ = extended_tokenizer(start.tokenizer_, new_text(40), 1, None)
    est = LanguageModel(**START)
    est.config_, est.tokenizer_ = est._resolve_config(None, START), tok
    net = est._build_net()
    copy_start(net, start.net_, start.tokenizer_, tok)
    old, new = start.net_.state_dict(), net.state_dict()
    old_tok = start.tokenizer_
    for word in ("the", "dog", "<bos>", "</s>"):
        assert torch.equal(new["embedding.weight"][tok.stoi[word]], old["embedding.weight"][old_tok.stoi[word]])
        assert new["out_bias"][tok.stoi[word]] == old["out_bias"][old_tok.stoi[word]]
    mean = old["embedding.weight"][2:len(old_tok.itos) - 2].mean(0)
    assert torch.allclose(new["embedding.weight"][tok.stoi["frog"]], mean)
    assert all(torch.equal(new[k], v) for k, v in old.items() if k.startswith("encoder."))


def test_fine_tuning_takes_the_architecture_records_the_start_and_fits_the_new_text(start, tuned):
    cfg = tuned.config_
    assert (cfg.level, cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.tie_weights) == ("word", 8, 12, 2, True)
    meta = json.loads((tuned.run_dir_ / "lstmkit.json").read_text())
    rec = meta["data"]["init_from"]
    assert rec["fingerprint"] == file_sha256(start.run_dir_ / WEIGHTS_FILE)[:16] and rec["words_added"] == 2
    assert meta["config"]["init_from"] == str(start.run_dir_)
    held = new_text(160)[120:]
    assert tuned.perplexity(held) < 0.5 * start.perplexity(held)           # it learnt the new words
    again = LanguageModel.load(tuned.run_dir_)
    assert again.perplexity(held) == pytest.approx(tuned.perplexity(held))


def test_a_classifier_starts_from_the_fine_tuned_model(tuned):
    from lstmkit.tasks.classify.estimator import TextClassifier
    clf = TextClassifier(init_from=str(tuned.run_dir_), max_epochs=1, batch_size=16, **QUIET)
    clf.fit(new_text(40), ["a", "b"] * 20)
    assert clf.tokenizer_.vocab.itos[:len(tuned.tokenizer_.itos)] == tuned.tokenizer_.itos
    frog = tuned.tokenizer_.stoi["frog"]          # epoch 1 trains the head alone: the embedding is the LM's
    assert torch.equal(clf.net_.embedding.weight[frog], tuned.net_.embedding.weight[frog])
    assert clf.init_from_["words_added"] == 0


def test_bad_starts_are_one_clear_error(start, tmp_path, sentences):
    with pytest.raises(LstmkitError, match="hidden_size=64 does not fit init_from="):
        LanguageModel(init_from=str(start.run_dir_), hidden_size=64)
    with pytest.raises(LstmkitError, match="level='char' does not fit"):
        LanguageModel(init_from=str(start.run_dir_), level="char")
    with pytest.raises(LstmkitError):
        LanguageModel(init_from=str(tmp_path / "nope"))
    bpe = LanguageModel(level="bpe", max_size=40, embed_dim=8, hidden_size=8, num_layers=1, max_epochs=1,
                        **QUIET).fit(sentences(40), out=tmp_path)
    with pytest.raises(LstmkitError, match="BPE language model"):
        LanguageModel(init_from=str(bpe.run_dir_))


def test_cli_init_from(start, tmp_path, capsys):
    corpus = tmp_path / "new.txt"
    corpus.write_text("\n".join(new_text(60)) + "\n")
    code, out, err = run_cli(["lm", "train", "--data", corpus, "--init-from", start.run_dir_, "--epochs", "1",
                              "--progress", "off", "--no-tensorboard", "--no-doctor", "--out", tmp_path / "runs"], capsys)
    assert code == 0, err
    run = next((tmp_path / "runs").glob("lm-*"))
    meta = json.loads((run / "lstmkit.json").read_text())
    assert meta["config"]["hidden_size"] == 12 and meta["data"]["init_from"]["words_added"] == 2
    code, _, err = run_cli(["lm", "train", "--data", corpus, "--init-from", start.run_dir_, "--embed-dim", "32",
                            "--out", tmp_path / "runs"], capsys)
    assert_user_error(code, err, "--embed-dim 32 does not fit")


@pytest.mark.parametrize("sizes, tensor", [(dict(embed_dim=10), r"embedding\.weight \[\d+, 8\], this one \[\d+, 10\]"),
                                           (dict(hidden_size=16), r"encoder\.weight_ih_l0 \[48, 8\], this one \[64, 8\]")])
def test_a_tensor_of_another_shape_is_refused_by_name(start, sizes, tensor):
    """A net of another embedding or hidden size cannot take the start's weights: one error naming
    the first tensor that differs and both shapes, vocabulary-sized or not."""
    from lstmkit.tasks.lm.model import LanguageModelNet
    tok, _ = extended_tokenizer(start.tokenizer_, new_text(40), 1, None)
    shape = {**dict(embed_dim=8, hidden_size=12), **sizes}
    net = LanguageModelNet(tok.vocab_size, shape["embed_dim"], shape["hidden_size"], 2, tie_weights=True)
    with pytest.raises(LstmkitError, match=rf"the language model to start from has {tensor}"):
        copy_start(net, start.net_, start.tokenizer_, tok)
