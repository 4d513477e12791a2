"""Reading recordings: manifests, file-name patterns, channel and rate conversion, bad files."""
import numpy as np
import pytest
import soundfile as sf

from lstmkit.errors import LstmkitError
from lstmkit.tasks.speech.data import Symbols, name_pattern, read_audio, read_utterances, resample
from speech_data import RATE


def _wav(path, wave, rate=8000):
    sf.write(path, wave, rate, subtype="PCM_16")
    return path


def test_manifest_paths_resolve_against_its_folder(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    _wav(tmp_path / "sub" / "x.wav", np.zeros(800, dtype=np.float32))
    (tmp_path / "m.csv").write_text("path,text\nsub/x.wav,ab c\n")
    monkeypatch.chdir("/")
    u = read_utterances(tmp_path / "m.csv")
    assert u.paths == [str(tmp_path / "sub" / "x.wav")] and u.texts == ["ab c"]


def test_a_header_with_spaces_after_the_commas_reads(tmp_path):
    # 'path, text' found its columns but read every transcript as empty ('the transcript of a.wav is empty')
    _wav(tmp_path / "a.wav", np.zeros(800))
    (tmp_path / "m.csv").write_text("path, text\na.wav, ab c\n")
    u = read_utterances(tmp_path / "m.csv")
    assert u.paths == [str(tmp_path / "a.wav")] and u.texts == ["ab c"]


def test_common_voices_tsv_keeps_the_quote_marks_of_its_sentences(tmp_path):
    """Common Voice's TSV quotes nothing: '"must see' ran on to the next quote mark, reading the
    rows between as its transcript, and '" the movie " is fine' lost its quote marks."""
    for name in "abcd":
        _wav(tmp_path / f"{name}.wav", np.zeros(800))
    sentences = ['"must see', "ok then", 'it was bad"', '" the movie " is fine']
    (tmp_path / "validated.tsv").write_text("path\tsentence\n" + "".join(f"{n}.wav\t{s}\n" for n, s in
                                                                          zip("abcd", sentences)))
    u = read_utterances(tmp_path / "validated.tsv")
    assert u.texts == sentences and len(u.paths) == 4
    (tmp_path / "quoted.tsv").write_text('path\tsentence\na.wav\t"say ""hi"" now"\nb.wav\tplain\n')   # a writer's quoting
    assert read_utterances(tmp_path / "quoted.tsv").texts == ['say "hi" now', "plain"]


def test_a_manifest_whose_lines_end_in_a_lone_carriage_return_reads(tmp_path):
    """Found by coverage-guided fuzzing: a classic Mac file (lines ended by '\\r' alone), or one '\\r' inside
    a row, ended in _csv.Error's traceback ('new-line character seen in unquoted field'); pandas, which
    reads every other table, ends a line there too."""
    _wav(tmp_path / "a.wav", np.zeros(800))
    _wav(tmp_path / "b.wav", np.zeros(800))
    (tmp_path / "m.csv").write_bytes(b"path,text\ra.wav,ab\rb.wav,c d\r")
    u = read_utterances(tmp_path / "m.csv")
    assert u.paths == [str(tmp_path / "a.wav"), str(tmp_path / "b.wav")] and u.texts == ["ab", "c d"]
    (tmp_path / "cut.csv").write_bytes(b"path,text\na.wav,ab\rb.wav,c d\n")
    assert read_utterances(tmp_path / "cut.csv").texts == ["ab", "c d"]


def test_a_utf16_manifest_reads_and_a_cp1252_one_names_its_line(tmp_path):
    """A spreadsheet's 'Unicode Text' (UTF-16 with a byte-order mark) and a Windows-1252 CSV were both
    'not a UTF-8 text manifest — pass a CSV with columns path,text': it was one."""
    _wav(tmp_path / "a.wav", np.zeros(800))
    _wav(tmp_path / "b.wav", np.zeros(800))
    (tmp_path / "m.tsv").write_bytes("path\ttext\na.wav\tcafé\nb.wav\tab\n".encode("utf-16"))
    assert read_utterances(tmp_path / "m.tsv").texts == ["café", "ab"]
    (tmp_path / "m.csv").write_bytes("path,text\na.wav,ab\nb.wav,café\n".encode("cp1252"))
    with pytest.raises(LstmkitError, match=r"m.csv line 3 is not valid UTF-8 \(byte 0xe9\): a manifest is read as "
                                           r"UTF-8 — save it as UTF-8"):
        read_utterances(tmp_path / "m.csv")


@pytest.mark.parametrize("ext", [".xlsx", ".parquet"])
def test_a_workbook_or_parquet_manifest_reads_as_the_csv_does(tmp_path, ext):
    """A manifest kept in a spreadsheet was 'not a UTF-8 text manifest'; a transcript of digits
    stays '7', not '7.0'."""
    import pandas as pd
    (tmp_path / "sub").mkdir()
    for name in ("x", "y"):
        _wav(tmp_path / "sub" / f"{name}.wav", np.zeros(800, dtype=np.float32))
    frame = pd.DataFrame({"path": ["sub/x.wav", "sub/y.wav"], "text": [7, 12]})
    frame.to_excel(tmp_path / f"m{ext}", index=False) if ext == ".xlsx" else frame.to_parquet(tmp_path / f"m{ext}")
    u = read_utterances(tmp_path / f"m{ext}")
    assert u.paths == [str(tmp_path / "sub" / f"{n}.wav") for n in "xy"] and u.texts == ["7", "12"]


def test_folder_labels_from_names(tmp_path):
    for name in ("7_jackson_0.wav", "3_theo_12.wav", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    u = read_utterances(tmp_path, "{label}_{speaker}_{take}")
    assert u.texts == ["3", "7"]
    assert u.fields[1] == {"label": "7", "speaker": "jackson", "take": "0"}


def test_name_pattern_needs_a_label_and_matches_whole_stems():
    with pytest.raises(LstmkitError, match="label"):
        name_pattern("{speaker}_{take}")
    assert name_pattern("{label}_{speaker}").match("a_b_c").groupdict() == {"label": "a", "speaker": "b_c"}
    assert name_pattern("{label}-x").match("a_b") is None


@pytest.mark.parametrize("pattern, words", [("{label}{take}", "puts two fields side by side"),
                                            ("{label}_{take}.wav", r"ends in '.wav'.*drop it: '\{label\}_\{take\}'")])
def test_a_pattern_that_cannot_read_the_names_right_is_refused(pattern, words):
    """'{label}{take}' read 'yes01' as the label 'y' without a word; '.wav' matched no name at all."""
    with pytest.raises(LstmkitError, match=words):
        name_pattern(pattern)


def test_file_name_not_matching_the_pattern_is_named(tmp_path):
    (tmp_path / "7_jackson_0.wav").write_bytes(b"")
    (tmp_path / "oops.wav").write_bytes(b"")
    with pytest.raises(LstmkitError, match="oops.wav"):
        read_utterances(tmp_path, "{label}_{speaker}_{take}")


def test_stereo_is_mixed_down_and_other_rates_resampled_with_notes(tmp_path):
    t = np.arange(16000) / 16000
    left = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, np.zeros_like(left)], 1), 16000, subtype="FLOAT")
    wave, rate, notes = read_audio(path, 8000)
    assert rate == 8000 and wave.shape == (8000,)
    assert [(n.file, n.what, n.peak) for n in notes] == [("st.wav", "2 channels mixed down to mono", None),
                                                         ("st.wav", "resampled from 16000 Hz to 8000 Hz", None)]
    # the mix is the mean of the channels, and the 440 Hz tone survives resampling
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * 8000 / wave.size - 440) < 2
    assert np.isclose(np.abs(wave[1000:7000]).max(), 0.25, atol=0.01)


def test_resample_keeps_duration():
    x = np.random.default_rng(0).standard_normal(44100).astype(np.float32)
    assert resample(x, 44100, 16000).shape == (16000,)
    assert resample(x, 8000, 8000) is x


def test_a_sample_rate_under_1000_hz_is_refused_not_stretched_to_minutes(tmp_path):
    path = _wav(tmp_path / "low.wav", np.zeros(2700), rate=7)     # 0.3 s of samples at "7 Hz" = 6 minutes at 8 kHz
    with pytest.raises(LstmkitError, match=r"low.wav says its sample rate is 7 Hz, under the 1000 Hz"):
        read_audio(path, 8000)
    with pytest.raises(LstmkitError, match="7 Hz"):
        read_audio(path, None)


@pytest.mark.parametrize("content, words", [
    (None, ["not found", "missing.wav"]),
    (b"RIFF\x00\x00garbage", ["bad.wav", "unreadable"]),
    (b"hello, not audio", ["notes.txt", "not a WAV"]),
])
def test_missing_unreadable_and_non_wav_files(tmp_path, content, words):
    name = words[1] if content is None else words[0]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LstmkitError) as err:
        read_audio(path, 8000)
    for w in words:
        assert w in str(err.value)


def test_a_recording_listed_twice_is_read_once_with_a_warning(tmp_path):
    for name in ("a", "b", "c"):
        _wav(tmp_path / f"{name}.wav", np.zeros(800))
    (tmp_path / "m.csv").write_text(f"path,text\na.wav,ab\nb.wav,c\n./a.wav,ab\n{tmp_path}/a.wav,ab\nc.wav,d\n")
    with pytest.warns(UserWarning, match=r"lists 2 recording\(s\) more than once \(first: a.wav\)"):
        utts = read_utterances(tmp_path / "m.csv")
    assert [p.rsplit("/", 1)[1] for p in utts.paths] == ["a.wav", "b.wav", "c.wav"] and utts.texts == ["ab", "c", "d"]
    (tmp_path / "clash.csv").write_text("path,text\na.wav,ab\nb.wav,c\na.wav,ba\n")
    with pytest.raises(LstmkitError, match=r"clash.csv gives \S*/a.wav two transcripts: 'ab' and 'ba'"):
        read_utterances(tmp_path / "clash.csv")


@pytest.mark.parametrize("data", [["a.wav"], [("a.wav", "ab", "x")], [("a.wav",)], [None]])
def test_a_list_that_is_not_path_text_pairs_is_named(data):
    with pytest.raises(LstmkitError, match=r"utterance 0 is .*, not a \(path, text\) pair"):
        read_utterances(data)


@pytest.mark.parametrize("data, name", [(np.zeros((2, 8000)), "ndarray"), (None, "NoneType"), (3, "int")])
def test_data_that_is_no_manifest_nor_pairs_is_named_not_a_type_error(data, name):
    """Path(array) and Path(None) were bare TypeErrors from fit and evaluate."""
    with pytest.raises(LstmkitError, match=rf"must be a manifest, a folder or \(path, text\) pairs, got {name}"):
        read_utterances(data)


def test_a_path_to_text_dict_reads_as_its_pairs(tmp_path):
    a, b = _wav(tmp_path / "a.wav", np.zeros(800)), _wav(tmp_path / "b.wav", np.zeros(800))
    utts = read_utterances({str(a): "ab", str(b): "c"})
    assert utts.paths == [str(a), str(b)] and utts.texts == ["ab", "c"]
    with pytest.raises(LstmkitError, match="the transcript of .*a.wav is missing"):
        read_utterances({str(a): None})


def test_a_dataframe_reads_as_its_manifest_and_a_missing_transcript_is_named(tmp_path, monkeypatch):
    """A DataFrame was a bare TypeError (Path(frame)); a pair's NaN transcript became the text
    'nan' and was then refused for the model's missing symbol 'n'."""
    import pandas as pd
    for name in ("a", "b"):
        _wav(tmp_path / f"{name}.wav", np.zeros(800))
    monkeypatch.chdir(tmp_path)
    frame = pd.DataFrame({"path": ["a.wav", str(tmp_path / "b.wav")], "text": ["ab", "c d"], "speaker": [1, 2]})
    utts = read_utterances(frame)
    assert utts.paths == [str(tmp_path / "a.wav"), str(tmp_path / "b.wav")] and utts.texts == ["ab", "c d"]
    with pytest.raises(LstmkitError, match=r"the DataFrame given needs the columns path,text "
                                           r"\(found: file, text, speaker\) — rename"):
        read_utterances(frame.rename(columns={"path": "file"}))
    with pytest.raises(LstmkitError, match="the transcript of .*b.wav is empty"):
        read_utterances(frame.assign(text=["ab", None]))
    for missing in (float("nan"), None):
        with pytest.raises(LstmkitError, match=r"the transcript of b.wav is missing \((nan|None)\)"):
            read_utterances([("a.wav", "ab"), ("b.wav", missing)])


def test_a_transcript_cut_by_an_unquoted_comma_is_named_not_shortened(tmp_path):
    """'a.wav,yes, please' read as the text 'yes': csv put ' please' under no column, silently."""
    _wav(tmp_path / "a.wav", np.zeros(800))
    (tmp_path / "m.csv").write_text('path,text\n"a.wav","ab, c"\na.wav,ab, c d\n')
    with pytest.raises(LstmkitError, match=r"m.csv line 3 holds 1 more cell\(s\) than the header \(path, text\): "
                                           r"its text 'ab' would lose ' c d' after an unquoted ','.*double quotes"):
        read_utterances(tmp_path / "m.csv")
    (tmp_path / "ok.tsv").write_text('path\ttext\na.wav\tab, c\t\t\n')        # empty cells at the end: nothing lost
    assert read_utterances(tmp_path / "ok.tsv").texts == ["ab, c"]


def test_every_missing_recording_is_counted_before_any_is_read(tmp_path):
    """Only the first missing file was named, after every file before it had been read: a manifest
    with many gone took one run per missing file to fix."""
    _wav(tmp_path / "a.wav", np.zeros(800))
    rows = "".join(f"gone{k}.wav,ab\n" for k in range(5))
    (tmp_path / "m.csv").write_text(f"path,text\na.wav,ab\n{rows}")
    with pytest.raises(LstmkitError, match=r"5 of the 6 audio files listed are not found: \S*gone0.wav, \S*gone1.wav, "
                                           r"\S*gone2.wav, … — check the paths"):
        read_utterances(tmp_path / "m.csv")
    with pytest.raises(LstmkitError, match=r"^audio file not found: \S*gone1.wav — check the path"):
        read_utterances([(str(tmp_path / "a.wav"), "ab"), (str(tmp_path / "gone1.wav"), "c")])


def test_files_given_one_by_one_get_their_own_hints(tmp_path):
    """transcribe's files: an unexpanded shell pattern, and a manifest passed as audio, were told
    to check 'manifest paths' and to convert the file to WAV."""
    from lstmkit.tasks.speech.data import check_files_exist
    with pytest.raises(LstmkitError, match=r"no file matches \S*clip\*.wav \(the shell passed the pattern on"):
        check_files_exist([str(tmp_path / "clip*.wav")], listed=False)
    with pytest.raises(LstmkitError, match=r"^audio file not found: \S*a.wav — check the path$"):
        check_files_exist([str(tmp_path / "a.wav")], listed=False)
    with pytest.raises(LstmkitError, match=r"2 of the 2 audio files given are not found: .* — check the paths$"):
        check_files_exist([str(tmp_path / "a.wav"), str(tmp_path / "b.wav")], listed=False)
    (tmp_path / "m.csv").write_text("path,text\na.wav,ab\n")
    with pytest.raises(LstmkitError, match="m.csv is not a WAV file .* a manifest is --data of 'speech evaluate'"):
        read_audio(tmp_path / "m.csv", 8000)


def test_a_pattern_the_shell_did_not_expand_reads_the_files_it_matches(tmp_path):
    """A quoted 'clips/*.wav' (or one typed in cmd.exe, which expands no pattern) was 'no file matches
    clips/*.wav' while clips/ held WAVs; a file named with a wildcard is still itself."""
    from lstmkit.tasks.speech.data import audio_paths
    for name in ("b.wav", "a.wav", "c.flac", "[1].wav"):
        sf.write(tmp_path / name, np.zeros(800), RATE)
    assert audio_paths(str(tmp_path / "*.wav")) == [str(tmp_path / n) for n in ("[1].wav", "a.wav", "b.wav")]
    assert audio_paths([tmp_path / "[1].wav", str(tmp_path / "?.flac")]) == [str(tmp_path / "[1].wav"),
                                                                                 str(tmp_path / "c.flac")]
    with pytest.raises(LstmkitError, match=r"no file matches \S*\*.mp3 \(the shell passed the pattern on"):
        audio_paths(str(tmp_path / "*.mp3"))


def test_empty_manifest_and_missing_columns(tmp_path):
    (tmp_path / "empty.csv").write_text("path,text\n")
    with pytest.raises(LstmkitError, match="empty"):
        read_utterances(tmp_path / "empty.csv")
    (tmp_path / "cols.csv").write_text("file,label\na.wav,x\n")
    with pytest.raises(LstmkitError, match="path,text"):
        read_utterances(tmp_path / "cols.csv")


def test_symbols_round_trip_and_unknown_symbols():
    s = Symbols.fit(["ab c", "ca"])
    assert s.tokens == ["<blank>", " ", "a", "b", "c"]
    assert s.decode(s.encode("cab a")) == "cab a"
    assert Symbols.from_dict(s.to_dict()).chars == s.chars
    with pytest.raises(LstmkitError, match="'z'"):
        s.encode("az", " of x.wav")


def test_a_transcript_has_its_words_one_space_apart_and_no_space_at_either_end():
    """CTC writes a space, a blank, a space ... through a pause: a clip of silence was transcribed as
    '           ', a minute of it around two words as hundreds of spaces (in transcribe's output and the
    service's answers; WER and CER were scored without them)."""
    s = Symbols.fit(["ab c"])
    space, blank = s.index[" "], 0
    ids = [space, blank, space, *s.encode("ab"), space, blank, space, blank, space, *s.encode("c"), space, blank]
    assert s.decode(ids) == "ab c"
    assert s.decode([space, blank, space, blank, space]) == ""


def test_a_folder_of_mp3_or_opus_files_is_read_and_other_files_are_named(tmp_path):
    """libsndfile reads MP3 and Opus: a folder of them trains as a folder of WAVs does; a folder of
    files it cannot read says what the folder holds instead of 'no .wav files'."""
    wave = (0.3 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    sf.write(tmp_path / "yes_s1_0.mp3", wave, 16000)
    sf.write(tmp_path / "no_s1_0.opus", wave, 16000, format="OGG", subtype="OPUS")
    u = read_utterances(tmp_path, "{label}_{speaker}_{take}")
    assert u.texts == ["no", "yes"]
    assert all(read_audio(p, 16000)[0].size > 7000 for p in u.paths)
    other = tmp_path / "m4a"
    other.mkdir()
    (other / "yes_s1_0.m4a").write_bytes(b"\0\0\0 ftypM4A ")
    with pytest.raises(LstmkitError, match=r"no audio files \(.wav.*\.mp3.*\.aiff.*\).*holds 1 \.m4a.*ffmpeg"):
        read_utterances(other, "{label}_{speaker}_{take}")


def test_a_folder_given_as_an_audio_file_is_named_as_a_folder(tmp_path):
    """'speech transcribe --run R recordings/' said 'audio file not found' of a folder that exists."""
    with pytest.raises(LstmkitError, match="is a folder, not an audio file — pass the files in it"):
        read_audio(tmp_path, 16000)
    with pytest.raises(LstmkitError, match="audio file not found"):
        read_audio(tmp_path / "gone.wav", 16000)


def test_common_voice_and_windows_manifests_are_read(tmp_path):
    """Common Voice's TSV (client_id, path, sentence, …; clips under clips/) and a CSV written on
    Windows (wavs\\a.wav) name their recordings; both were 'needs the columns' / 'not found'."""
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "cv_1.mp3").write_bytes(b"")
    (tmp_path / "train.tsv").write_text("client_id\tpath\tsentence\tup_votes\nab12\tcv_1.mp3\tHello there.\t2\n")
    u = read_utterances(tmp_path / "train.tsv")
    assert u.paths == [str(tmp_path / "clips" / "cv_1.mp3")] and u.texts == ["Hello there."]
    (tmp_path / "wavs").mkdir()
    (tmp_path / "wavs" / "a.wav").write_bytes(b"")
    (tmp_path / "win.csv").write_text("path,text\r\nwavs\\a.wav,a b\r\n")
    assert read_utterances(tmp_path / "win.csv").paths == [str(tmp_path / "wavs" / "a.wav")]


def test_a_quoted_header_over_a_literal_tsv_manifest_names_its_columns(tmp_path):
    """'"path"<TAB>"sentence"' over transcripts whose quote marks are text was 'needs the columns
    path,text (found: "path", "sentence")'; the header is unquoted, the transcripts kept as written."""
    (tmp_path / "clips").mkdir()
    for name in ("a.wav", "b.wav"):
        (tmp_path / "clips" / name).write_bytes(b"")
    (tmp_path / "m.tsv").write_text('"path"\t"sentence"\nclips/a.wav\t"must see\nclips/b.wav\tsay "hi" now\n')
    u = read_utterances(tmp_path / "m.tsv")
    assert u.texts == ['"must see', 'say "hi" now'] and u.paths == [str(tmp_path / "clips" / "a.wav"),
                                                                   str(tmp_path / "clips" / "b.wav")]


def test_float_audio_beyond_one_is_kept_as_it_is_with_one_warning(tmp_path, tiny):
    """A float WAV whose samples reach 3 was read without a word: it is still read as it is (not
    clipped, not scaled), its note carries the peak as a number (nothing parses text), and one
    warning names the file, its peak and the fix; 16-bit files and float files within [-1, 1] give
    none, and a loud file is not counted as converted."""
    from lstmkit import SpeechRecognizer
    from lstmkit.tasks.speech.data import AudioNote, report_notes
    from lstmkit.tasks.speech.features import FeatureSpec, Normalizer, log_mel
    from speech_data import write_manifest
    manifest = write_manifest(tmp_path, 12, seed=3)
    quiet, _ = sf.read(tmp_path / "wavs" / "manifest_4.wav", dtype="float32")
    sf.write(tmp_path / "wavs" / "manifest_4.wav", 3 * quiet / np.abs(quiet).max(), RATE, subtype="FLOAT")
    sf.write(tmp_path / "wavs" / "manifest_7.wav", 0.9 * quiet / np.abs(quiet).max(), RATE, subtype="FLOAT")
    wave, _, notes = read_audio(tmp_path / "wavs" / "manifest_4.wav", None)
    assert np.isclose(np.abs(wave).max(), 3.0) and [(n.file, n.what) for n in notes] == [
        ("manifest_4.wav", "float samples beyond [-1, 1]")] and np.isclose(notes[0].peak, 3.0)
    assert read_audio(tmp_path / "wavs" / "manifest_7.wav", None)[2] == []
    assert read_audio(tmp_path / "wavs" / "manifest_5.wav", None)[2] == []
    spec = FeatureSpec(rate=RATE, n_mels=20)        # the features of a louder file: a constant offset, normalised away
    same = Normalizer("utterance")(log_mel(wave, spec)), Normalizer("utterance")(log_mel(wave / 3, spec))
    assert np.isfinite(same[0]).all() and np.allclose(*same, atol=0.05)
    with pytest.warns(UserWarning, match=r"^manifest_4.wav and 1 more \(loudest peak 5\): float samples reach 3, beyond "
                                         r"the \[-1, 1\] of audio: read as they are \(not clipped\), 14 dB .* normalise them to peak 1"):
        report_notes([*notes, AudioNote("b.wav", "float samples beyond [-1, 1]", 5.0)])
    with pytest.warns(UserWarning, match=r"manifest_4.wav: float samples reach 3, beyond .* normalise it") as said:
        est = SpeechRecognizer(**{**tiny, "max_epochs": 1}).fit(manifest)
    assert sum("float samples" in str(w.message) for w in said) == 1 and est.data_summary_["converted"] == 0


def test_a_truncated_wav_is_read_as_far_as_it_goes_with_one_warning(tmp_path):
    """A WAV cut short (its header promising twice the audio) was read without a word."""
    import struct
    from lstmkit.tasks.speech.data import report_notes
    full = _wav(tmp_path / "full.wav", 0.1 * np.sin(np.arange(8000)), RATE).read_bytes()     # no DC offset to note
    (tmp_path / "cut.wav").write_bytes(full[: len(full) // 2])
    streamed = bytearray(full)                 # a writer that cannot seek back leaves 0xffffffff
    at = streamed.find(b"data")
    streamed[at + 4: at + 8] = struct.pack("<I", 0xFFFFFFFF)
    (tmp_path / "streamed.wav").write_bytes(bytes(streamed))
    wave, _, notes = read_audio(tmp_path / "cut.wav", None)
    assert wave.size == (len(full) // 2 - 44) // 2 and [n.promised for n in notes] == [pytest.approx(1.0)]
    with pytest.warns(UserWarning, match=r"cut.wav: truncated: its header promises 1.00 s, the file holds 0.50 s; "
                                         r"read as far as it goes.*copy or export it again"):
        report_notes(notes)
    for name in ("full.wav", "streamed.wav"):
        assert read_audio(tmp_path / name, None)[2] == []


def test_a_wav_whose_writer_never_filled_in_its_sizes_is_named_unfinished(tmp_path):
    """Sizes left at 0 by a recorder that stopped: 'holds no audio samples, re-record it' was wrong."""
    import struct
    full = bytearray(_wav(tmp_path / "a.wav", 0.1 * np.ones(4000), RATE).read_bytes())
    at = full.find(b"data")
    full[4:8] = full[at + 4: at + 8] = struct.pack("<I", 0)
    (tmp_path / "unfinished.wav").write_bytes(bytes(full))
    with pytest.raises(LstmkitError, match=r"unfinished.wav was never finished: its header says it holds no audio, "
                                           r"yet the file is 8,044 bytes long.*sox --ignore-length"):
        read_audio(tmp_path / "unfinished.wav", None)
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), RATE)
    with pytest.raises(LstmkitError, match="empty.wav holds no audio samples"):
        read_audio(tmp_path / "empty.wav", 16000)


def test_audio_paths_take_bytes_and_path_like_paths(tmp_path):
    """A bytes path was iterated into its byte values: 'transcribe takes audio file paths, got int 97'."""
    from lstmkit.tasks.speech.data import audio_paths
    a = str(_wav(tmp_path / "a.wav", np.zeros(800)))
    assert audio_paths(a.encode()) == audio_paths([a.encode(), tmp_path / "a.wav"])[:1] == [a]
    with pytest.raises(LstmkitError, match="got int '3'"):
        audio_paths([a, 3])


def test_a_pattern_for_data_that_is_no_folder_is_refused(tmp_path):
    """fit and evaluate read a manifest's texts and ignored --label-from-name without a word."""
    from lstmkit.tasks.speech.data import check_pattern_applies
    (tmp_path / "m.csv").write_text("path,text\n")
    for data in (tmp_path / "m.csv", [("a.wav", "yes")]):
        with pytest.raises(LstmkitError, match="--label-from-name applies to a folder of recordings"):
            check_pattern_applies("{label}_{take}", data)
    check_pattern_applies("{label}_{take}", tmp_path / "m.csv", tmp_path)      # a folder among them: used there
    check_pattern_applies(None, tmp_path / "m.csv")


def test_a_manifest_of_urls_is_named_not_joined_to_its_folder(tmp_path):
    """A URL was joined to the manifest's folder: 'audio file not found: .../https:/host/a.wav'."""
    (tmp_path / "urls.csv").write_text("path,text\nhttps://example.org/clips/a.wav,yes\n")
    with pytest.raises(LstmkitError, match=r"urls.csv lists a URL \(https://example.org/clips/a.wav\): "
                                           r"recordings are read from local files only"):
        read_utterances(tmp_path / "urls.csv")



def test_transcripts_are_read_in_one_unicode_form(tmp_path):
    """'é' as one character (NFC) and as e + U+0301 (NFD: macOS file names) were different symbols:
    a model trained on one form scored the other 'nothing to score'."""
    import unicodedata
    a = str(_wav(tmp_path / "a.wav", np.zeros(800)))
    nfd = unicodedata.normalize("NFD", "déjà vu")
    assert len(nfd) == 9 and read_utterances([(a, nfd)]).texts == ["d\u00e9j\u00e0 vu"]
    (tmp_path / "m.csv").write_text(f"path,text\na.wav,{nfd}\n", encoding="utf-8")
    assert read_utterances(tmp_path / "m.csv").texts == ["d\u00e9j\u00e0 vu"]


def test_a_manifest_path_in_the_other_unicode_form_is_found(tmp_path):
    """A file copied from macOS keeps 'é' as e + U+0301 in its name; the manifest types it as one character."""
    import unicodedata
    nfd = _wav(tmp_path / unicodedata.normalize("NFD", "café.wav"), np.zeros(800))
    (tmp_path / "m.csv").write_text("path,text\ncafé.wav,yes\n", encoding="utf-8")
    assert read_utterances(tmp_path / "m.csv").paths == [str(nfd)]


def _whole_read(path, rate):
    """What read_audio did before it read in blocks: the whole file, its channels' mean, resampled."""
    wave, sr = sf.read(path, dtype="float32", always_2d=True)
    return resample(wave.mean(axis=1), sr, rate)


@pytest.mark.parametrize("channels, subtype", [(1, "PCM_16"), (2, "PCM_16"), (3, "FLOAT")])
def test_reading_in_blocks_equals_reading_whole(tmp_path, monkeypatch, channels, subtype):
    from lstmkit.tasks.speech import audio_files, resampling
    monkeypatch.setattr(audio_files, "_READ_FRAMES", 1000)
    monkeypatch.setattr(resampling, "_STEP", 4000)
    rng = np.random.default_rng(0)
    path = tmp_path / "a.wav"
    sf.write(path, 0.3 * rng.standard_normal((44_100, channels)), 44_100, subtype=subtype)
    for rate in (16_000, 44_100):
        wave, got_rate, _ = read_audio(path, rate)
        assert got_rate == rate
        np.testing.assert_array_equal(wave, _whole_read(path, rate))


def test_a_long_stereo_file_is_never_held_whole(tmp_path):
    """A 20-minute 44.1 kHz stereo file took 1.2 GB to read (the whole file, its absolute values, the mix);
    read in blocks, the peak is the output at the model's rate and a few blocks (45 -> 8 MiB at 60 s)."""
    import tracemalloc
    path = tmp_path / "long.wav"
    stereo = (0.1 * np.random.default_rng(0).standard_normal((60 * 44_100, 2))).astype(np.float32)
    sf.write(path, stereo, 44_100, subtype="PCM_16")
    read_audio(path, 16_000)                 # imports and caches outside the measure
    tracemalloc.start()
    try:
        wave, _, _ = read_audio(path, 16_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * wave.nbytes < stereo.nbytes


def test_a_manifest_path_that_differs_from_the_file_in_case_only_names_the_file(tmp_path):
    """A manifest written on Windows or macOS ('a.wav' for 'a.WAV', which matched there) was 'audio file
    not found: .../a.wav, check the path' on Linux, with the file beside it."""
    _wav(tmp_path / "a.WAV", np.zeros(800))
    _wav(tmp_path / "b.wav", np.zeros(800))
    (tmp_path / "m.csv").write_text("path,text\na.wav,ab\nb.wav,c\n")
    with pytest.raises(LstmkitError, match=r"audio file not found: .*/a.wav \(a.WAV is there\) — names are "
                                           r"case-sensitive here: write the name as it is on disk \(a.WAV\)"):
        read_utterances(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("path,text\na.wav,ab\nB.wav,c\n")
    with pytest.raises(LstmkitError, match=r"2 of the 2 audio files listed are not found: .*a.wav, .*B.wav "
                                           r"\(a.WAV is there\) — names are case-sensitive"):
        read_utterances(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_text("path,text\nc.wav,ab\nb.wav,c\n")
    with pytest.raises(LstmkitError, match=r"audio file not found: .*/c.wav — check the path"):
        read_utterances(tmp_path / "m.csv")


def test_a_windows_manifests_accented_path_resolves_and_a_missing_one_is_named_as_written(tmp_path):
    """wavs\\café.wav in a manifest written on Windows is wavs/café.wav; the name's other Unicode form is
    taken only where a file of that name is there: a missing recording keeps the path the manifest gives."""
    import unicodedata

    from lstmkit.tasks.speech.manifest import read_manifest
    (tmp_path / "wavs").mkdir()
    (tmp_path / "wavs" / "café.wav").write_bytes(b"")
    (tmp_path / "m.csv").write_text("path,text\r\nwavs\\café.wav,a\r\ngone.wav,b\r\nné.wav,c\r\n", encoding="utf-8")
    paths = read_manifest(tmp_path / "m.csv").paths
    assert paths == [str(tmp_path / "wavs" / "café.wav"), str(tmp_path / "gone.wav"), str(tmp_path / "né.wav")]
    assert unicodedata.is_normalized("NFC", paths[2])


def test_a_manifest_with_a_path_column_but_no_transcripts_is_refused(tmp_path):
    """A path column alone (or with a label column) gives no transcripts: empty ones would train on nothing."""
    from lstmkit.tasks.speech.manifest import read_manifest
    for header in ("path,label", "file,text"):
        (tmp_path / "m.csv").write_text(f"{header}\na.wav,yes\n")
        with pytest.raises(LstmkitError, match=f"needs the columns path,text \\(found: {header.replace(',', ', ')}\\)"):
            read_manifest(tmp_path / "m.csv")


def test_a_random_split_holds_out_at_least_one_recording_and_trains_on_at_least_one():
    """Without list files, split holds out round(val_frac * n) recordings, at least one and at most n - 1:
    two recordings are one for each part, and one alone is refused."""
    from lstmkit.tasks.speech.manifest import Utterances
    names = [f"{k}.wav" for k in range(5)]
    for n, frac, held in [(2, 0.1, 1), (2, 0.9, 1), (3, 0.9, 2), (5, 0.4, 2), (5, 0.5, 2)]:   # round(2.5) is 2
        train, val = Utterances(names[:n], list("abcde")[:n]).split(frac, seed=3)
        assert (len(train), len(val)) == (n - held, held)
        assert sorted(train.paths + val.paths) == names[:n] and train.paths == sorted(train.paths)
        assert train.texts == [list("abcde")[names.index(p)] for p in train.paths]
    with pytest.raises(LstmkitError, match="only 1 recording given"):
        Utterances(names[:1], ["a"]).split(0.5, seed=0)


def test_a_utf32_manifest_and_a_tsv_header_with_a_comma_read(tmp_path):
    """A byte-order mark names UTF-32 (4 bytes, whose first two are UTF-16's mark) as it names UTF-16; a .tsv
    manifest is split at its tabs even where a column's name holds a comma."""
    from lstmkit.tasks.speech.manifest import read_manifest
    (tmp_path / "m.csv").write_bytes("path,text\na.wav,café\n".encode("utf-32"))
    assert read_manifest(tmp_path / "m.csv").texts == ["café"]
    (tmp_path / "m.tsv").write_text("path\ttext\tspeaker, age\na.wav\tab\ts1, 30\n")
    assert read_manifest(tmp_path / "m.tsv").texts == ["ab"]
