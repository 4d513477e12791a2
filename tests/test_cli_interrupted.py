"""The command's last words: Ctrl-C during training (how to continue the run), and a command typed
under another task's name for it (where to look instead). Units of lstmkit.cli, without training."""
import json

import click
import pytest

import lstmkit.train  # noqa: F401  (the CLI looks for TrainingInterrupted where training is imported)
from lstmkit import cli
from lstmkit.errors import TrainingInterrupted


def _run(tmp_path, checkpoint: bool):
    run = tmp_path / "lm-1"
    (run / "checkpoints").mkdir(parents=True)
    (run / "lstmkit.json").write_text(json.dumps({"format_version": 1, "task": "lm", "status": "interrupted"}))
    if checkpoint:
        (run / "checkpoints" / "last.safetensors").write_bytes(b"")
    return run


def _said(e: Exception, capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        cli._interrupted(e)
    assert exit_.value.code == 130
    return capsys.readouterr().err


def test_ctrl_c_after_an_epoch_with_its_checkpoint_names_the_resume_command(tmp_path, capsys):
    run = _run(tmp_path, checkpoint=True)
    assert _said(TrainingInterrupted(run, 3), capsys) == (
        f"interrupted after epoch 3; checkpoint saved. Continue with: lstmkit lm train --resume {run}\n")


def test_ctrl_c_in_the_first_epoch_says_there_is_no_checkpoint_yet(tmp_path, capsys):
    run = _run(tmp_path, checkpoint=False)
    assert _said(TrainingInterrupted(run, 0), capsys) == (
        "interrupted during the first epoch; no checkpoint yet (resuming starts from the beginning). "
        f"Continue with: lstmkit lm train --resume {run}\n")


def test_a_run_folder_without_its_metadata_names_no_task(tmp_path, capsys):
    run = tmp_path / "gone"
    assert "Continue with: lstmkit <task> train --resume" in _said(TrainingInterrupted(run, 1), capsys)


def test_another_exception_is_left_to_the_caller(capsys):
    assert cli._interrupted(RuntimeError("not an interrupt")) is False
    assert capsys.readouterr().err == ""


def _group(help_text: str) -> click.Group:
    group = click.Group("lstmkit thing")
    for name, text in (("run", help_text), ("evaluate", "Score it. More words."), ("train", "Train it.")):
        group.add_command(click.Command(name, help=text))
    return group


def _where(group: click.Group, typed: str) -> str | None:
    ctx = click.Context(group, info_name="thing", parent=click.Context(click.Group("lstmkit"), info_name="lstmkit"))
    try:
        group.resolve_command(ctx, [typed])
    except click.UsageError as e:
        return cli._command_of_the_kind(e, ctx)
    raise AssertionError(f"{typed} was found")


def test_a_long_summary_is_cut_at_a_word_within_80_characters():
    words = "Translate each line of standard input into the target language, one output line for each line read"
    said = _where(_group(words + ". Then more."), "predict")
    summary = said.split(" (", 1)[1].split("):", 1)[0]
    assert summary == "translate each line of standard input into the target language, one output line …"
    assert len(summary) - len(" …") <= 80


def test_a_summary_of_80_characters_is_whole():
    words = "Translate every line of standard input into the target language, one output line"     # 80 characters
    assert len(words) == 80
    assert f"({words[:1].lower()}{words[1:]}):" in _where(_group(words + "."), "predict")


def test_a_kind_the_group_has_no_command_of_is_no_hint_and_neither_is_the_command_itself():
    group = _group("Translate.")
    assert _where(group, "fit") == " — lstmkit thing train does this (train it): see 'lstmkit thing train --help'"
    group.commands.pop("train")
    assert _where(group, "fit") is None
    assert _where(group, "bogus") is None


def test_a_usage_error_click_ends_with_exit_1_is_exit_2_too(capsys):
    """click's own ClickException exits 1; a usage error of the command is exit 2, one line."""
    with pytest.raises(SystemExit) as e:
        cli._usage_error(click.ClickException("the thing is wrong."), [])
    assert e.value.code == 2 and capsys.readouterr().err == "error: the thing is wrong\n"


def test_a_lazily_mounted_group_without_the_kind_says_no_such_command(capsys):
    """``lstmkit inspect predict``: the group is run on its own (no parent, no task under it), so
    nothing points to a task; one line, exit 2."""
    from cli_helpers import assert_user_error, run_cli
    code, _, err = run_cli(["inspect", "predict"], capsys)
    assert_user_error(code, err, "no such command 'predict' — see 'lstmkit inspect --help'")


def test_an_error_of_no_command_or_no_context_has_no_hint():
    group = _group("Translate.")
    ctx = click.Context(group, info_name="thing")
    assert cli._command_of_the_kind(click.UsageError("No such option: --fit", ctx), ctx) is None
    assert cli._command_of_the_kind(click.UsageError("No such command 'fit'."), None) is None
