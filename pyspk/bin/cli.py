"""One console command for every pyspk command, installed by ``pip install -e .``:

    pyspk <command> [options] <args>      # the same as python -m pyspk.bin.<command> ...
    pyspk                                 # lists the commands

User errors end with one line ``<command>: error: ...`` and exit status 1, as with ``python -m``.
"""
import importlib
import pkgutil
import sys

import pyspk.bin
from pyspk.bin.options import run_command

NOT_COMMANDS = {"cli", "options"}


def commands():
    """The command names: the modules of pyspk.bin."""
    return sorted(m.name for m in pkgutil.iter_modules(pyspk.bin.__path__) if m.name not in NOT_COMMANDS)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    names = commands()
    if not argv or argv[0] not in names:
        if argv and argv[0] not in ("-h", "--help"):
            print(f"pyspk: error: no command {argv[0]!r}", file=sys.stderr)
        print("usage: pyspk <command> [options] <args>   (pyspk <command> --help for its options)\n"
              "commands: " + " ".join(names), file=sys.stderr)
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 1)
    module = importlib.import_module(f"pyspk.bin.{argv[0]}")
    sys.argv[0] = argv[0]   # run_command names the command by it
    run_command(module.main, argv[1:])


if __name__ == "__main__":
    main()
