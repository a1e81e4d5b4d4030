"""The ``neurotwin`` console script: :func:`neurotwin.cli.main` with Ctrl-C handled from the first
import on.

Importing the CLI imports torch, which takes seconds; a Ctrl-C in that time would otherwise end in
a traceback. Here it prints one line and exits with status 130, as Ctrl-C during a run does.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run the command line and exit with its status (130 when interrupted)."""
    try:
        from neurotwin.cli import main as run

        status = run()
    except KeyboardInterrupt:
        print("neurotwin: interrupted", file=sys.stderr)
        status = 130
    sys.exit(status)
