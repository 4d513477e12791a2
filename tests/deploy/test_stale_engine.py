"""A run's exported engine never answers for weights it was not exported from, after any way the torch weights
change: a refit of a loaded model, a refit saved over its own folder, a model whose folder another model was saved
and exported over, a failed refit, an int8 translator refit after load. Each test compares what the deployed engine
answers with the torch answer of the weights the model holds now (``lstmkit/run_tie.py``)."""
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import lstmkit  # noqa: E402
from estimator_data import EXTRA, NAMES, QUICK, fit_data  # noqa: E402
from lstmkit.deploy.onnx_engine import engine_net  # noqa: E402
from lstmkit.deploy.registry import adapter_class  # noqa: E402
from lstmkit.errors import LstmkitError  # noqa: E402
from one_thread import one_thread  # noqa: E402,F401  (autouse: one torch thread)

GRAPHS = ("model.onnx", "encoder.onnx", "decoder.onnx", "onnx.json", "export_report.json")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (run folder exported to ONNX, fit arguments, predict input), fitted on first use."""
    made = {}

    def get(name):
        if name not in made:
            d = tmp_path_factory.mktemp(name)
            args, x = fit_data(name, d)
            est = getattr(lstmkit, name)(**{**QUICK, **EXTRA.get(name, {})}).fit(*args, out=d / "runs")
            est.export("onnx")
            made[name] = (est.run_dir_, args, x)
        return made[name]
    return get


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
    assert engine is None or np.allclose(engine, own, atol=1e-4), name


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
    assert engine is None or np.allclose(engine, own, atol=1e-4)
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
