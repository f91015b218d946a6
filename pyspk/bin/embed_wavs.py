"""Embed sound files with a trained network, outside any data dir:

    python -m pyspk.bin.embed_wavs [--output ark,scp:x.ark,x.scp] [--device cpu] <exp-dir> <wav>...

Each file is loaded as the recipe loads audio (channels averaged, resampled to 16 kHz) and embedded
as ``steps/extract_embeddings.sh`` embeds an utterance (``pyspk.load_model``). The key of a file is
its path as given without the extension, ``/`` -> ``-`` (``spk1/a.wav`` -> ``spk1-a``). Output:
Kaldi text vectors ``key  [ 0.1 -0.2 ... ]`` on stdout, or with ``--output ark,scp:ARK,SCP`` a
binary ark and its scp (atomically). An unreadable file is an error naming it.
"""
import dataclasses
import logging
import os
import sys

from pyspk.api import load_model
from pyspk.bin.options import parse_options, run_command, setup_logging
from pyspk.io.audio import AudioError
from pyspk.io.kaldi_table import ArkScpWriter

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Options:
    """Print or write the embeddings of sound files."""
    output: str = ""       # "" = Kaldi text vectors on stdout; ark,scp:ARK,SCP = binary ark + scp
    device: str = "cpu"    # cpu | cuda | auto


def wav_key(path):
    """``spk1/a.wav`` -> ``spk1-a``; leading ``./`` and ``/`` dropped."""
    stem = os.path.splitext(os.path.normpath(path))[0].lstrip("./")
    if not stem or any(c.isspace() for c in stem):
        raise ValueError(f"{path}: cannot make a table key of this path (empty or with whitespace)")
    return stem.replace("/", "-")


def text_vector(key, vector):
    """Kaldi text form of a vector: ``key  [ 1.5 -2 ]`` (9 significant digits: float32 exactly)."""
    return f"{key}  [ {' '.join(f'{x:.9g}' for x in vector.tolist())} ]\n"


def main(argv=None):
    setup_logging()
    argv = list(sys.argv[1:] if argv is None else argv)
    positional = [i for i, a in enumerate(argv) if not a.startswith("--")]
    if len(positional) < 2:
        raise ValueError("usage: embed_wavs [--output ark,scp:ARK,SCP] [--device cpu] <exp-dir> <wav>...")
    first = positional[0]
    opts, args = parse_options(Options, argv[:first + 1], positional=["exp_dir"])
    wavs = argv[first + 1:]
    keys = [wav_key(w) for w in wavs]
    if len(set(keys)) < len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"two files give the key {dup!r}: {', '.join(w for w, k in zip(wavs, keys) if k == dup)}")
    if not opts.output:  # stdout carries the vectors: log lines go to stderr
        logging.getLogger().handlers[0].setStream(sys.stderr)
    if opts.output and (not opts.output.startswith("ark,scp:") or opts.output.count(",") != 2):
        raise ValueError(f"--output must be ark,scp:ARK,SCP, got {opts.output!r}")
    model = load_model(args.exp_dir, opts.device)

    def embed(wav):
        try:
            return model.embed(wav)
        except AudioError as e:
            raise ValueError(str(e)) from None
    if not opts.output:
        for key, wav in zip(keys, wavs):
            sys.stdout.write(text_vector(key, embed(wav)))
        return
    ark, scp = opts.output[len("ark,scp:"):].split(",")
    with ArkScpWriter(os.path.abspath(ark), scp) as writer:
        for key, wav in zip(keys, wavs):
            writer.write(key, embed(wav))
    logger.info(f"embed_wavs: {len(wavs)} embeddings -> {ark} ({scp})")


if __name__ == "__main__":
    run_command(main)
