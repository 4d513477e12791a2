"""deploy/seq2seq.py: the encoder and one-step decoder graphs of any attention encoder-decoder,
ids in (translation) or float features through a front module that changes lengths (speech's
conv subsampling), and OnnxSeq2Seq under the same beam search as the torch model. Untrained
models with fixed seeds: no training here."""
import json

import onnx
import pytest
import torch

pytest.importorskip("onnxruntime")

from lstmkit.deploy.onnx_engine import OnnxRunner  # noqa: E402
from lstmkit.deploy.seq2seq import (DECODER_FILE, ENCODER_FILE, EncoderGraph, OnnxSeq2Seq,  # noqa: E402
                                    export_graphs, token_source)
from lstmkit.errors import LstmkitError  # noqa: E402
from lstmkit.nn.seq2seq import ATTENTIONS, Seq2Seq, beam_search  # noqa: E402
from lstmkit.tasks.speech.model import SpeechSeq2Seq, receptive_field  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402

FEATURES = 6


def _speech(attention: str, subsample: int = 2, encoder: str = "bilstm") -> SpeechSeq2Seq:
    torch.manual_seed(0)
    return SpeechSeq2Seq(FEATURES, 9, subsample, channels=8, embed_dim=8, hidden_size=12, num_layers=1,
                         encoder=encoder, attention=attention, dropout=0.0).eval()


def _features(subsample: int):
    """A features source: ``[batch, R + 4 * steps, F]`` and lengths from the receptive field up."""
    least = receptive_field(subsample) if subsample else 1

    def source(batch, steps, seed):
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, least + 4 * steps, FEATURES, generator=g)
        lengths = torch.randint(least, x.shape[1] + 1, (batch,), generator=g)
        lengths[0] = x.shape[1]
        return x, lengths
    return source


def _open(folder) -> OnnxSeq2Seq:
    return OnnxSeq2Seq(OnnxRunner(folder / ENCODER_FILE), OnnxRunner(folder / DECODER_FILE))


@pytest.mark.parametrize("attention, subsample, encoder", [(a, 2, "bilstm") for a in ATTENTIONS]
                         + [("bahdanau", 0, "lstm"), ("general", 1, "gru")])
def test_features_through_a_front_decode_as_torch(tmp_path, attention, subsample, encoder):
    net = _speech(attention, subsample, encoder)
    report = export_graphs(net, tmp_path, "f" * 16, task="speech", source=_features(subsample), front="subsample")
    assert report["graphs"]["encoder"]["inputs"] == ["src", "src_len"] and report["max_abs_diff"] <= 1e-4
    assert json.loads(json.dumps(report)) == report                           # onnx.json is plain JSON
    engine = _open(tmp_path)
    assert engine.src_dtype.__name__ == "float32"
    x, lengths = _features(subsample)(4, 9, seed=7)                         # lengths the export never saw
    order = lengths.argsort(descending=True)
    x, lengths = x[order][:, : int(lengths.max())], lengths[order]
    for beam in (1, 3):
        want = beam_search(net, x, lengths, beam, 0.0, 0.5)
        got = beam_search(engine, x, lengths, beam, 0.0, 0.5)
        assert [h.ids for h in got] == [h.ids for h in want]
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-3)
    if attention != "none":                     # subsampled memory: attention over T' frames, as in torch
        assert got[0].attention.shape == want[0].attention.shape
        torch.testing.assert_close(got[0].attention, want[0].attention, atol=1e-4, rtol=0)


def test_the_encoder_graph_does_not_freeze_the_longest_length(tmp_path):
    """SpeechSeq2Seq.encode cuts the batch at int(lengths.max()); the graph must not keep that cut:
    a batch padded past its longest utterance answers as the unpadded one on the valid frames."""
    net = _speech("dot")
    export_graphs(net, tmp_path, "", task="speech", source=_features(2), front="subsample")
    engine = _open(tmp_path)
    x, lengths = _features(2)(2, 6, seed=3)
    lengths[:] = torch.tensor([19, 11])
    memory, (h, c, _) = engine.encode(x, lengths)                 # 31 frames -> 7 out frames; 19 -> 4, 11 -> 2
    cut, (h2, c2, _) = engine.encode(x[:, :19], lengths)
    assert memory.out.shape[1] == 7 and cut.out.shape[1] == 4
    torch.testing.assert_close(memory.out[:, :4], cut.out, atol=1e-5, rtol=0)
    assert not memory.mask[:, 4:].any() and memory.mask.sum(1).tolist() == [4, 2]
    torch.testing.assert_close(h, h2, atol=1e-5, rtol=0)
    torch.testing.assert_close(h, net.encode(x, lengths)[1][0], atol=1e-5, rtol=0)
    assert isinstance(EncoderGraph(net, net.subsample).front, torch.nn.Module)


def test_token_ids_default_source_and_metadata(tmp_path):
    torch.manual_seed(0)
    net = Seq2Seq(20, 15, embed_dim=8, hidden_size=8, num_layers=2, encoder="bilstm", attention="general",
                  dropout=0.0).eval()
    report = export_graphs(net, tmp_path, "a" * 16)
    assert report["files"] == [ENCODER_FILE, DECODER_FILE] and report["fingerprint"] == "a" * 16
    diffs = [report["graphs"][g]["max_abs_diff"] for g in ("encoder", "decoder")]
    assert diffs[0] != diffs[1] and report["max_abs_diff"] == max(diffs)      # the check of the worse graph
    meta = {p.key: p.value for p in onnx.load(tmp_path / ENCODER_FILE).metadata_props}
    assert meta["lstmkit_fingerprint"] == "a" * 16 and meta["lstmkit_task"] == "translate"
    engine = _open(tmp_path)
    assert engine.src_dtype.__name__ == "int64" and engine.keeps_feed
    src, lengths = token_source(20)(3, 6, seed=4)
    assert int(lengths[0]) == 6 and (src[1, int(lengths[1]):] == 0).all()       # padded past each length
    assert ([h.ids for h in beam_search(engine, src, lengths, 4)]
            == [h.ids for h in beam_search(net, src, lengths, 4)])


def test_a_graph_that_differs_from_torch_is_not_written(tmp_path):
    net = _speech("bahdanau")
    with pytest.raises(LstmkitError, match="differs from PyTorch"):
        export_graphs(net, tmp_path, "", tolerance=-1.0, task="speech", source=_features(2), front="subsample")
    assert not list(tmp_path.iterdir())                                        # no half-written graph


def test_the_example_source_is_the_vocabularys_ordinary_ids_padded_past_each_length():
    """A translator's example inputs: every id but the reserved ones (0-3: pad, unk, bos, eos) of the
    vocabulary, lengths in [1, steps] with the first row full, padding (0) past each length."""
    src, lengths = token_source(20)(64, 9, seed=0)
    inside = torch.arange(9)[None] < lengths[:, None]
    assert set(src[inside].tolist()) == set(range(4, 20)) and (src[~inside] == 0).all()
    assert int(lengths[0]) == 9 and 1 <= int(lengths.min()) < 9 and int(lengths.max()) == 9
