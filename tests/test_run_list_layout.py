"""format_runs' width and wrapping and sort_by_metric's split groups, on rows written by hand: each expected line
worked out from format_runs' rules (columns two spaces apart, the run's column cut to what the line leaves it, a
state too long for its line carried on under it, indented four)."""
from lstmkit.config import Headline
from lstmkit.run_list import format_runs, sort_by_metric

PATH = "/data/experiments/runs/lm-20260101-000000"         # 41 characters: folders of 5, 12, 5 and a name of 19


def _row(run, state="finished", metric="", task="lm", epochs=3, **m):
    return {"run": run, "task": task, "epochs": epochs, "state": state,
            "metric": {"shown": metric, **m} if metric or m else None}


def test_a_line_exactly_as_wide_as_the_width_keeps_its_state_and_its_path_is_cut_before_a_folder():
    """width 70: the columns after the run's take 4 + 6 + 17 and four gaps of 2 (35), "finished" 8, which leaves
    the run's column 27: ``…/runs/lm-20260101-000000`` (25; ``…/experiments/...``, 37, is too wide) padded to 27;
    the line is then 27 + 2 + 4 + 2 + 6 + 2 + 17 + 2 + 8 = 70 columns, the width itself, and stays one line."""
    lines = format_runs([_row(PATH, metric="perplexity 10.363")], width=70).splitlines()
    assert lines == [f"{'run':<27}  task  epochs  {'metric':<17}  state",
                     f"{'…/runs/lm-20260101-000000':<27}  lm    3       perplexity 10.363  finished"]
    assert len(lines[1]) == 70
    # width 67: the column 24; ``…/runs/lm-20260101-000000`` (25) would not fit it, so the cut is after "runs"
    assert format_runs([_row(PATH, metric="perplexity 10.363")], width=67).splitlines()[1] == \
        f"{'…/lm-20260101-000000':<24}  lm    3       perplexity 10.363  finished"
    # width 68: the column 25, which ``…/runs/lm-20260101-000000`` fills exactly
    assert format_runs([_row(PATH, metric="perplexity 10.363")], width=68).splitlines()[1] == \
        "…/runs/lm-20260101-000000  lm    3       perplexity 10.363  finished"
    # a state of 16 ("stopped at epoch") is one the column is cut for: 78 - 35 - 16 leaves it 27, and that run's
    # line is 27 + 35 + 16 = 78, one line
    lines = format_runs([_row(PATH, metric="perplexity 10.363"), _row("r2", state="stopped at epoch")],
                        width=78).splitlines()
    assert lines[1:] == [f"{'…/runs/lm-20260101-000000':<27}  lm    3       perplexity 10.363  finished",
                         f"{'r2':<27}  lm    3       {'':<17}  stopped at epoch"]
    # a state of 22 ("interrupted at epoch 2"), past the 16 the run's column is cut for, leaves it 27: its own line
    # (60 to its state) leaves it 8 columns, fewer than 16 to begin it, so it goes on under its run's line whole
    lines = format_runs([_row(PATH, metric="perplexity 10.363"), _row("r2", state="interrupted at epoch 2")],
                        width=70).splitlines()
    assert lines[1:] == [f"{'…/runs/lm-20260101-000000':<27}  lm    3       perplexity 10.363  finished",
                         f"{'r2':<27}  lm    3", "    interrupted at epoch 2"]
    # one column narrower: the run's column 26 still holds the same cut path, the line 69 wide
    assert format_runs([_row(PATH, metric="perplexity 10.363")], width=69).splitlines()[1] == \
        f"{'…/runs/lm-20260101-000000':<26}  lm    3       perplexity 10.363  finished"


def test_a_path_is_cut_to_no_fewer_than_20_columns_and_a_name_too_long_keeps_its_end():
    """width 55 leaves the run's column 55 - 35 - 8 < 20: it is 20, ``…`` and the name's last 19 characters; the
    line (20 + 35 + 8 = 63) is past 55, so "finished" goes on under it (its run's line leaves no 16 columns)."""
    lines = format_runs([_row(PATH, metric="perplexity 10.363")], width=55).splitlines()
    assert lines == [f"{'run':<20}  task  epochs  metric", "    state",             # the header's state too
                     "…/lm-20260101-000000  lm    3       perplexity 10.363", "    finished"]
    # width 60, no metric (6): the run's column 60 - 24 - 8 = 28; this path of 50 cut after "runs/" is 47 wide,
    # so it is "…" and the name's last 27 characters
    name = "runs/lm-wikitext-2-char-level-dropout-0.3-20260101"
    assert format_runs([_row(name)], width=60).splitlines()[1] == f"…{name[-27:]}  lm    3               finished"


def test_a_width_the_columns_do_not_fit_lists_one_block_a_run_each_line_within_it():
    """width 52: the run's column at its 20 with the others (4, 6, 17) and three gaps is 53 columns, past 52 (at 40
    the table's lines were 53 wide, each wrapped by the terminal): the run's path alone, cut to the width, then its
    task, epochs and metric and its state under it, indented; a line too long for the width goes on under it."""
    rows = [_row(PATH, metric="perplexity 10.363"), _row("r2", state="interrupted at epoch 2", epochs=None)]
    assert format_runs(rows, width=53).splitlines()[0].split() == ["run", "task", "epochs", "metric"]   # fits: table
    assert format_runs(rows, width=52).splitlines() == [
        "/data/experiments/runs/lm-20260101-000000", "    lm, epochs 3, perplexity 10.363", "    finished",
        "r2", "    lm", "    interrupted at epoch 2"]
    lines = format_runs(rows, width=24).splitlines()
    assert lines == ["…/lm-20260101-000000", "    lm, epochs 3,", "    perplexity 10.363", "    finished",
                     "r2", "    lm", "    interrupted at epoch", "    2"]
    assert max(map(len, lines)) <= 24
    # 80 columns and wider never: the table, as it was, whatever its lines' width
    assert format_runs(rows, width=80).splitlines()[0].split() == ["run", "task", "epochs", "metric", "state"]


def test_a_long_state_starts_on_its_runs_line_where_16_columns_are_left_and_goes_on_under_it():
    """run ``r1`` (its column 3), task 4, epochs 6, metric 6: the state starts at column 3 + 4 + 6 + 6 + 2 * 4 = 27.
    width 43 leaves 43 - 25 - 2 = 16 columns, enough to begin it: its first three words (14) there, the rest under
    it; width 42 leaves 15, fewer than 16: the whole state under it, wrapped at 42."""
    state = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj"
    assert format_runs([_row("r1", state=state)], width=43).splitlines()[1:] == [
        "r1   lm    3               aaaa bbbb cccc", "    dddd eeee ffff gggg hhhh iiii jjjj"]
    assert format_runs([_row("r1", state=state)], width=42).splitlines()[1:] == [
        "r1   lm    3", "    aaaa bbbb cccc dddd eeee ffff gggg", "    hhhh iiii jjjj"]     # 4 + 34 <= 42 < 4 + 39
    # width 44, a state of 18: its line would be 25 + 2 + 18 = 45, one past; the 17 columns left hold its first
    # three words (16), not the fourth
    assert format_runs([_row("r1", state="aaaa bbbb cccccc d")], width=44).splitlines()[1:] == [
        "r1   lm    3               aaaa bbbb cccccc", "    d"]
    # with fewer than 16 columns left not even a first word of one letter begins it there
    assert format_runs([_row("r1", state="a " + "b" * 16)], width=42).splitlines()[1:] == [
        "r1   lm    3", "    a " + "b" * 16]
    # width 43: three words of 16 fill its 16 columns exactly
    assert format_runs([_row("r1", state="aaaa bbbb cccccc dd")], width=43).splitlines()[1:] == [
        "r1   lm    3               aaaa bbbb cccccc", "    dd"]
    # a first word of 14 fits the 16 columns alone
    assert format_runs([_row("r1", state="aaaaaaaaaaaaaa bbbb")], width=43).splitlines()[1:] == [
        "r1   lm    3               aaaaaaaaaaaaaa", "    bbbb"]
    # a word is not broken at its hyphens, and one longer than a line (a path) is left whole, past the width
    assert format_runs([_row("r1", state="aaaa bbbb-cccc-dddd-eeee-ffff-gggg")], width=33).splitlines()[1:] == [
        "r1   lm    3", "    aaaa", "    bbbb-cccc-dddd-eeee-ffff-gggg"]
    path = "/data/" + "x" * 40
    assert format_runs([_row("r1", state=f"see {path} for it")], width=33).splitlines()[1:] == [
        "r1   lm    3", "    see", f"    {path}", "    for it"]
    # the words under it wrap at the width: 4 + 29 = 33 columns hold six of its words, not seven (38)
    assert format_runs([_row("r1", state=state)], width=33).splitlines()[1:] == [
        "r1   lm    3", "    aaaa bbbb cccc dddd eeee ffff", "    gggg hhhh iiii jjjj"]


def _scored(run, value, split, name="accuracy", higher=True):
    return _row(run, task="classify", metric=f"{name} {value}", name=name, value=value, split=split,
                part={"validation": "val"}.get(split, split), higher_is_better=higher)


def test_sort_by_metric_ranks_test_then_validation_then_train_each_on_its_own():
    """A validation accuracy of 0.99 is not ranked above a test accuracy of 0.50, nor a training one of 1.0 above
    either: the groups go test, validation, train, best first within each, then the runs without a number."""
    rows = [_row("none", task="classify"), _scored("train-1.0", 1.0, "train"), _scored("val-0.99", 0.99, "validation"),
            _scored("test-0.5", 0.5, "test"), _scored("val-0.6", 0.6, "validation"), _scored("test-0.7", 0.7, "test")]
    assert [r["run"] for r in sort_by_metric(rows)] == ["test-0.7", "test-0.5", "val-0.99", "val-0.6", "train-1.0",
                                                       "none"]


def test_a_headline_made_directly_says_no_split_but_train_and_int8_and_gives_its_split_in_the_dict():
    """``Headline(...)`` with its defaults: no split said (``MASE 0.8123``, as the docs show), a training score
    marked ``(train)``; ``val_beam`` is the validation split."""
    assert Headline("MASE", 0.81234, ".4f", "test", False).text == "MASE 0.8123"
    assert Headline("accuracy", 1.0, ".4f", "train", True).text == "accuracy 1.0000 (train)"
    said = Headline("WER", 0.25, ".4f", "val_beam", False, split_shown=True).to_dict()
    assert (said["split"], said["shown"], said["int8"]) == ("validation", "WER 0.2500 (val)", False)


def test_sort_by_metric_of_many_interleaved_runs_follows_its_rule_run_by_run():
    """600 runs of 3 tasks, 150 data names (and none), two metric names a task, four splits, some without a number,
    dealt at random: the order is the rule worked out here from first showings (task, then its data, then split
    test / validation / train / other, then the task's metric name, then value, best first; the runs without a
    number last in their data group), the same as the per-row ``list.index`` look-ups gave before they became
    dictionary look-ups (for thousands of runs of their own data the sort had grown quadratic)."""
    import random
    rng = random.Random(55)
    rows = []
    for i in range(600):
        task = rng.choice(["forecast", "classify", "lm"])
        row = {"run": f"r{i}", "task": task, "epochs": 1, "state": "finished",
               "data": rng.choice([None, *(f"d{k}" for k in range(150))]), "metric": None}
        if rng.random() < 0.8:
            higher = task == "classify"
            row["metric"] = {"name": f"{task}-{rng.choice('ab')}", "shown": "", "higher_is_better": higher,
                             "value": None if rng.random() < 0.1 else round(rng.random(), 2),
                             "part": rng.choice(["test", "validation", "train", "val_beam"])}
            if rng.random() < 0.5:
                row["metric"]["split"] = row["metric"]["part"]
        rows.append(row)
    first = {}
    for r in rows:
        first.setdefault(r["task"], len(first))
        first.setdefault((r["task"], r["data"]), len(first))
        if r["metric"]:
            first.setdefault((r["task"], "name", r["metric"]["name"]), len(first))

    def rank(r):
        m = r["metric"]
        group = (first[r["task"]], first[(r["task"], r["data"])])
        if not m or m["value"] is None:
            return (*group, 9, 0, 0.0)
        split = m.get("split", m["part"])
        return (*group, {"test": 0, "validation": 1}.get(split, 2), first[(r["task"], "name", m["name"])],
                -m["value"] if m["higher_is_better"] else m["value"])
    assert [r["run"] for r in sort_by_metric(rows)] == [r["run"] for r in sorted(rows, key=rank)]
