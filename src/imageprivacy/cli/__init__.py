"""`imageprivacy <verb>`: each verb parses its arguments, calls one function, prints where results are."""
from __future__ import annotations

import argparse
import sys

from imageprivacy.cli.arguments import VerbParser, printable
from imageprivacy.cli.data_parallel import check_launch
from imageprivacy.errors import ImagePrivacyError, OutputError
from imageprivacy.training.accelerator import set_precision

USAGE_ERROR, OUTPUT_ERROR = 2, 3     # exit codes of a typed error; a verb returns 0 or 1 itself


def build_parser() -> argparse.ArgumentParser:
    from imageprivacy.cli.dpf import commands as dpf_commands
    from imageprivacy.cli.obfuscator import commands as obfuscator_commands
    from imageprivacy.cli.unlearnable import VERBS as UNLEARNABLE_VERBS

    parser = VerbParser(prog="imageprivacy", description="Protect images before you share them.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (*UNLEARNABLE_VERBS, dpf_commands, obfuscator_commands):
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "precision", None):
        set_precision(args.precision)
    try:
        check_launch(args)
        return int(args.run(args) or 0)
    except ImagePrivacyError as err:
        message = printable(" ".join(str(err).splitlines()))     # one line, whatever the message holds
        print(f"imageprivacy {args.command}: error: {message}", file=sys.stderr)
        return OUTPUT_ERROR if isinstance(err, OutputError) else USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted; finished outputs are kept, a re-run resumes", file=sys.stderr)
        return 130
