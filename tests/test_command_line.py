"""Every verb of `imageprivacy`: --help shows each default, and every typed error is one line and exit code 2."""
import argparse

import pytest

from imageprivacy import errors
from imageprivacy.cli import build_parser, main

ERRORS = [cls for cls in vars(errors).values()
          if isinstance(cls, type) and issubclass(cls, errors.ImagePrivacyError)]


def _verbs(parser: argparse.ArgumentParser, path=()):
    """(argv prefix, parser) of every verb, nested ones (dpf train, obfuscator encode, ...) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _verbs(sub, (*path, name))
    if path:
        yield path, parser


VERBS = list(_verbs(build_parser()))


def test_the_verbs_are_all_there():
    names = {" ".join(path) for path, _ in VERBS}
    assert {"demo", "train-generator", "fit", "protect", "serve", "evaluate", "sweep", "suite", "dpf", "dpf train",
            "dpf evaluate", "obfuscator", "obfuscator train", "obfuscator evaluate", "obfuscator encode"} <= names


@pytest.mark.parametrize("path, parser", VERBS, ids=[" ".join(p) for p, _ in VERBS])
def test_help_shows_every_default(path, parser):
    text = " ".join(parser.format_help().split())         # argparse wraps lines anywhere
    shown = [a for a in parser._actions if a.option_strings and not a.required and a.default is not None
             and a.default is not False and a.default is not argparse.SUPPRESS]
    for action in shown:
        assert f"(default: {action.default})" in text, (path, action.option_strings)


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as info:
        main(["suite", "--help"])
    assert info.value.code == 0 and "(default: runs/suite)" in capsys.readouterr().out


@pytest.mark.parametrize("error", ERRORS, ids=[e.__name__ for e in ERRORS])
def test_every_typed_error_is_one_line_and_exit_2_or_3_for_the_output(error, monkeypatch, capsys):
    from imageprivacy.cli.unlearnable import sweep_command
    from imageprivacy.errors import OutputError

    def fail(args):
        raise error("what went wrong\nand where")
    monkeypatch.setattr(sweep_command, "run", fail)
    assert main(["sweep"]) == (3 if issubclass(error, OutputError) else 2)
    err = capsys.readouterr().err
    assert err == "imageprivacy sweep: error: what went wrong and where\n"


@pytest.mark.parametrize("argv, message", [
    (["suite", "fig-9", "--out", "{tmp}/x"], "unknown experiment(s) ['fig-9']"),
    (["dpf", "evaluate", "{tmp}/no-run"], "is not a DPF run folder"),
    (["obfuscator", "evaluate", "{tmp}/no-run"], "is not an obfuscator run folder"),
    (["obfuscator", "encode", "{tmp}/no-run", "{tmp}", "{tmp}/f.safetensors"], "no deepobfuscator-obfuscator file at"),
])
def test_real_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("argv, message", [
    (["suite", "all", "--options", "{not json"], "not JSON"),
    (["suite", "all", "--options", "[1, 2]"], "not a JSON object"),
    (["sweep", "--epsilons", "8/255,lots"], "not a budget"),
])
def test_bad_values_are_refused_before_running(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_progress_stage_lines_show_the_time_since_the_job_began(monkeypatch, capsys):
    from imageprivacy.cli import arguments

    clock = iter([100.0, 100.5, 225.0, 0.0])
    monkeypatch.setattr("time.perf_counter", lambda: next(clock))
    progress = arguments.progress_printer()
    progress("stage", {"stage": "protecting with emn"})
    progress("stage", {"stage": "victim paper on clean"})
    progress("epoch", {"epoch": 1, "epochs": 2, "train_acc": 0.5})
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["== [00:00] protecting with emn", "== [02:05] victim paper on clean",
                     "   epoch 1/2: epoch 1, train_acc 0.500"]
    arguments.progress_printer(quiet=True)("stage", {"stage": "hidden"})
    assert capsys.readouterr().err == ""
