"""torch's process and thread defaults a caller may have set (``set_default_device``,
``set_default_dtype``) do not reach the estimators: they build and run a float32 network on the CPU
(:func:`lstmkit.estimator_params.cpu_float32`), and leave the caller's defaults as they were."""
import multiprocessing
import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import lstmkit
from lstmkit.estimator_params import cpu_float32
from lstmkit.train.callbacks import Callback

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from estimator_data import EXTRA, NAMES, QUICK, fit_data  # noqa: E402
from one_thread import one_thread_per_package  # noqa: F401,E402  (autouse: one torch thread)


@pytest.fixture
def default_device():
    """``torch.set_default_device(device)`` for the test (the thread's), unset after it."""
    yield torch.set_default_device
    torch.set_default_device(None)


@pytest.mark.parametrize("name", NAMES)
def test_a_meta_default_device_still_fits_predicts_and_loads_on_the_cpu(name, tmp_path, default_device):
    """Under ``torch.set_default_device('meta')`` (a notebook's, to size a model without memory)
    every fit failed inside torch ('Cannot copy out of meta tensor', 'Tensor.item() cannot be called
    on meta tensors', 'aten::bincount ... Meta kernel'), and a loaded model's predict too."""
    args, X = fit_data(name, tmp_path)
    default_device("meta")
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args, out=tmp_path / "runs")
    loaded = lstmkit.load(est.run_dir_)
    for model in (est, loaded):
        assert {p.device.type for p in model.net_.parameters()} == {"cpu"}
        if X is not None:
            assert len(model.predict(X)) > 0
    assert torch.get_default_device().type == "meta"
    assert torch.empty(1).device.type == "meta"


def test_the_device_is_pinned_only_where_the_caller_moved_it(default_device):
    """The CPU pin is a torch function mode, which slows every torch call: none where the default
    is the CPU already (threads predicting side by side), one where the caller set another."""
    from torch.overrides import _get_current_function_mode_stack
    with cpu_float32():
        assert _get_current_function_mode_stack() == []
    default_device("meta")
    with cpu_float32():
        assert torch.empty(1).device.type == "cpu"
    assert torch.empty(1).device.type == "meta"


@pytest.fixture
def float64_default():
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


def test_overlapping_blocks_in_two_threads_keep_float32_until_the_last_ends(float64_default):
    """The default dtype is the process's: the first block out set the caller's float64 back while
    the other thread's block still ran (it saw float32 on entry and left it alone), and built its
    network in float64."""
    first_in, second_in, first_out, seen = threading.Event(), threading.Event(), threading.Event(), []

    def second():
        first_in.wait()
        with cpu_float32():
            second_in.set()
            first_out.wait()
            seen.append(torch.get_default_dtype())

    t = threading.Thread(target=second)
    t.start()
    with cpu_float32():
        first_in.set()
        second_in.wait()
    first_out.set()
    t.join()
    assert seen == [torch.float32]
    assert torch.get_default_dtype() == torch.float64


@pytest.mark.parametrize("name", ["Forecaster", "SequenceClassifier", "LanguageModel"])
def test_two_threads_fitting_under_a_float64_default_both_train_float32(name, tmp_path, float64_default):
    """Two fits side by side under ``torch.set_default_dtype(torch.float64)``: the first to finish set
    float64 back while the second had yet to build its network, which came out float64 (the
    forecaster and the sequence classifier then failed with torch's 'Expected input dtype
    torch.float64'). Fits in threads now take turns (:func:`lstmkit.random_state.held_random`):
    the second, called while the first is in a callback (its generators lent then:
    :func:`lstmkit.random_state.lent_random`), builds its network then or once the first has trained,
    and both are float32."""
    args, _ = fit_data(name, tmp_path)
    first_in, second_calls, first_trained, errors, built_after = (threading.Event(), threading.Event(),
                                                                 threading.Event(), [], [])

    class WaitForTheSecond(Callback):
        def on_train_begin(self, trainer) -> None:
            first_in.set()
            assert second_calls.wait(60)

        def on_train_end(self, trainer) -> None:
            first_trained.set()

    first = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {}))
    second = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {}))
    build = second._build_net

    def build_noted(*a, **k):
        built_after.append(first_trained.is_set())
        return build(*a, **k)
    second._build_net = build_noted

    def fit_second():
        try:
            assert first_in.wait(60)
            second_calls.set()
            second.fit(*args)
        except BaseException as e:   # noqa: BLE001 (reported by the main thread)
            errors.append(e)

    t = threading.Thread(target=fit_second)
    t.start()
    try:
        first.fit(*args, callbacks=[WaitForTheSecond()])
    finally:
        second_calls.set()
        t.join()
    assert errors == []
    assert built_after                                      # the second fit built its network
    for est in (first, second):
        assert {p.dtype for p in est.net_.parameters()} == {torch.float32}
    assert torch.get_default_dtype() == torch.float64


def _generators() -> tuple:
    return torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


@pytest.mark.parametrize("name", NAMES)
def test_fit_save_and_load_give_the_callers_random_generators_back(name, tmp_path):
    """A fit seeds torch's generator with its ``seed``: after it, a script's ``torch.rand`` went on
    from the fit's seed, not its own (every ``torch.manual_seed(s)`` run drew the same numbers after
    a fit), and a load drew first weights from it. Both leave torch's, numpy's and Python's
    generators as the caller had them."""
    args, _ = fit_data(name, tmp_path)
    torch.manual_seed(1234), np.random.seed(1234), random.seed(1234)
    before = _generators()
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args)
    after_fit = _generators()
    type(est).load(est.save(tmp_path / "saved"))
    for after in (after_fit, _generators()):
        assert torch.equal(after[0], before[0])
        assert np.array_equal(after[1], before[1]) and after[2] == before[2]


@pytest.mark.parametrize("name", NAMES)
def test_a_model_loaded_inside_inference_mode_holds_no_inference_tensors(name, tmp_path):
    """A load inside ``torch.inference_mode()`` (a notebook's serving cell) built the network's
    weights as inference tensors: the model predicted, but an update after the block failed with
    torch's 'Inference tensors cannot be saved for backward', and its roll-back with 'Inplace update
    to inference tensor outside InferenceMode'. The caller's mode is left on."""
    args, _ = fit_data(name, tmp_path)
    run = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args).save(tmp_path / "saved")
    with torch.inference_mode():
        loaded = lstmkit.load(run)
        assert torch.is_inference_mode_enabled()
    tensors = [*loaded.net_.parameters(), *loaded.net_.buffers()]
    assert tensors and not any(t.is_inference() for t in tensors)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
@pytest.mark.parametrize("name", NAMES)
def test_a_network_moved_to_another_dtype_is_refused_naming_the_way_back(name, dtype, tmp_path):
    """A caller's ``model.net_.to(torch.float64)`` (or ``.double()``, ``.half()``): ``predict``
    failed with torch's 'LSTM: Expected input dtype torch.float64, got torch.float32' (or answered
    from weights a save cannot hold), and ``save`` wrote a run folder that ``load`` refused as
    edited. Each is one LstmkitError naming ``model.net_.float()``, nothing written; after it the
    model answers and saves as before."""
    from lstmkit.errors import LstmkitError
    args, X = fit_data(name, tmp_path)
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args)
    want = est.predict(X) if X is not None else None
    est.net_.to(dtype)
    shown = str(dtype).removeprefix("torch.")
    calls = [lambda: est.save(tmp_path / "saved")] + ([lambda: est.predict(X)] if X is not None else [])
    for call in calls:
        with pytest.raises(LstmkitError, match=f"holds {shown} weights .* — move it back with model.net_.float()"):
            call()
    assert not (tmp_path / "saved").exists()
    est.net_.float()
    loaded = lstmkit.load(est.save(tmp_path / "saved"))
    if dtype == torch.float64 and X is not None:      # float64 holds every float32: the same weights back
        got = loaded.predict(X)
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            assert np.array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("where", ["no_grad", "inference_mode", "loaded_in_inference_mode"])
def test_an_update_inside_no_grad_or_inference_mode_still_trains(where, tmp_path):
    """``Forecaster.update`` called inside the caller's ``torch.no_grad()`` or
    ``torch.inference_mode()`` failed with torch's 'element 0 of tensors does not require grad and
    does not have a grad_fn', as ``fit`` did before it trained anywhere; so did one of a model loaded
    inside ``inference_mode``. It learns what it learns outside them, and the mode is left on."""
    y = np.sin(np.arange(120) / 4)
    run = lstmkit.Forecaster(**QUICK, lookback=8, horizon=2).fit(y[:80]).save(tmp_path / "saved")

    def updated(context=None, load_context=None):
        with load_context or torch.enable_grad():
            est = lstmkit.Forecaster.load(run)
        with context or torch.enable_grad():
            est.update(y, epochs=2, lr=1e-2)
            if context is not None:
                assert not torch.is_grad_enabled()
        return est.last_update_["val_loss_after"], est.net_.state_dict()

    want_loss, want = updated()
    if where == "loaded_in_inference_mode":
        got_loss, got = updated(load_context=torch.inference_mode())
    else:
        got_loss, got = updated(getattr(torch, where)())
    assert got_loss == want_loss
    for key, value in want.items():
        assert torch.equal(got[key], value), key


@pytest.mark.parametrize("name", NAMES)
def test_an_onnx_export_gives_the_callers_random_generators_back(name, tmp_path):
    """The torch LSTM an export copies each lstmkit layer into (ONNX's fused LSTM op; a language
    model's time-major one too) drew first weights, then replaced, from torch's generator: after
    ``export('onnx')`` of any model but a forecaster, a script's seeded ``torch.rand`` drew other
    numbers. It draws nothing now."""
    pytest.importorskip("onnxruntime")
    args, _ = fit_data(name, tmp_path)
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args)
    est.save(tmp_path / "saved")
    torch.manual_seed(1234), np.random.seed(1234), random.seed(1234)
    before = _generators()
    est.export("onnx")
    after = _generators()
    assert torch.equal(after[0], before[0])
    assert np.array_equal(after[1], before[1]) and after[2] == before[2]


@pytest.mark.parametrize("name", ["Forecaster", "TextClassifier"])
def test_fits_in_two_threads_train_the_model_each_trains_alone(name, tmp_path):
    """torch's generator is the process's: two fits side by side each drew from the generator the
    other was seeding and drawing from (shuffles, dropout masks), and neither trained the model
    the same fit trains alone. They take turns now, and both equal it."""
    args, _ = fit_data(name, tmp_path)
    params = {**QUICK, **EXTRA.get(name, {}), "max_epochs": 3, "dropout": 0.3, "num_layers": 2}

    def weights(_=None):
        return getattr(lstmkit, name)(**params).fit(*args).net_.state_dict()

    alone = weights()
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(weights, range(2)))
    for state in together:
        for key, value in alone.items():
            assert torch.equal(state[key], value), key


def test_public_call_blocks_nest_and_unwind_after_an_error():
    """A block inside another changes nothing (the outer one pins); an error leaves the count as it
    was, so the next block pins again and the caller's defaults come back."""
    from lstmkit.estimator_params import public_call
    from lstmkit.errors import opt
    torch.set_default_dtype(torch.float64)
    try:
        with pytest.raises(ValueError):
            with public_call():
                with public_call():
                    assert torch.get_default_dtype() == torch.float32 and opt("lookback", 3) == "lookback=3"
                    raise ValueError("inside")
        assert torch.get_default_dtype() == torch.float64 and opt("lookback", 3) == "--lookback 3"
        with public_call():
            assert torch.get_default_dtype() == torch.float32
        assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)


def _predict_into(est, x, answers) -> None:
    answers.put((est.predict(x), torch.get_num_threads()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_a_process_forked_after_a_model_ran_on_two_threads_predicts_instead_of_hanging(tmp_path):
    """GNU OpenMP's worker threads do not survive a fork: a child forked after torch ran on two
    threads (``multiprocessing``'s ``fork``, a ``Pool``) waited for them forever in its first
    ``predict``. The child runs torch on one thread and answers as the parent does; the parent
    keeps its two."""
    args, x = fit_data("Forecaster", tmp_path)
    est = lstmkit.Forecaster(**QUICK).fit(*args)
    torch.set_num_threads(2)                               # the one_thread fixture sets it back
    want = est.predict(x)
    with torch.no_grad():                                  # OpenMP's team of two is up
        torch.nn.LSTM(8, 32, 2)(torch.randn(64, 64, 8))
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_predict_into, args=(est, x, answers))
    child.start()
    try:
        got, threads = answers.get(timeout=60)
    finally:
        child.kill()
        child.join()
    pd.testing.assert_frame_equal(got, want)
    assert threads == 1 and torch.get_num_threads() == 2


@pytest.mark.parametrize("name", ["Forecaster", "LanguageModel"])
def test_a_fitted_model_dropped_leaves_no_weights_alive(name, tmp_path):
    """Each fit kept its network's weights (and a graph of its batch check) alive after the model was
    dropped: a notebook's or a tuning loop's process grew by every model it trained. The batch check's
    saved-tensor hook held oneDNN's LSTM outputs in their own node, a cycle the collector cannot see."""
    import gc
    import weakref
    args, _ = fit_data(name, tmp_path)
    est = getattr(lstmkit, name)(**QUICK, **EXTRA.get(name, {})).fit(*args)
    weight = weakref.ref(next(est.net_.parameters()))
    del est
    gc.collect()
    assert weight() is None


@pytest.mark.parametrize("record", [False, True], ids=["filters", "recording"])
def test_overlapping_hushed_blocks_in_two_threads_leave_the_callers_warnings_as_they_were(record):
    """lstmkit hushes a library's notes inside its calls with ``warnings.catch_warnings``, which saves
    and restores the process's filters: two threads' blocks overlapping (predicts side by side in a
    service) undid each other, and the first block's ``ignore`` (or its recording list) stayed for good:
    every later warning of the process went unseen."""
    import warnings
    filters, show = list(warnings.filters), warnings.showwarning
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with cpu_float32(), warnings.catch_warnings(record=record):
            warnings.simplefilter("ignore")
            first_in.set()
            second_in.wait()
        first_out.set()

    def second():
        first_in.wait()
        with cpu_float32(), warnings.catch_warnings(record=record):
            second_in.set()
            first_out.wait()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == filters and warnings.showwarning is show
