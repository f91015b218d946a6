"""One option style for every command: Kaldi ``--key=value`` config files that the CLI also accepts.

A command declares its options as a ``@dataclass``; each field ``foo_bar`` becomes ``--foo-bar``
(type from the default: int, float, str, bool as true|false). ``--config conf/x.conf`` reads lines
``--key=value`` (``#`` starts a comment); flags on the command line override the file. An unknown
key, in a file or on the command line, is an error that names where it came from.
"""
import argparse
import dataclasses
import logging
import os
import shlex
import sys


def _parse_bool(text):
    low = text.lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true|false, got {text!r}")


def _flag(name):
    return "--" + name.replace("_", "-")


def read_config_file(path):
    """Read a Kaldi-style config file -> list of (``file:line``, ``--key=value``); errors name file:line."""
    args = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise ValueError(f"cannot read config {path}: {e.strerror}") from None
    with f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if not line.startswith("--") or "=" not in line:
                raise ValueError(f"{path}:{lineno}: expected --key=value, got {line!r}")
            args.append((f"{path}:{lineno}", line))
    return args


def parse_options(config_cls, argv=None, positional=(), description=None):
    """Parse ``argv`` into (``config_cls`` instance, namespace of ``positional`` args).

    ``positional`` is a sequence of names, or of ``(name, help)`` pairs.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    parser = argparse.ArgumentParser(description=description or (config_cls.__doc__ or "").strip(),
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--config", action="append", default=[], help="file of --key=value lines")
    for name, field in fields.items():
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        kind = _parse_bool if isinstance(default, bool) else type(default)
        parser.add_argument(_flag(name), dest=name, type=kind, default=argparse.SUPPRESS,
                            help=f"(default: {default})" if field.metadata.get("help") is None
                            else f"{field.metadata['help']} (default: {default})")
    for item in positional:
        name, help_text = item if isinstance(item, tuple) else (item, None)
        parser.add_argument(name, help=help_text)

    def check_known(where, option):
        key = option[2:].split("=", 1)[0].replace("-", "_")
        if key not in fields:
            known = " ".join(_flag(k) for k in fields)
            parser.error(f"{where}: unknown option {_flag(key)} (known: {known})")

    # The command line first, to find --config files; then file values, overridden by the command line.
    cli = parser.parse_args(argv)
    values = {}
    for path in cli.config:
        try:
            options = read_config_file(path)
        except ValueError as e:
            parser.error(str(e))
        for where, option in options:
            check_known(where, option)
            key, value = option[2:].split("=", 1)
            ns = parser.parse_args([f"--{key}={value}"] + ["x"] * len(positional))
            values.update({k: v for k, v in vars(ns).items() if k in fields})
    values.update({k: v for k, v in vars(cli).items() if k in fields})
    config = config_cls(**values)
    pos = argparse.Namespace(**{k: v for k, v in vars(cli).items() if k not in fields and k != "config"})
    return config, pos


def format_config(config):
    """Render a config as ``--key=value`` lines (what ``--config`` reads back), for logs and exp dirs."""
    lines = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if isinstance(value, bool):
            value = str(value).lower()
        lines.append(f"{_flag(field.name)}={shlex.quote(str(value)) if value != '' else ''}")
    return "\n".join(lines) + "\n"


def setup_logging(level=logging.INFO):
    """Log every ``pyspk`` module's ``logging.getLogger(__name__)`` messages to stdout, one plain line
    each (the step scripts send stdout to ``exp/.../log/*.log``). Call once, in a command's ``main``."""
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stdout, force=True)


def run_command(main, argv=None):
    """Run a command's ``main(argv)``: user errors (bad input: ``ValueError`` and its subclasses, or
    ``OSError`` such as a missing file) end it with one line ``<command>: error: <message>`` and exit
    status 1; anything else is a bug and keeps its traceback."""
    name = os.path.basename(sys.argv[0]).removesuffix(".py")
    if name == "__main__":
        name = (sys.modules["__main__"].__spec__.name.rsplit(".", 1)[-1]
                if getattr(sys.modules["__main__"], "__spec__", None) else "pyspk")
    try:
        main(argv)
    except (ValueError, OSError) as e:
        message = str(e) if not isinstance(e, OSError) or not e.filename else f"{e.filename}: {e.strerror}"
        print(f"{name}: error: {message}", file=sys.stderr)
        sys.exit(1)
