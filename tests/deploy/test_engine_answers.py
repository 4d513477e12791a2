"""WHICH engine answers a forecaster's ``predict``: its run's ONNX graph (onnxruntime is called) while the model's
weights are still the ones that graph was exported from, torch (onnxruntime is not called, with one warning
saying why) once the folder's weights or the network moved (``lstmkit/run_tie.py``). ``test_stale_engine.py``
checks the answers; these check that the graph is not dropped where it may answer, and never used where it may
not: each counts onnxruntime's calls."""
import copy
import pickle
import shutil
import warnings

import numpy as np
import pytest
import torch

ort = pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from estimator_data import QUICK, fit_data  # noqa: E402
from one_thread import one_thread_per_module  # noqa: E402,F401  (autouse: one torch thread, fixtures included)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(a forecaster's run folder exported to ONNX, fit arguments, predict input), fitted once."""
    d = tmp_path_factory.mktemp("engine")
    args, x = fit_data("Forecaster", d)
    est = lstmkit.Forecaster(**QUICK).fit(*args, out=d / "runs")
    est.export("onnx")
    return est.run_dir_, args, x


@pytest.fixture
def graph_calls(monkeypatch):
    """A list that gets an entry each time an onnxruntime session runs."""
    calls, run = [], ort.InferenceSession.run

    def counted(self, *args, **kwargs):
        calls.append(1)
        return run(self, *args, **kwargs)
    monkeypatch.setattr(ort.InferenceSession, "run", counted)
    return calls


def _copy(exported, tmp_path):
    run, args, x = exported
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run", args, x


def _answered_by(est, x, calls) -> tuple[str, list[str]]:
    """("onnx" or "torch", the warnings said) of one ``predict`` of ``est``."""
    calls.clear()
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        est.predict(x)
    return ("onnx" if calls else "torch"), [str(w.message) for w in said]


def test_a_loaded_run_answers_through_its_graph_without_a_word(exported, graph_calls):
    run, _, x = exported
    est = lstmkit.load(run)
    assert _answered_by(est, x, graph_calls) == ("onnx", [])
    assert est._answering_run() == run


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_copy_of_a_loaded_model_answers_through_its_graph(exported, graph_calls, how):
    run, _, x = exported
    est = lstmkit.load(run)
    twin = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    assert twin.net_ is not est.net_                   # another network holding the same weights
    assert _answered_by(twin, x, graph_calls) == ("onnx", [])


def test_a_network_swapped_for_one_holding_the_same_weights_keeps_its_graph(exported, graph_calls):
    run, _, x = exported
    est = lstmkit.load(run)
    est.net_ = copy.deepcopy(est.net_)
    assert _answered_by(est, x, graph_calls) == ("onnx", [])


def test_a_model_pickled_before_weights_were_tied_keeps_its_run(exported, graph_calls):
    from lstmkit import run_tie
    run, _, x = exported
    est = lstmkit.load(run)
    del vars(est)[run_tie._KEY]                    # as an older session's pickle comes back: no tie recorded
    assert _answered_by(est, x, graph_calls) == ("onnx", [])


def test_a_refused_refit_leaves_the_graph_answering(exported, graph_calls):
    run, args, x = exported
    est = lstmkit.load(run)
    est.set_params(samples_per_epoch=10 ** 15, seed=3)          # refused before its network is touched
    with pytest.raises(LstmkitError, match="samples_per_epoch"):
        est.fit(*args)
    assert _answered_by(est, x, graph_calls) == ("onnx", [])


def test_a_folder_saved_over_answers_with_torch_and_says_so_once(exported, tmp_path, graph_calls):
    run, args, x = _copy(exported, tmp_path)
    old = lstmkit.load(run)
    newer = lstmkit.load(run)
    with torch.no_grad():
        for p in newer.net_.parameters():
            p.add_(0.05)
    newer.save(run, overwrite=True)
    newer.export("onnx")                            # a graph fresh for the folder, of other weights
    engine, said = _answered_by(old, x, graph_calls)
    assert engine == "torch"
    assert len(said) == 1 and "holds other weights than this model's now" in said[0], said
    assert _answered_by(lstmkit.load(run), x, graph_calls) == ("onnx", [])      # the folder's own model: its graph


def test_a_run_whose_weights_file_went_answers_with_torch(exported, tmp_path, graph_calls):
    run, _, x = _copy(exported, tmp_path)
    est = lstmkit.load(run)
    (run / "model.safetensors").unlink()
    with pytest.warns(UserWarning, match="holds other weights than this model's now"):
        assert est._answering_run() is None
    engine, _ = _answered_by(est, x, graph_calls)
    assert engine == "torch"


def test_a_network_rebuilt_in_memory_answers_with_torch_and_says_so(exported, graph_calls):
    run, _, x = exported
    est = lstmkit.load(run)
    net = copy.deepcopy(est.net_)
    with torch.no_grad():
        next(net.parameters()).add_(0.5)
    est.net_ = net
    engine, said = _answered_by(est, x, graph_calls)
    assert engine == "torch"
    assert len(said) == 1 and "no longer the one saved" in said[0], said


def test_a_network_given_a_new_parameter_answers_with_torch(exported):
    """A tensor put in place of one of the network's (a new Parameter of other values): not its weights."""
    run, _, _ = exported
    est = lstmkit.load(run)
    assert est._answering_run() == run
    module, name, old = next((m, n, t) for m in est.net_.modules() for n, t in m.named_parameters(recurse=False))
    setattr(module, name, torch.nn.Parameter(old.detach() + 1.0))
    with pytest.warns(UserWarning, match="no longer the one saved"):
        assert est._answering_run() is None


def test_a_refit_into_a_new_folder_answers_through_that_folders_graph_once_exported(exported, tmp_path, graph_calls):
    run, args, x = exported
    est = lstmkit.load(run)
    est.set_params(seed=7)
    est.fit(*args, out=tmp_path / "runs")
    assert est.run_dir_ != run
    assert _answered_by(est, x, graph_calls) == ("torch", [])     # no graph in its new folder yet
    est.export("onnx")
    assert _answered_by(est, x, graph_calls) == ("onnx", [])
    graph = est.predict(x).to_numpy(dtype=float)
    assert np.allclose(graph, est.predict(x, engine="torch").to_numpy(dtype=float), atol=1e-4)


def test_the_networks_weights_are_not_serialized_again_while_its_tensors_are_unchanged(exported, monkeypatch):
    run, _, _ = exported
    twin = pickle.loads(pickle.dumps(lstmkit.load(run)))    # a network no tie has seen: its weights read once
    taken, state_dict = [], twin.net_.state_dict

    def counted(*args, **kwargs):
        taken.append(1)
        return state_dict(*args, **kwargs)
    monkeypatch.setattr(twin.net_, "state_dict", counted, raising=False)
    for _ in range(3):
        assert twin._answering_run() == run
    assert len(taken) <= 1, taken



@pytest.fixture(scope="module")
def int8_run(exported, tmp_path_factory):
    """The forecaster's run exported as int8 (a new run folder)."""
    run, args, _ = exported
    return lstmkit.load(run).export("int8", out=tmp_path_factory.mktemp("q") / "int8", data=args[0])


@pytest.mark.parametrize("how", ["loaded", "pickle"])
def test_an_int8_run_keeps_its_engine_where_its_weights_cannot_be_fingerprinted_in_memory(int8_run, how):
    """An int8 network's file holds its integers, which its packed weights in memory do not show: a copy of an
    int8 model (whose network no tie has seen) answers from its run as the model it was copied from does."""
    from lstmkit.deploy.quantize import load_estimator
    est = load_estimator(lstmkit.Forecaster, int8_run)
    if how == "pickle":
        est = pickle.loads(pickle.dumps(est))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est._answering_run() == int8_run
