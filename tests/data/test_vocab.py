import copy
import json
import pickle
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmkit.data.vocab import (PAD_ID, UNK_ID, CharTokenizer, Vocab, WordTokenizer, make_tokenizer, tokenize_many, tokenize_words,
                                tokenizer_from_dict)
from lstmkit.errors import LstmkitError


# -- tokenize_words --------------------------------------------------------------------------------
def test_lowercase_punctuation_and_html_breaks_removed():
    assert tokenize_words("Great film!<br /><br />Loved it, REALLY.") == ["great", "film", "loved", "it", "really"]
    assert tokenize_words("a<BR>b<br/>c") == ["a", "b", "c"]


def test_inner_apostrophes_kept_and_numbers_are_words():
    assert tokenize_words("Don't miss it: 10/10 — it’s fine") == ["don't", "miss", "it", "10", "10", "it’s", "fine"]


def test_unicode_words_stay_whole():
    decomposed = unicodedata.normalize("NFD", "Café naïve")
    assert tokenize_words(decomposed) == ["café", "naïve"]
    assert tokenize_words("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]     # combining vowel signs
    assert tokenize_words("Привет, МИР") == ["привет", "мир"]


def test_cjk_split_into_characters():
    assert tokenize_words("这部电影很好看") == list("这部电影很好看")
    assert tokenize_words("映画はgood") == ["映", "画", "は", "good"]


def test_keep_case():
    assert tokenize_words("Big Fish", lowercase=False) == ["Big", "Fish"]


# -- Vocab -------------------------------------------------------------------------------------------
def test_vocab_specials_order_min_freq_max_size():
    lists = [["b", "a", "a"], ["c", "a", "b"], ["d"]]
    v = Vocab.build(lists)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "c", "d"]          # by count, ties alphabetical
    assert Vocab.build(lists, min_freq=2).itos == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.build(lists, max_size=3).itos == ["<pad>", "<unk>", "a"]
    assert v.encode(["a", "zzz"]) == [2, UNK_ID]
    assert v.stoi["<pad>"] == PAD_ID


@pytest.mark.parametrize("kw", [{"min_freq": 0}, {"max_size": 2}, {"min_freq": 1.5}, {"max_size": 10.5}])
def test_vocab_rejects_bad_settings(kw):
    with pytest.raises(LstmkitError):
        Vocab.build([["a"]], **kw)


def test_word_tokenizer_json_round_trip():
    tok = WordTokenizer(min_freq=1).fit(["the cat sat", "the dog"])
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.encode("the cat ran") == tok.encode("the cat ran") == [2, 3, UNK_ID]
    assert tok.encode("!!!") == [UNK_ID]                   # never empty
    assert tok.pieces("The cat ran") == ["the", "cat", "ran"]


def test_char_tokenizer():
    tok = CharTokenizer().fit(["ab  a"])
    assert tok.tokens("ab  a") == ["a", "b", " ", "a"]
    assert isinstance(tokenizer_from_dict(tok.to_dict()), CharTokenizer)


def test_bpe_tokenizer_trains_and_round_trips():
    pytest.importorskip("tokenizers")
    texts = ["lower lowest newer newest wider widest"] * 20
    tok = make_tokenizer("bpe", min_freq=1, max_size=60).fit(texts)
    ids = tok.encode("lowest newest")
    assert ids and all(isinstance(i, int) for i in ids)
    assert len(tok.pieces("lowest newest")) == len(ids)
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.encode("widest lower") == tok.encode("widest lower")
    assert tok.vocab.itos[:2] == ["<pad>", "<unk>"]


@pytest.mark.parametrize("kind", ["word", "char", "bpe"])
def test_a_lone_surrogate_reads_as_u_fffd_and_a_pair_as_its_character(kind):
    """Found by tools/fuzz/fuzz_tokenizers.py: a text holding half of a UTF-16 surrogate pair (JSON's
    '\\ud83d', text decoded with surrogateescape) was a bare TypeError ('TextInputSequence must be str')
    in the BPE tokenizer; every tokenizer now reads it as U+FFFD, as the tasks read their texts."""
    if kind == "bpe":
        pytest.importorskip("tokenizers")
    tok = make_tokenizer(kind, min_freq=1).fit(["a cat \ufffd sat \U0001f600"] * 4)
    assert tok.encode("a \ud83d cat") == tok.encode("a \ufffd cat")
    assert tok.encode("a \udcff cat") == tok.encode("a \ufffd cat")
    assert tok.encode("sat \ud83d\ude00") == tok.encode("sat \U0001f600")
    assert len(tok.pieces("a \ud83d cat")) == len(tok.encode("a \ud83d cat"))


@pytest.mark.parametrize("text, held", [("plain", False), ("caf\u00e9 \U0001f600", False), ("\ud83d\ude00 x", True),
                                        ("caf\u00e9 \udcff", True), ("\ud800", True), ("\ue000\uffff", False)])
def test_holds_surrogate_finds_a_utf16_half_and_nothing_else(text, held):
    """normalize_text's and whole_characters' check, one UTF-8 encode: the code points either side of the
    surrogates (U+E000, U+FFFF) and a whole emoji are no surrogate; a pair kept as two halves is."""
    from lstmkit.data.vocab import holds_surrogate, normalize_text
    assert holds_surrogate(text) is held
    assert ("\ufffd" in normalize_text("\ud800" + text) and holds_surrogate(normalize_text(text)) is False)


@pytest.mark.parametrize("setting, value", [("continuing_subword_prefix", "abcdefghijk"),
                                            ("end_of_word_suffix", "</w>"), ("dropout", 0.5),
                                            ("byte_fallback", True), ("unk_token", "<pad>"),
                                            ("fuse_unk", True), ("ignore_merges", True)])
def test_a_bpe_state_whose_model_settings_lstmkit_never_writes_is_refused(tmp_path, setting, value):
    """Found by tools/fuzz/fuzz_text_runs.py: a vocab.json whose BPE model's continuing_subword_prefix was
    edited panicked in Hugging Face's Rust (a PanicException traceback, which no `except Exception` catches);
    a dropout drew other subwords at every call. Each setting is refused in one line, naming it."""
    pytest.importorskip("tokenizers")
    state = make_tokenizer("bpe", min_freq=1, max_size=60).fit(["lower lowest newer newest"] * 10).to_dict()
    state["tokenizer"]["model"][setting] = value
    (tmp_path / "vocab.json").write_text(json.dumps(state))
    with pytest.raises(LstmkitError) as e:
        tokenizer_from_dict(json.loads((tmp_path / "vocab.json").read_text()))
    assert f"model's {setting} is {value!r}, which lstmkit never writes" in str(e.value)
    assert "retrain the model" in e.value.hint


def test_a_bpe_state_without_the_model_settings_an_older_tokenizers_did_not_write_loads():
    """A vocab.json saved with an older tokenizers lacks the BPE model settings added since (byte_fallback in
    0.14, ignore_merges in 0.19): only a setting the state holds is compared, so such a run loads, and reads
    every text as it did (a lookup of the missing key was a KeyError traceback)."""
    pytest.importorskip("tokenizers")
    tok = make_tokenizer("bpe", min_freq=1, max_size=60).fit(["lower lowest newer newest"] * 10)
    state = tok.to_dict()
    for setting in ("byte_fallback", "ignore_merges"):
        del state["tokenizer"]["model"][setting]
    older = tokenizer_from_dict(json.loads(json.dumps(state)))
    assert older.encode("lowest newer wider") == tok.encode("lowest newer wider")


def _word_state():
    return WordTokenizer(min_freq=1).fit(["the cat sat", "the dog ran"]).to_dict()


def test_a_word_state_saved_before_html_decoding_as_false_loads_and_reads_references_as_words():
    """``"html": false`` is what a state saved before decoding holds (clean_text's False): it loads, and
    '&amp;' is the punctuation '&', ';' around the word 'amp', as tokenize_many reads it by default too."""
    tok = tokenizer_from_dict({**_word_state(), "html": False})
    assert tok.html is False
    assert tok.tokens("rock &amp; roll") == ["rock", "amp", "roll"]
    assert tokenize_many(["rock &amp; roll"]) == [tokenize_words("rock &amp; roll")] == [["rock", "amp", "roll"]]


@pytest.mark.parametrize("max_size, added", [(None, ["c", "d"]), (5, ["c"]), (3, [])])
def test_extend_tokenizer_appends_the_frequent_new_tokens_up_to_max_size(max_size, added):
    """Counted on 'c c c d d a a e' with min_freq 2: c (3), a (2), d (2) are frequent, e (1) is not; a is known.
    The known ids keep their meaning; what is new goes after them, as many as ``max_size`` has room for."""
    from lstmkit.data.vocab import extend_tokenizer
    tok = WordTokenizer(min_freq=1).fit(["a a b"])
    assert tok.vocab.itos == ["<pad>", "<unk>", "a", "b"]
    grown, n = extend_tokenizer(tok, ["c c c d d a a e"], min_freq=2, max_size=max_size)
    assert grown.vocab.itos == ["<pad>", "<unk>", "a", "b", *added] and n == len(added)
    assert tok.vocab.itos == ["<pad>", "<unk>", "a", "b"]                    # the tokenizer given is unchanged


@pytest.mark.parametrize("edit, needle", [
    ({"lowercase": "yes"}, "has lowercase 'yes', not true or false"),       # a KeyError traceback at the first text
    ({"spaceless": 1}, "has spaceless 1, not true or false"),
    ({"html": 7}, "has html 7, not true, false or 2"),
    ({"itos": "<pad><unk>the"}, "has itos of str, not a list of tokens"),   # was "rebuild it with Vocab.build"
    ({"itos": None}, "has itos of NoneType"),
    ({"itos": ["<pad>", "<unk>", "the", 3]}, "has the token 3, not a string"),   # ids no text ever gets, silently
    ({"itos": ["<pad>", "<unk>", "the", "cat", "the"]}, "has the token 'the' twice"),   # the first id never given
    ({"itos": ["<unk>", "<pad>", "the"]}, "starts ['<unk>', '<pad>'], not ['<pad>', '<unk>']"),
])
def test_a_damaged_word_state_is_refused_naming_what(edit, needle):
    """A hand-edited or foreign vocab.json: each was a traceback later, or answers from another reading."""
    with pytest.raises(LstmkitError, match="vocabulary state") as e:
        tokenizer_from_dict({**_word_state(), **edit})
    assert needle in e.value.message and "retrain the model" in e.value.hint


@pytest.mark.parametrize("part, value, needle", [
    # a stranger's regex ran on every text: a backtracking one was a PanicException traceback (or a hang)
    ("normalizer", {"type": "Replace", "pattern": {"Regex": "(.*a){25}x"}, "content": ""},
     "whose normalizer is 'Replace', which lstmkit never writes"),
    ("pre_tokenizer", {"type": "Split", "pattern": {"Regex": "(a+)+$"}, "behavior": "Removed", "invert": False},
     "whose pre_tokenizer is 'Split'"),
    ("post_processor", {"type": "ByteLevel"}, "whose post_processor is 'ByteLevel'"),
    ("model", {"type": "WordPiece"}, "whose model is 'WordPiece'"),
    ("model", {"type": "BPE", "vocab": 5}, "has a BPE tokenizer that does not load"),   # an Exception traceback
])
def test_a_bpe_state_lstmkit_never_writes_is_refused(part, value, needle):
    pytest.importorskip("tokenizers")
    state = make_tokenizer("bpe", min_freq=1, max_size=40).fit(["lower lowest newer newest"] * 5).to_dict()
    tokenizer_from_dict(json.loads(json.dumps(state)))                      # the state as written loads
    with pytest.raises(LstmkitError, match="vocabulary state") as e:
        tokenizer_from_dict({**state, "tokenizer": {**state["tokenizer"], part: value}})
    assert needle in e.value.message


def test_unknown_tokenizer_kind():
    with pytest.raises(LstmkitError, match="unknown tokenizer"):
        make_tokenizer("sentencepiece")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_ascii_text_tokenizes_as_the_unicode_pattern_does(text):
    """ASCII text takes a shorter pattern; it must cut every ASCII string as the full one does."""
    from lstmkit.data.vocab import _word_pattern, clean_text
    assert tokenize_words(text) == _word_pattern().findall(clean_text(text))
    assert tokenize_words(text, lowercase=False) == _word_pattern().findall(clean_text(text, lowercase=False))


_PIECES = st.sampled_from(["Don't", "it's", "'a'", "''", "b''c", "<br />", "<BR", "/>", "x_y", "10/10", "\x00",
                           "café", "it’s", "好看", "\t", "\n", " ", "--", "A'B'C"])
_TEXTS = st.lists(st.lists(_PIECES | st.text(alphabet=st.characters(max_codepoint=127), max_size=6), max_size=12)
                  .map("".join), max_size=8)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_many_texts_tokenize_as_each_text_alone(texts):
    """tokenize_many cuts the ASCII texts in one pass: every text must get tokenize_words' tokens,
    whatever its neighbours hold (breaks, apostrophes at its ends, non-ASCII, the separator itself)."""
    from lstmkit.data.vocab import tokenize_many
    for lowercase in (True, False):
        assert tokenize_many(texts, lowercase) == [tokenize_words(t, lowercase) for t in texts]


@pytest.mark.parametrize("kind", ["word", "char", "bpe"])
def test_encode_many_is_encode_of_each_text_end_to_end(kind):
    from lstmkit.data.vocab import end_to_end
    tok = make_tokenizer(kind, min_freq=1, max_size=60).fit(["the good film", "a bad film, don't", "café ok"] * 3)
    texts = ["the good film", "", "!!!", "an unseen word", "don't <br /> café", "the"]
    ids, lengths = tok.encode_many(texts)
    want = [tok.encode(t) for t in texts]
    assert ids.dtype == lengths.dtype == "int64"
    assert ids.tolist() == [i for w in want for i in w] and lengths.tolist() == [len(w) for w in want]
    assert [x.tolist() for x in end_to_end(want)] == [ids.tolist(), lengths.tolist()]
    if kind == "word":
        assert want[1] == want[2] == [UNK_ID]                  # no tokens: one <unk>, as encode gives


def test_join_words_puts_no_space_beside_cjk():
    from lstmkit.data.vocab import join_words
    assert join_words(["我", "喜", "欢", "tea", "and", "茶"]) == "我喜欢tea and茶"
    assert join_words(["a", "b"]) == "a b" and join_words([]) == "" and join_words(["他们", "看"]) == "他们看"
    # texts: what goes between two is decided by the last character of the first, not its first
    assert join_words(["我喜欢tea", "and", "milk"]) == "我喜欢tea and milk"
    assert join_words(["tea我", "b"]) == "tea我b"


@pytest.mark.parametrize("kind", ["word", "char"])
def test_fitting_on_texts_cut_once_gives_the_vocabulary_and_ids_of_fitting_on_the_texts(kind):
    """A caller that encodes its training texts cuts them once (``fit_tokens`` + ``encode_tokens``):
    the vocabulary and the ids equal ``fit(texts)`` and ``encode`` of each text, on generated text
    (breaks, apostrophes, accents, CJK, empty texts, a min_freq and a max_size that cut the vocabulary)."""
    import numpy as np
    rng = np.random.default_rng(0)
    words = ["the", "Film", "don't", "café", "好看", "<br />", "it’s", "10/10", "", "!!", "'a'", "naïve"]
    texts = [" ".join(rng.choice(words, int(rng.integers(0, 12)))) for _ in range(500)]
    for min_freq, max_size in ((1, None), (3, 8)):
        before = make_tokenizer(kind, min_freq, max_size).fit(texts)
        after = make_tokenizer(kind, min_freq, max_size)
        tokens = after.tokens_many(texts)
        ids, lengths = after.fit_tokens(tokens).encode_tokens(tokens)
        assert after.to_dict() == before.to_dict() and len(after.vocab) > 2
        want = [before.encode(t) for t in texts]
        assert ids.tolist() == [i for w in want for i in w] and lengths.tolist() == [len(w) for w in want]


# -- scripts without spaces, emoji, invisible characters ----------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("หนังดีมาก", ["ห", "นั", "ง", "ดี", "ม", "า", "ก"]),        # Thai: a character with its vowel and tone marks
    ("ສະບາຍດີ", ["ສ", "ະ", "ບ", "າ", "ຍ", "ດີ"]),                  # Lao
    ("សួស្តី", ["សួ", "ស្", "តី"]),                                 # Khmer
    ("မင်္ဂလာ", ["မ", "င်္", "ဂ", "လာ"]),                            # Myanmar
    ("good ดี ok", ["good", "ดี", "ok"]),
])
def test_scripts_without_spaces_split_into_characters_with_their_marks(text, want):
    """A Thai, Lao, Khmer or Myanmar sentence was one word: a classifier saw each text as one token."""
    assert tokenize_words(text) == want


@pytest.mark.parametrize("text, want", [
    ("love it 👍🏽", ["love", "it", "👍🏽"]),                       # a skin tone stays with its hand
    ("I ❤️ you", ["i", "❤️", "you"]),                              # no lone variation selector as a word
    ("us 👨\u200d👩\u200d👧 😀😡", ["us", "👨\u200d👩\u200d👧", "😀", "😡"]),  # a ZWJ sequence is one
    ("go 🇩🇪🇫🇷", ["go", "🇩🇪", "🇫🇷"]),                            # a flag is two regional letters
    ("1️⃣ ♥ ©", ["1️⃣", "♥", "©"]),
])
def test_emoji_and_symbols_are_tokens(text, want):
    """Emoji were dropped (and '❤️' left its variation selector as a word): a text classified by its emoji
    could not be learnt."""
    assert tokenize_words(text) == want
    assert tokenize_many([text, "plain ascii"]) == [want, ["plain", "ascii"]]


@pytest.mark.parametrize("text, want", [
    ("co\u00adoperation", ["cooperation"]),             # soft hyphen
    ("ex\u2060ample", ["example"]),                    # word joiner
    ("gre\ufeffat \ufefffilm", ["great", "film"]),     # byte-order marks inside a text
    ("İyi İSTANBUL iyi", ["iyi", "istanbul", "iyi"]),  # Turkish capital dotted I: no stray combining dot
])
def test_invisible_characters_and_the_turkish_capital_i_leave_words_whole(text, want):
    assert tokenize_words(text) == want


def test_a_tokenizer_saved_before_the_rules_cuts_text_as_its_vocabulary_was_counted():
    state = {"kind": "word", "lowercase": True, "min_freq": 1, "max_size": None,
             "itos": ["<pad>", "<unk>", "หนังดีมาก", "love", "\ufe0f"]}
    old = tokenizer_from_dict(state)
    assert old.tokens("หนังดีมาก ❤️ love") == ["หนังดีมาก", "\ufe0f", "love"]
    assert old.encode("หนังดีมาก ❤️ love") == [2, 4, 3]
    new = WordTokenizer(min_freq=1).fit(["หนังดีมาก ❤️ love"])
    again = tokenizer_from_dict(json.loads(json.dumps(new.to_dict())))
    assert again.tokens("หนังดีมาก ❤️") == new.tokens("หนังดีมาก ❤️") == ["ห", "นั", "ง", "ดี", "ม", "า", "ก", "❤️"]


@pytest.mark.parametrize("words, want", [
    (["love", "👍", "🏽", "!"], "love 👍🏽 !"),
    (["us", "👨", "\u200d", "👩", "\u200d", "👧"], "us 👨\u200d👩\u200d👧"),
    (["I", "❤", "\ufe0f", "you"], "I ❤\ufe0f you"),
    (["go", "🇩", "🇪"], "go 🇩🇪"),
    (["ห", "นั", "ง", "ok"], "หนังok"),
])
def test_join_words_keeps_what_completes_a_character_beside_it(words, want):
    """An emoji cut into pieces (translate's tokens) came back with spaces inside it ('👍 🏽')."""
    from lstmkit.data.vocab import join_words
    assert join_words(words) == want


# -- HTML in text (IMDB-style reviews) -------------------------------------------------------------
_REVIEW = "Rock &amp; roll, &quot;great&quot;, it&#39;s caf&eacute;!<br /><br />Ok<p>The end.</p>"


def test_html_references_are_decoded_and_paragraph_tags_are_spaces():
    assert tokenize_words(_REVIEW, html=True) == ["rock", "roll", "great", "it's", "café", "ok", "the", "end"]
    assert tokenize_many([_REVIEW, "a &amp; b", "x<P>y<p style=\"a\">z"], html=True) == [
        tokenize_words(_REVIEW, html=True), ["a", "b"], ["x", "y", "z"]]
    from lstmkit.data.vocab import tokenize_chars
    assert "".join(tokenize_chars("R&amp;B<br>&lt;br&gt;", html=True)) == "r&b <br>"     # an escaped tag stays text


@pytest.mark.parametrize("text, words, chars", [
    ("a < b", ["a", "b"], "a < b"),
    ("x<y and z>w", ["x", "y", "and", "z", "w"], "x<y and z>w"),
    ("a<p then b>c", ["a", "p", "then", "b", "c"], "a<p then b>c"),
    ("5 &lt; 6 & 7", ["5", "6", "7"], "5 < 6 & 7"),
])
def test_a_less_than_sign_in_prose_is_no_tag(text, words, chars):
    from lstmkit.data.vocab import tokenize_chars
    assert tokenize_words(text, html=True) == words
    assert "".join(tokenize_chars(text, html=True)) == chars


_TAGGED = "<i>Alien</i> is <EM>great</em>, <b>truly</b> <strong>a</strong> <u>must</u>: <span class=\"s\">see</span> <spoiler>it</spoiler>"


def test_inline_formatting_tags_are_dropped_under_the_new_html_value_only():
    """'<i>Alien</i>' was the words 'i', 'alien', 'i' (and '<em>' 'em'): under html HTML_INLINE (every
    tokenizer fitted now) inline formatting tags are dropped; html True, recorded by runs saved
    before, keeps them as words, so such a run tokenises as its vocabulary was counted."""
    from lstmkit.data.vocab import HTML_INLINE, tokenize_chars
    words = ["alien", "is", "great", "truly", "a", "must", "see", "it"]
    assert tokenize_words(_TAGGED, html=HTML_INLINE) == words
    assert tokenize_many([_TAGGED, "un<b>believ</b>able", "a<i>b"], html=HTML_INLINE) == [words, ["unbelievable"], ["ab"]]
    assert tokenize_words(_TAGGED, html=True)[:4] == ["i", "alien", "i", "is"]          # as html: true read it
    assert tokenize_many([_TAGGED], html=True) == [tokenize_words(_TAGGED, html=True)]
    assert "".join(tokenize_chars("<i>A</i> &lt;b&gt;", html=HTML_INLINE)) == "a <b>"     # an escaped tag stays text
    assert tokenize_words("<img src=x> <br> <bold> <ins>", html=HTML_INLINE) == ["img", "src", "x", "bold", "ins"]
    tok = make_tokenizer("word", min_freq=1).fit([_TAGGED])
    assert "i" not in tok.vocab.itos and tokenizer_from_dict({**tok.to_dict(), "html": True}).pieces("<i>x</i>") == [
        "i", "x", "i"]


@pytest.mark.parametrize("text", ["a < b", "x <i and i> y", "c<b and b>d", "1 <u 2 and u> 3", "a <em or em> b"])
def test_a_less_than_sign_beside_a_tag_name_in_prose_is_no_inline_tag(text):
    from lstmkit.data.vocab import HTML_INLINE
    assert tokenize_words(text, html=HTML_INLINE) == tokenize_words(text, html=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["&amp;", "&eacute;", "&#39;", "&", "<p>", "</p", "<p a=", ">", "\x00",
                                          "<br />", "'", " ", "x", "<i>", "</b", "<span a=", "em>"]), max_size=10).map("".join),
                max_size=6))
def test_many_html_texts_tokenize_as_each_text_alone(texts):
    assert tokenize_many(texts, html=True) == [tokenize_words(t, html=True) for t in texts]
    assert tokenize_many(texts, html=2) == [tokenize_words(t, html=2) for t in texts]


@pytest.mark.parametrize("kind", ["word", "char", "bpe"])
def test_a_tokenizer_saved_before_html_decoding_reads_references_as_it_was_counted(kind):
    new = make_tokenizer(kind, min_freq=1).fit([_REVIEW] * 3)
    state = json.loads(json.dumps(new.to_dict()))
    assert state["html"] == 2                                              # HTML_INLINE: inline tags dropped too
    again = tokenizer_from_dict(state)
    assert again.encode(_REVIEW) == new.encode(_REVIEW) and again.to_dict() == new.to_dict()
    old_state = {k: v for k, v in state.items() if k != "html"}        # a vocab.json from before
    old = tokenizer_from_dict(old_state)
    assert "html" not in old_state and old.to_dict()["html"] is False
    pieces = old.pieces("caf&eacute; &amp;")
    if kind == "word":
        assert pieces == ["caf", "eacute", "amp"] and new.pieces("caf&eacute; &amp;") == ["café"]
    elif kind == "char":
        assert "".join(pieces) == "caf&eacute; &amp;" and "".join(new.pieces("caf&eacute; &amp;")) == "café &"
    else:
        assert "&" in pieces and "&" not in new.pieces("caf&eacute;") and "é" in "".join(new.pieces("caf&eacute;"))


def test_bpe_reads_special_tokens_written_in_a_text_as_text():
    # '<pad>' in a review was the padding id mid-text ('<PAD>' too, lower-cased), '<unk>' the unknown id
    pytest.importorskip("tokenizers")
    tok = make_tokenizer("bpe", min_freq=1, max_size=80).fit(["the pad and unk of a text x < y > z", "the PAD"] * 5)
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    copies = [again, pickle.loads(pickle.dumps(tok)), copy.deepcopy(tok)]     # a loaded run, a pickled estimator
    for text in ("the <pad> text", "a <PAD> text", "the <unk> text"):
        ids = tok.encode(text)
        assert PAD_ID not in ids and UNK_ID not in ids, (text, tok.pieces(text))
        assert all(c.encode(text) == ids for c in copies)
    assert UNK_ID in tok.encode("the ü text")            # a character it never saw is still <unk>


def _bpe_state():
    return make_tokenizer("bpe", min_freq=1, max_size=40).fit(["lower lowest newer newest"] * 5).to_dict()


def _bpe_vocab(state, vocab):
    return {**state, "tokenizer": {**state["tokenizer"], "model": {**state["tokenizer"]["model"], "vocab": vocab}}}


@pytest.mark.parametrize("edit, needle", [
    # without '<unk>' a text holding a character it never saw was a bare 'Unk token not found' Exception
    (lambda v: {t: (i if t not in ("<pad>", "<unk>") else 1 - i) for t, i in v.items()},
     "without '<pad>' as id 0"),
    (lambda v: {**{t: i for t, i in v.items() if t != "<unk>"}, "zz": 1}, "without '<unk>' as id 1"),
    (lambda v: {**v, "zz": 3}, "ids are not 0 to"),              # an id twice: the vocab property was a KeyError
])
def test_a_bpe_state_without_its_specials_at_their_ids_is_refused(edit, needle):
    pytest.importorskip("tokenizers")
    state = _bpe_state()
    vocab = state["tokenizer"]["model"]["vocab"]
    damaged = _bpe_vocab(state, edit(vocab))
    damaged["tokenizer"]["added_tokens"] = []
    with pytest.raises(LstmkitError, match="vocabulary state") as e:
        tokenizer_from_dict(json.loads(json.dumps(damaged)))
    assert needle in e.value.message and "retrain the model" in e.value.hint



# Each format character that shows nothing, inside a word: it cut the word in two ('co', 'operation') and
# was a character token of its own, where a soft hyphen was dropped; a zero-width joiner is kept in an emoji
INVISIBLES = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u2066", "\u2069", "\u2060", "\u00ad",
              "\ufeff", "\u180e", "\u061c"]


@pytest.mark.parametrize("mark", INVISIBLES, ids=[f"U+{ord(c):04X}" for c in INVISIBLES])
def test_every_invisible_format_character_is_dropped_by_every_tokenizer(mark):
    from lstmkit.tasks.translate.data import SideTokenizer
    text = f"the co{mark}operation {mark}works"
    assert tokenize_words(text) == tokenize_many([text])[0] == ["the", "cooperation", "works"]
    assert sorted(CharTokenizer().fit([text]).vocab.itos[2:]) == sorted(set("the cooperation works"))
    words = SideTokenizer("word", min_freq=1).fit([text])
    assert words.pieces(text) == ["the", "cooperation", "works"]
    assert words.decode(words.encode(text)) == "the cooperation works"          # a translation's round trip
    for bpe in (make_tokenizer("bpe", min_freq=1), SideTokenizer("bpe", min_freq=1)):
        bpe.fit([text, "the cooperation works"] * 3)
        assert bpe.pieces(text) == bpe.pieces("the cooperation works")
        assert bpe.encode(text) == bpe.encode("the cooperation works")


def test_a_zero_width_joiner_stays_inside_an_emoji_sequence_only():
    family, heart = "👨\u200d👩\u200d👧", "❤\ufe0f\u200d🔥"
    assert tokenize_words(f"{family} a\u200db {heart} \u200d👍") == [family, "ab", heart, "👍"]
    assert "\u200d" in CharTokenizer().fit([family]).vocab.itos


# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt) takes every format character (Cf) except
# the interlinear annotation characters U+FFF9..FFFB, the Egyptian hieroglyph format controls U+13430..1343F and
# the prepended concatenation marks (which show: an Arabic number sign, a Syriac abbreviation mark, ...).
_PREPENDED = {0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0x110BD, 0x110CD}
_IGNORABLE_CF = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and c not in _PREPENDED
                 and not 0xFFF9 <= c <= 0xFFFB and not 0x13430 <= c <= 0x1343F]


def test_every_default_ignorable_format_character_but_the_emoji_ones_is_dropped():
    """The zero-width joiner (kept inside an emoji sequence) and the tag characters (they complete a flag such
    as England's) are the exceptions; the shorthand format controls and musical beam marks cut words in two."""
    from lstmkit.data.vocab import normalize_text
    tags = {0xE0001, *range(0xE0020, 0xE0080)}
    kept = [f"U+{ord(c):04X}" for c in _IGNORABLE_CF if ord(c) not in tags and c != "\u200d"
            and normalize_text(f"co{c}operation") != "cooperation"]
    assert kept == []


@pytest.mark.parametrize("mark", ["\u200b", "\u00ad", "\u200e", "\u200d", "\U0001d173"])
def test_a_combining_mark_after_a_dropped_character_composes_with_the_letter_before(mark):
    """'cafe' + a zero-width space + a combining acute shows as 'café'; with the space dropped after NFKC, the
    'e' and the loose acute stayed two characters, a word other than the composed 'café' (U+00E9)."""
    from lstmkit.data.vocab import normalize_text
    text = f"cafe{mark}\u0301 ok"
    assert normalize_text(text) == "caf\u00e9 ok" and unicodedata.is_normalized("NFKC", normalize_text(text))
    assert tokenize_words(text) == tokenize_many([text])[0] == ["caf\u00e9", "ok"]
    assert CharTokenizer().fit(["caf\u00e9 ok"]).encode(text) == CharTokenizer().fit(["caf\u00e9 ok"]).encode("caf\u00e9 ok")


def test_symbols_are_tokens_without_spaceless_too():
    """``spaceless`` and ``symbols`` are two settings: with Thai read whole (``spaceless=False``) an emoji (a
    symbol, category So, with its variation selector) was still dropped, leaving its selector as a 'word'."""
    text = "หนังดีมาก ❤\ufe0f love 好看"
    assert unicodedata.category("❤") == "So"
    assert tokenize_words(text, spaceless=False) == ["หนังดีมาก", "❤\ufe0f", "love", "好", "看"]
    assert WordTokenizer(spaceless=False).tokens(text) == tokenize_words(text, spaceless=False)
    assert tokenize_words(text, spaceless=False, symbols=False) == ["หนังดีมาก", "\ufe0f", "love", "好", "看"]


@pytest.mark.parametrize("html", [False, True, 2])
def test_read_as_names_the_inline_tags_exactly_when_clean_text_drops_them(html):
    from lstmkit.data.vocab import HTML_INLINE, clean_text, read_as
    assert HTML_INLINE == 2
    dropped = clean_text("<i>Alien</i>", html=html) == "alien"
    assert dropped == (html == HTML_INLINE)
    assert ("inline tags" in read_as(True, html)) == dropped


def test_a_state_without_a_setting_reads_text_with_the_setting_lstmkit_had_before_it():
    """Lower-casing is older than the state's ``lowercase``; ``spaces`` (one space for a run of white space) came
    after BPE states were written, so one without it keeps a tab as it was counted. A tokenizer made now has both."""
    old = tokenizer_from_dict({k: v for k, v in _word_state().items() if k != "lowercase"})
    assert old.lowercase is True and old.tokens("The CAT") == ["the", "cat"]
    assert make_tokenizer("word").fit(["The CAT"]).vocab.itos[2:] == ["cat", "the"]
    pytest.importorskip("tokenizers")
    bpe = make_tokenizer("bpe", min_freq=1, max_size=40)
    assert bpe.clean("The\t cat ") == "the cat"
    state = bpe.fit(["the cat sat"] * 3).to_dict()
    before = tokenizer_from_dict({k: v for k, v in state.items() if k not in ("lowercase", "spaces")})
    assert before.clean("The\t cat ") == "the\t cat "

