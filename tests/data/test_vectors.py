"""GloVe / word2vec text files read for a vocabulary."""
import pytest
import torch

from lstmkit.data.vectors import load_vectors
from lstmkit.data.vocab import PAD_ID, Vocab
from lstmkit.errors import LstmkitError


def test_glove_and_word2vec_text_files(tmp_path):
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "meh"])
    glove = tmp_path / "g.txt"
    glove.write_text("good 1 2 3\nBad 4 5 6\nother 7 8 9\n")
    w, n = load_vectors(glove, vocab)
    assert n == 2 and w.shape == (5, 3)
    assert torch.equal(w[2], torch.tensor([1.0, 2.0, 3.0]))
    assert torch.equal(w[3], torch.tensor([4.0, 5.0, 6.0]))         # matched lower-cased
    assert torch.equal(w[PAD_ID], torch.zeros(3))
    w2v = tmp_path / "w.txt"
    w2v.write_text("2 3\ngood 1 2 3\nmeh 0 0 1\n")
    w, n = load_vectors(w2v, vocab)
    assert n == 2 and torch.equal(w[4], torch.tensor([0.0, 0.0, 1.0]))


def test_vectors_errors(tmp_path):
    vocab = Vocab(["<pad>", "<unk>", "good"])
    with pytest.raises(LstmkitError, match="not found"):
        load_vectors(tmp_path / "none.txt", vocab)
    f = tmp_path / "v.txt"
    f.write_text("x 1 2\ny 1\n")
    with pytest.raises(LstmkitError, match="line 2"):
        load_vectors(f, vocab)
    f.write_text("x 1 2\n")
    with pytest.raises(LstmkitError, match="no word"):
        load_vectors(f, vocab)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_compressed_vectors_read_as_the_plain_file(tmp_path, suffix):
    """fastText ships its vectors as .vec.zip (one file) and .vec.gz; both read as the text file."""
    import bz2
    import gzip
    import lzma
    import zipfile
    vocab = Vocab(["<pad>", "<unk>", "good", "bad"])
    text = "2 3\ngood 1 2 3\nbad 4 5 6\n"
    plain = tmp_path / "v.vec"
    plain.write_text(text)
    packed = tmp_path / f"v.vec{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(packed, "w") as z:
            z.writestr("crawl/v.vec", text)
    else:
        packed.write_bytes({".gz": gzip, ".bz2": bz2, ".xz": lzma}[suffix].compress(text.encode()))
    w, n = load_vectors(packed, vocab)
    w0, n0 = load_vectors(plain, vocab)
    assert n == n0 == 2 and torch.equal(w[2:], w0[2:])
    packed.write_bytes(packed.read_bytes()[: len(packed.read_bytes()) // 2])          # cut short
    with pytest.raises(LstmkitError, match="cut short"):
        load_vectors(packed, vocab)


def test_a_word_s_own_line_wins_over_its_capitalised_line_wherever_each_stands(tmp_path):
    """'Bad' before 'bad' gave the vocabulary's 'bad' the vector of 'Bad' (matched lower-cased first,
    then the exact line skipped as found); the docstring says words match as given, then lower-cased."""
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "meh"])
    f = tmp_path / "v.txt"
    f.write_text("Bad 9 9\ngood 1 2\nMeh 3 3\nbad 4 5\nGood 7 7\nMEH 8 8\ngood 6 6\n")
    w, n = load_vectors(f, vocab)
    assert n == 3 and w[3].tolist() == [4.0, 5.0] and w[2].tolist() == [1.0, 2.0]
    assert w[4].tolist() == [3.0, 3.0]           # of two lines matched alike, the first (the more frequent)


def test_one_dimensional_vectors_and_blank_lines(tmp_path):
    """A first line of a word and one value is a vector, not word2vec's 'N D' header; blank lines are skipped."""
    vocab = Vocab(["<pad>", "<unk>", "good", "bad"])
    f = tmp_path / "v.txt"
    f.write_text("good 2\n\nbad 0.25\n")
    w, n = load_vectors(f, vocab)
    assert n == 2 and w[2:].tolist() == [[2.0], [0.25]]
    f.write_text("\ngood 1 2 3\n\nbad 4 5 6\n")
    w, n = load_vectors(f, vocab)
    assert n == 2 and w[3].tolist() == [4.0, 5.0, 6.0]


def test_words_without_a_vector_are_drawn_with_the_found_vectors_spread(tmp_path):
    """Found values ±100 (standard deviation 100): an unfound word's 400 draws have about that spread,
    not 1; found vectors all alike (deviation 0) draw with deviation 1."""
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "meh"])
    f = tmp_path / "v.txt"
    f.write_text("good " + " ".join(["100", "-100"] * 200) + "\nbad " + " ".join(["-100", "100"] * 200) + "\n")
    w, _ = load_vectors(f, vocab)
    assert 80 < float(w[4].std()) < 120
    f.write_text("good 3 3\n")
    w, _ = load_vectors(f, vocab)
    assert 0.3 < float(w[3:].std()) < 3
