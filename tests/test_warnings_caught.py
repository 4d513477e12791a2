"""errors.warnings_caught: lstmkit's catch_warnings blocks one thread's at a time, so threads calling
one model at once leave the process's warning filters as they were."""
import threading
import warnings

from lstmkit.errors import warnings_caught


def test_two_threads_blocks_leave_the_process_filters_and_showwarning_as_they_were():
    """catch_warnings saves and restores the process's filters: with thread A's block open, B's
    entered, A left, then B put back what it had found, A's 'ignore' among it, silencing every
    warning of the process for good. B waits for A's block to end now (A gives it half a second to
    enter, which it does at once where nothing makes it wait)."""
    filters, show = list(warnings.filters), warnings.showwarning
    a_in, b_in = threading.Event(), threading.Event()

    def a():
        with warnings_caught():
            warnings.simplefilter("ignore")
            a_in.set()
            b_in.wait(0.5)

    def b():
        assert a_in.wait(10)
        with warnings_caught(record=True):
            warnings.simplefilter("always")
            b_in.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert warnings.filters == filters and warnings.showwarning is show
    with warnings.catch_warnings(record=True) as seen:
        warnings.warn("said")
    assert [str(w.message) for w in seen] == ["said"]


def test_a_block_in_the_same_thread_nests():
    with warnings_caught():
        warnings.simplefilter("ignore")
        with warnings_caught(record=True) as caught:
            warnings.simplefilter("always")
            warnings.warn("inner")
    assert [str(w.message) for w in caught] == ["inner"]
