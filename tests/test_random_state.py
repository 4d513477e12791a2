"""random_state.held_random: the process's random generators held by a block, the caller's given back."""
import threading

import pytest
import torch

from lstmkit.random_state import held_random


def test_the_outermost_block_gives_the_callers_generator_back_and_an_inner_one_does_not():
    torch.manual_seed(5)
    want = torch.get_rng_state()
    with held_random():
        torch.manual_seed(1)
        with held_random():                  # a load inside a fit (init_from): the fit's draws go on from it
            torch.manual_seed(2)
        inner = torch.rand(1)
    assert torch.equal(torch.get_rng_state(), want)
    torch.manual_seed(2)
    assert torch.equal(inner, torch.rand(1))


def test_a_block_that_does_not_wait_runs_while_another_thread_holds_the_generators():
    """A load while a fit trains in another thread runs at once (it does not wait minutes for the
    fit), and the fit gives back the generator state the caller had before it. The fit holds the
    generators until the load is done, for at most 60 s: a load that waited for the fit waits that
    long and fails; 10 s failed a load that a loaded machine ran 11 s late."""
    holding, loaded, in_time = threading.Event(), threading.Event(), []
    torch.manual_seed(5)
    caller = torch.get_rng_state()

    def fit():
        with held_random():
            torch.manual_seed(1)
            holding.set()
            in_time.append(loaded.wait(60))

    t = threading.Thread(target=fit)
    t.start()
    assert holding.wait(30)
    with held_random(wait=False):
        torch.rand(3)
    loaded.set()
    t.join()
    assert in_time == [True]
    assert torch.equal(torch.get_rng_state(), caller)


def test_the_same_seeded_fit_in_two_fresh_processes_writes_the_same_bytes(tmp_path):
    """README, 'Same seed, same numbers': nothing a run computes follows string hashing (sets of words,
    labels or characters) or the process, so two processes under other PYTHONHASHSEED train the same bits."""
    import os
    import subprocess
    import sys
    rows = [f"{w} {v} film,{lab}" for k in range(40) for w, v, lab in
            [(("good", "fine", "great")[k % 3], ("a", "the")[k % 2], "pos"), (("bad", "dull", "poor")[k % 3], "a", "neg")]]
    (tmp_path / "t.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    code = ("import sys; from lstmkit import TextClassifier; TextClassifier(max_epochs=2, embed_dim=8, hidden_size=8, "
            "seed=3, progress='off', tensorboard=False, doctor=False).fit(sys.argv[1], run_dir=sys.argv[2])")
    got = []
    for hashing in ("1", "2"):
        run = tmp_path / f"run{hashing}"
        subprocess.run([sys.executable, "-c", code, str(tmp_path / "t.csv"), str(run)], check=True, timeout=300,
                       env={**os.environ, "PYTHONHASHSEED": hashing, "OMP_NUM_THREADS": "1"})
        got.append((run / "model.safetensors").read_bytes())
    assert got[0] == got[1]


def test_a_lent_block_lets_another_thread_take_the_generators_and_gives_this_threads_states_back():
    """A fit's callback that waited on a fit in another thread waited for ever: that fit waited for
    the generators this thread held. Lent, the other fit runs, and this thread's draws go on after
    the block as if it had not run."""
    from lstmkit.random_state import lent_random
    finished = []

    def other_fit():
        with held_random():
            torch.manual_seed(9)
            torch.rand(5)
        finished.append(True)

    with held_random():
        torch.manual_seed(1)
        torch.rand(1)
        with lent_random():
            other = threading.Thread(target=other_fit)
            other.start()
            other.join(30)
            with held_random():             # this thread's own fit in the block: as one outside any
                torch.manual_seed(3)
        after = torch.rand(2)
    torch.manual_seed(1)
    assert finished == [True] and torch.equal(after, torch.rand(3)[1:])


def test_a_lent_block_outside_a_held_one_changes_nothing():
    from lstmkit.random_state import lent_random
    torch.manual_seed(4)
    with lent_random():
        got = torch.rand(1)
    torch.manual_seed(4)
    assert torch.equal(got, torch.rand(1))


def test_a_state_saved_with_cuda_generators_is_set_on_a_machine_without_cuda(monkeypatch):
    """A checkpoint written on a GPU machine holds ``rng.cuda.N`` states; resumed where there is no
    CUDA, torch's CPU state is set and the CUDA ones are left (setting them raised there)."""
    import torch
    from lstmkit.random_state import py_rng_state, set_rng_state
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", lambda states: pytest.fail("set CUDA states without CUDA"))
    torch.manual_seed(3)
    saved = {"tensors": {"rng.torch": torch.get_rng_state(), "rng.cuda.0": torch.get_rng_state()},
             "python": py_rng_state()}
    expected = torch.rand(3)
    set_rng_state(saved)
    assert torch.equal(torch.rand(3), expected)


def test_a_lent_block_in_a_thread_that_never_held_the_generators_changes_nothing():
    """``lent_random`` in a fresh thread (a service's request thread calling a callback's code)."""
    from lstmkit.random_state import lent_random
    seen = []

    def run():
        torch.manual_seed(4)
        with lent_random():
            seen.append(torch.rand(1))
        seen.append(torch.rand(1))
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    torch.manual_seed(4)
    assert len(seen) == 2 and torch.equal(torch.cat(seen), torch.rand(2))     # no error, nothing set back


def test_two_fits_of_one_seed_write_the_same_checkpoint_whatever_numpys_and_pythons_generators_held(tmp_path):
    """The checkpoint records numpy's and Python's global generators beside torch's: the trainer seeds them
    each epoch, so the same seeded fit writes the same ``last.json`` after a script drew from either (they
    were the process's: 1,240 numbers of it differed between two runs of one seed)."""
    import json
    import random

    import numpy as np
    from lstmkit import TextClassifier
    texts, labels = ["good film", "bad film", "fine film", "dull film"] * 4, ["pos", "neg"] * 8
    saved = []
    for k in (1, 2):
        np.random.seed(k)
        random.seed(k)
        TextClassifier(max_epochs=1, embed_dim=4, hidden_size=4, min_freq=1, seed=3, progress="off",
                       tensorboard=False, doctor=False).fit(texts, labels, run_dir=tmp_path / f"run{k}")
        saved.append(json.loads((tmp_path / f"run{k}" / "checkpoints" / "last.json").read_text())["rng"])
    assert saved[0]["numpy"][1][:3] != [1, 2, 3]          # a state numpy drew, not a placeholder
    assert saved[0] == saved[1]


def test_each_epoch_seeds_numpys_and_pythons_generators_from_the_fits_seed_and_the_epoch(tmp_path):
    """``seed_epoch(seed * 100_003 + epoch)`` seeds all three generators at each epoch's start, so a checkpoint's
    numpy and Python states are a function of (seed, epoch), as torch's are: after a 2-epoch fit of seed 3 they are
    the states seeded for epoch 1 (lstmkit draws from torch's alone), not epoch 0's, nor one fixed seed's."""
    import json
    import random

    import numpy as np
    from lstmkit import TextClassifier
    texts, labels = ["good film", "bad film", "fine film", "dull film"] * 4, ["pos", "neg"] * 8
    TextClassifier(max_epochs=2, embed_dim=4, hidden_size=4, min_freq=1, seed=3, progress="off", tensorboard=False,
                   doctor=False).fit(texts, labels, run_dir=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "checkpoints" / "last.json").read_text())["rng"]
    assert saved["numpy"][1] == np.random.RandomState(3 * 100_003 + 1).get_state()[1].tolist()
    assert saved["python"][1] == list(random.Random(3 * 100_003 + 1).getstate()[1])


def test_seed_epoch_seeds_torchs_numpys_and_pythons_generators_with_its_seed():
    """Each of the three generators draws after ``seed_epoch(s)`` what it draws seeded with ``s`` alone (torch's
    shuffles and dropout masks too: the trainer no longer seeds torch itself), and another seed draws otherwise."""
    import random

    import numpy as np
    from lstmkit.random_state import seed_epoch

    def draws(seed):
        seed_epoch(seed)
        return torch.rand(3).tolist(), np.random.random(3).tolist(), [random.random() for _ in range(3)]
    with held_random():                         # the process's own generators come back after the block
        got, again, other = draws(300_010), draws(300_010), draws(300_011)
        torch.manual_seed(300_010)
        alone = torch.rand(3).tolist()
    python = random.Random(300_010)
    assert got == again == (alone, np.random.RandomState(300_010).random_sample(3).tolist(),
                            [python.random() for _ in range(3)])
    assert all(a != b for a, b in zip(got, other))
