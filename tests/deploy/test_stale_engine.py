"""A run's exported engine never answers for weights it was not exported from, after any way the torch weights
change: a refit of a loaded model, a refit saved over its own folder, a model whose folder another model was saved
and exported over, a failed refit, an int8 translator refit after load. Each test compares what the deployed engine
answers with the torch answer of the weights the model holds now (``lstmkit/run_tie.py``)."""
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from estimator_data import NAMES, fitted_per_name  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net  # noqa: E402
from lstmkit.deploy.registry import adapter_class  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)

GRAPHS = ("model.onnx", "encoder.onnx", "decoder.onnx", "onnx.json", "export_report.json")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (run folder exported to ONNX, fit arguments, predict input), fitted on first use."""
    def finish(est, args, x, folder):
        est.export("onnx")
        return est.run_dir_, args, x
    return fitted_per_name(tmp_path_factory, finish)


def _answers(est):
    """What the engine ``auto`` answers for ``est`` and what its torch network answers, on the same inputs."""
    adapter = adapter_class(est.TASK)(est)
    net = engine_net(adapter, "auto", est._answering_run())     # the run folder predict and stream() answer from
    if net is adapter.net:
        return None, None                       # torch answers: nothing stale can
    x = adapter.example_inputs(4)
    with torch.no_grad():
        return net(x).numpy(), adapter.net(x).numpy()


def _refit(est, args):
    est.set_params(seed=7, max_epochs=2)
    return est.fit(*args)


@pytest.mark.parametrize("name", NAMES)
def test_refit_after_load_answers_with_its_new_weights(exported, name):
    run, args, _ = exported(name)
    est = _refit(lstmkit.load(run), args)
    engine, own = _answers(est)
    assert engine is None, name                  # refit in memory: no run folder holds its weights, torch answers


@pytest.mark.parametrize("name", NAMES)
def test_refit_saved_over_its_folder_leaves_no_graph_claiming_it(exported, name, tmp_path):
    import shutil
    run, args, _ = exported(name)
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    est = _refit(lstmkit.load(copy), args)
    est.save(copy, overwrite=True)
    assert [f for f in GRAPHS if (copy / f).exists()] == []
    served = adapter_class(est.TASK).load(copy)
    assert engine_net(served, "auto", copy) is served.net      # `serve --run` answers with the new weights


@pytest.mark.parametrize("name", NAMES)
def test_model_whose_folder_was_saved_over_and_exported_keeps_its_own_weights(exported, name, tmp_path):
    import shutil
    run, args, _ = exported(name)
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    old = lstmkit.load(copy)
    newer = _refit(lstmkit.load(copy), args)
    newer.save(copy, overwrite=True)
    newer.export("onnx")                          # a graph of the newer weights, fresh for the folder
    with pytest.warns(UserWarning, match="holds other weights than this model's now"):
        engine, own = _answers(old)
    assert engine is None, name                  # the newer graph answered for the old model's weights


def test_forecaster_predict_after_its_folder_was_saved_over(exported, tmp_path):
    import shutil
    run, args, x = exported("Forecaster")
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    old = lstmkit.load(copy)
    newer = _refit(lstmkit.load(copy), args)
    newer.save(copy, overwrite=True)
    newer.export("onnx")
    with pytest.warns(UserWarning, match="holds other weights"):
        auto = old.predict(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # the torch engine asked for: nothing to say
        torch_answer = old.predict(x, engine="torch")
    assert np.array_equal(auto.to_numpy(), torch_answer.to_numpy())
    assert not np.allclose(auto.to_numpy(dtype=float), newer.predict(x).to_numpy(dtype=float))


def test_failed_refit_answers_as_its_network_does(exported):
    run, args, x = exported("Forecaster")
    est = lstmkit.load(run)
    est.set_params(samples_per_epoch=10 ** 15, seed=3)   # refused before any training
    with pytest.raises(LstmkitError, match="samples_per_epoch"):
        est.fit(*args)
    engine, own = _answers(est)
    assert engine is not None                    # refused before training: the network is still the run's, as
    assert np.allclose(engine, own, atol=1e-4)   # its graph is
    assert np.allclose(est.predict(x, engine="torch").to_numpy(dtype=float),
                       _quiet(est.predict, x).to_numpy(dtype=float), atol=1e-4)


def test_network_rebuilt_under_a_loaded_run_is_not_answered_by_its_graph(exported):
    run, _, x = exported("Forecaster")
    est = lstmkit.load(run)
    torch.manual_seed(11)
    est.net_ = _rebuilt(est)               # a fit that rebuilt its network and then stopped leaves such a one
    with pytest.warns(UserWarning, match="no longer the one saved"):
        engine, own = _answers(est)
    assert engine is None


def _rebuilt(est):
    """``est``'s network with every weight moved a little: another network of the same shapes."""
    import copy
    net = copy.deepcopy(est.net_)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01)
    return net


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def test_int8_translator_refit_after_load_translates_with_its_new_weights(exported, tmp_path):
    from lstmkit.deploy.quantize import load_estimator
    from lstmkit.tasks.translate.estimator import Translator
    run, (pairs,), sources = exported("Translator")
    q = lstmkit.load(run).export("int8", out=tmp_path / "int8", data=pairs)
    est = load_estimator(Translator, q)
    assert est.engine_ in ("torch", "onnx") and est._answering_net() is not None
    _refit(est, (pairs,))
    assert est.run_dir_ is None
    assert est._answering_net() is est.net_      # not the int8 graphs (or int8 net) of the weights before the refit
    assert not any(isinstance(m, torch.ao.nn.quantized.dynamic.LSTM) for m in est.net_.modules())


# -- what the checks cost: the weights file read again only when it changed; the network's tensors watched ------------
def _reads(monkeypatch, run):
    """A list that gets the weights file's path each time its SHA-256 is computed."""
    import lstmkit.runs as runs
    seen, sha = [], runs.file_sha256
    weights = (run / runs.WEIGHTS_FILE).resolve()

    def counted(path):
        if Path(path).resolve() == weights:
            seen.append(path)
        return sha(path)
    monkeypatch.setattr(runs, "file_sha256", counted)
    return seen


def test_the_weights_file_is_read_once_while_it_is_unchanged(exported, tmp_path, monkeypatch):
    import shutil
    run, _, _ = exported("Forecaster")
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    est = lstmkit.load(copy)
    assert est._answering_run() == copy
    reads = _reads(monkeypatch, copy)
    for _ in range(3):
        assert est._answering_run() == copy
        est.stream()
    assert reads == []                  # was a full read of the file per call (a 50 MB model: 50 MB per stream())


def _other_weights_same_size(run: Path) -> Path:
    """A file beside ``run``'s weights holding other numbers of the same shapes (so of the same size)."""
    from safetensors.torch import load_file
    from lstmkit.runs import WEIGHTS_FILE, save_tensors
    from safetensors import safe_open
    with safe_open(run / WEIGHTS_FILE, "pt") as f:
        metadata = f.metadata()
    tensors = {k: v + 0.25 for k, v in load_file(run / WEIGHTS_FILE).items()}
    other = run / "other.safetensors"
    save_tensors(other, tensors, metadata=metadata)
    assert other.stat().st_size == (run / WEIGHTS_FILE).stat().st_size
    return other


def test_weights_renamed_over_in_the_same_tick_with_the_same_size_are_caught(exported, tmp_path):
    import os
    import shutil
    run, _, _ = exported("Forecaster")
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    est = lstmkit.load(copy)
    assert est._answering_run() == copy                 # the fingerprint of the file as it is, kept
    weights = copy / "model.safetensors"
    before = weights.stat()
    other = _other_weights_same_size(copy)
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))      # written within the old file's clock tick
    os.replace(other, weights)                                        # as a save writes: a new file renamed over
    after = weights.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ino != before.st_ino
    with pytest.warns(UserWarning, match="holds other weights than this model's now"):
        assert est._answering_run() is None


def test_weights_written_in_place_with_the_same_size_and_time_are_caught(exported, tmp_path):
    import os
    import shutil
    run, _, _ = exported("Forecaster")
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    est = lstmkit.load(copy)
    assert est._answering_run() == copy
    weights = copy / "model.safetensors"
    before = weights.stat()
    data = _other_weights_same_size(copy).read_bytes()
    with open(weights, "r+b") as f:                   # the same inode, the same size
        f.write(data)
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = weights.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    with pytest.warns(UserWarning, match="holds other weights than this model's now"):
        assert est._answering_run() is None          # its status change time moved


def _step_in_place(net, how):
    """Train one parameter of ``net`` (its output's last, which moves every answer) in place by hand, as a user
    might: the tensor stays the same object."""
    last = [p for p in net.parameters() if p.requires_grad][-1]
    if how == "no_grad":
        with torch.no_grad():
            last.sub_(5.0)
    elif how == "optimizer":
        opt = torch.optim.SGD([last], lr=5.0)
        last.grad = torch.ones_like(last)
        opt.step()
    else:                                             # a new tensor put under the parameter
        last.data = last.data - 5.0


@pytest.mark.parametrize("how", ["no_grad", "optimizer", "data"])
def test_forecaster_trained_in_place_predicts_with_torch_and_says_so(exported, how):
    run, _, x = exported("Forecaster")
    est = lstmkit.load(run)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = est.predict(x).to_numpy(dtype=float)     # the run's graph answers for the weights it was loaded with
    gap = np.abs(graph - est.predict(x, engine="torch").to_numpy(dtype=float)).max()
    assert gap < 1e-4
    _step_in_place(est.net_, how)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        auto = est.predict(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = est.predict(x)                        # said once: the engine resolved is kept
    torch_answer = est.predict(x, engine="torch").to_numpy(dtype=float)
    assert np.array_equal(auto.to_numpy(dtype=float), torch_answer)
    assert np.array_equal(again.to_numpy(dtype=float), torch_answer)
    assert np.abs(torch_answer - graph).max() > 10 * gap + 1e-9     # the graph's answer was not the network's


@pytest.mark.parametrize("name", NAMES)
def test_network_trained_in_place_is_not_answered_by_its_graph(exported, name):
    run, _, _ = exported(name)
    est = lstmkit.load(run)
    assert est._answering_run() == run
    _step_in_place(est.net_, "optimizer")
    with pytest.warns(UserWarning, match="no longer the one saved"):
        engine, own = _answers(est)
    assert engine is None, name


def test_a_network_moved_back_to_its_weights_answers_with_its_graph_again(exported):
    run, _, _ = exported("Forecaster")
    est = lstmkit.load(run)
    first = next(est.net_.parameters())
    with torch.no_grad():
        first.add_(0.5)
    with pytest.warns(UserWarning, match="no longer the one saved"):
        assert est._answering_run() is None
    with torch.no_grad():
        first.sub_(0.5)                               # the counters moved: the fingerprint is computed again
    est.net_.load_state_dict(lstmkit.load(run).net_.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est._answering_run() == run
