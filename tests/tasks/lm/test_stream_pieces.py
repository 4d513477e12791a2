"""The stream's text helpers worked out by hand on small tokenizers (no model): how a message
becomes ids, what tail of it is held for the next message, and which next tokens are listed."""
import math

import numpy as np
import pytest

from lstmkit.tasks.lm.data import LMTokenizer
from lstmkit.errors import LstmkitError
from lstmkit.tasks.lm.stream import MAX_HELD, encode_piece, held_from, text_ids, top_tokens


@pytest.fixture(scope="module")
def char():
    return LMTokenizer("char").fit(["ab c&d"])        # <pad> <unk> ' ' & a b c d <bos> </s>


@pytest.fixture(scope="module")
def word():
    return LMTokenizer("word").fit(["ab cd &amp;"])


def test_a_run_of_white_space_is_one_space_and_none_follows_a_space(char):
    a, b, c, sp = (char.token_id(t) for t in "abc ")
    assert text_ids(char, "a  b\t c") == [a, sp, b, sp, c]
    assert text_ids(char, " a") == [sp, a]
    assert text_ids(char, " a", after_space=True) == [a]        # the line's start, or a space read last
    assert text_ids(char, "a ") == [a, sp]
    assert text_ids(char, "  ") == [sp] and text_ids(char, "  ", after_space=True) == []


def test_a_word_message_is_its_words_and_white_space_alone_none(word):
    assert text_ids(word, "ab  cd") == [word.token_id("ab"), word.token_id("cd")] == word.encode("ab cd")
    assert text_ids(word, " \t ") == []


@pytest.mark.parametrize("text, held", [
    ("ab &am", "&am"), ("ab &", "&"), ("ab &#3", "&#3"), ("ab &#x2", "&#x2"),
    ("ab &amp;", ""), ("a&b c", ""), ("ab", ""), ("&" + "a" * 41, "&" + "a" * 41), ("&" + "a" * 42, "")])
def test_a_char_stream_holds_only_what_may_still_become_a_reference(char, text, held):
    """A reference's start (a name of at most 41 characters after '&') is held; a complete
    reference, or an '&' with a space after it, is read."""
    assert text[held_from(char, text):] == held


def test_a_model_that_reads_references_as_written_holds_nothing(char):
    """A tokenizer state from before references were decoded (no ``html``) reads '&am' as the
    characters it is: nothing to wait for."""
    state = char.to_dict()
    del state["base"]["html"]
    old = LMTokenizer.from_dict(state)
    assert held_from(old, "ab &am") == len("ab &am") and held_from(old, "&") == 1
    assert held_from(char, "ab &am") == 3 and held_from(char, "ab") == 2


def test_a_message_is_its_tokens_or_the_line_end_and_one_of_no_token_is_refused(char, word):
    a, b, sp = (char.token_id(t) for t in "ab ")
    assert encode_piece(char, "ab") == [a, b] and encode_piece(char, {"text": "a b"}) == [a, sp, b]
    assert encode_piece(char, "</s>") == encode_piece(char, " </s>\n") == [char.eos_id]
    assert encode_piece(word, "</s>") == [word.eos_id] and encode_piece(word, "cd") == [word.token_id("cd")]
    with pytest.raises(LstmkitError, match="holds no token"):
        encode_piece(word, "!!!")


def test_a_word_stream_holds_the_word_a_reference_starts_in_up_to_max_held_characters(word):
    assert held_from(word, "ab caf&eacu") == 3 and held_from(word, "caf&eacu") == 0
    at_most = "ab " + "c" * (MAX_HELD - 3) + "&am"                  # the word: MAX_HELD characters
    assert held_from(word, at_most) == 3
    assert held_from(word, "ab " + "c" * (MAX_HELD - 2) + "&am") == MAX_HELD + 4     # one more: none held


def test_the_next_tokens_listed_are_the_k_likeliest_never_pad_or_bos(char):
    """<pad> and <bos> get the highest log-probabilities here and are still left out; the others
    are listed likeliest first, ties in id order, at most every token but those two."""
    p = dict.fromkeys(char.itos, 0.01)
    p.update({"<pad>": 0.3, "<bos>": 0.3, "b": 0.2, "a": 0.1, "c": 0.05})
    logp = np.log([p[t] for t in char.itos])
    assert top_tokens(char, logp, 2) == [{"token": "b", "p": pytest.approx(0.2)}, {"token": "a", "p": pytest.approx(0.1)}]
    every = top_tokens(char, logp, 50)
    assert [t["token"] for t in every] == ["b", "a", "c", "<unk>", " ", "&", "d", "</s>"]
    assert [t["p"] for t in every] == pytest.approx([0.2, 0.1, 0.05] + [0.01] * 5)
    assert math.isclose(top_tokens(char, logp, 1)[0]["p"], 0.2)


@pytest.mark.parametrize("message", [{"text": "ab", "id": "u1"}, {"txt": "ab"}, {}])
def test_a_message_object_takes_text_alone(char, message):
    """{"text": ...} and nothing else: another key beside it, or none, is named, not ignored."""
    with pytest.raises(LstmkitError, match=r"a stream message object takes only 'text', got \[.*\]"):
        encode_piece(char, message)
