"""Options: one style everywhere (Kaldi --key=value config files, the same keys as CLI flags)."""
import dataclasses
import re
import subprocess

import pytest

from conftest import ROOT
from pyspk.bin.options import format_config, parse_options


@dataclasses.dataclass
class Opts:
    """Example command."""
    num_gauss: int = 4
    learning_rate: float = 1e-3
    use_gpu: bool = False
    name: str = "x"


def test_config_file_then_command_line_overrides(tmp_path):
    conf = tmp_path / "x.conf"
    conf.write_text("# a comment\n--num-gauss=8   # eight\n\n--use-gpu=true\n--name=from_file\n")
    opts, pos = parse_options(Opts, ["--config", str(conf), "--name=cli", "data/x"], positional=["data_dir"])
    assert opts == Opts(num_gauss=8, learning_rate=1e-3, use_gpu=True, name="cli")
    assert pos.data_dir == "data/x"


def test_format_config_reads_back(tmp_path):
    opts = Opts(num_gauss=16, learning_rate=0.5, use_gpu=True, name="b")
    conf = tmp_path / "used.conf"
    conf.write_text(format_config(opts))
    assert parse_options(Opts, ["--config", str(conf)])[0] == opts


@pytest.mark.parametrize("text, message", [
    ("--num-gauss=8\n--bogus=1\n", r"x\.conf:2: unknown option --bogus"),
    ("num-gauss 8\n", r"x\.conf:1: expected --key=value"),
])
def test_bad_config_lines_name_file_and_line(tmp_path, capsys, text, message):
    conf = tmp_path / "x.conf"
    conf.write_text(text)
    with pytest.raises(SystemExit):
        parse_options(Opts, ["--config", str(conf)])
    assert re.search(message, capsys.readouterr().err)


def test_unknown_flag_and_bad_bool_are_errors(capsys):
    with pytest.raises(SystemExit):
        parse_options(Opts, ["--bogus=1"])
    with pytest.raises(SystemExit):
        parse_options(Opts, ["--use-gpu=maybe"])
    assert "expected true|false" in capsys.readouterr().err


def test_shell_parse_options_sets_variables_and_rejects_unknown(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text('nj=1\nfoo_bar=a\n. utils/parse_options.sh\necho "$nj $foo_bar $*"\n')
    out = subprocess.run(["bash", str(script), "--nj", "4", "--foo-bar=b c", "pos1"], capture_output=True, text=True)
    assert out.stdout.strip() == "4 b c pos1"
    out = subprocess.run(["bash", str(script), "--nope", "1"], capture_output=True, text=True)
    assert out.returncode != 0 and "unknown option --nope" in out.stderr


def test_shell_config_file_uses_the_same_style(tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("# demo\n--nj=3   # jobs\n--foo-bar=from file\n")
    script = tmp_path / "s.sh"
    script.write_text('nj=1\nfoo_bar=a\n. utils/parse_options.sh\necho "$nj|$foo_bar|$*"\n')
    out = subprocess.run(["bash", str(script), "--config", str(conf), "--nj", "5", "x"], capture_output=True, text=True)
    assert out.stdout.strip() == "5|from file|x"
    conf.write_text("--nj=3\n--bogus=1\n")
    out = subprocess.run(["bash", str(script), "--config", str(conf)], capture_output=True, text=True)
    assert out.returncode != 0 and f"unknown option --bogus ({conf}:2)" in out.stderr


def test_one_console_command_runs_every_command_with_its_error_line(tmp_path):
    """``pyspk <command>`` (pyproject's console script, pyspk.bin.cli) is ``python -m pyspk.bin.<command>``."""
    from pyspk.bin.cli import commands
    assert {"train_cnn", "score", "init_ubm", "compute_baum_welch_stats"} <= set(commands())
    assert "options" not in commands() and "cli" not in commands()
    out = subprocess.run(["python", "-m", "pyspk.bin.cli", "init_ivector_extractor", str(tmp_path / "none.ubm"),
                          str(tmp_path / "x.ie")], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and out.stderr.startswith(f"init_ivector_extractor: error: {tmp_path}/none.ubm: ")
    assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.ie").exists()
    out = subprocess.run(["python", "-m", "pyspk.bin.cli", "nosuch"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and "pyspk: error: no command 'nosuch'" in out.stderr and "train_cnn" in out.stderr
