"""Speed-perturb a training data dir, each perturbed copy a new speaker:

    python -m pyspk.bin.perturb_data_dir_speed [--factors "0.9 1.1"] <src-data> <dst-data> <audio-dir>

``<dst-data>`` holds the original utterances plus ``sp<f>-`` copies whose FLAC audio is written under
``<audio-dir>``. See ``pyspk.augment.speed_perturb``.
"""
import dataclasses

from pyspk.augment.speed_perturb import perturb_data_dir_speed
from pyspk.bin.options import parse_options, run_command, setup_logging


@dataclasses.dataclass
class Options:
    """Make <dst-data>: <src-data> plus speed-perturbed copies as new speakers (audio under <audio-dir>)."""
    factors: str = "0.9 1.1"   # speed factors besides 1 (duration becomes 1/f)
    sample_rate: int = 16000   # Hz
    keep_speakers: bool = False  # copies keep their speaker (utt ids <utt>-sp<f>): augmentation for identification


def main(argv=None):
    opts, args = parse_options(Options, argv, positional=["src", "dst", "audio_dir"])
    setup_logging()
    try:
        factors = tuple(float(x) for x in opts.factors.split())
    except ValueError:
        raise ValueError(f"--factors: expected numbers, got {opts.factors!r}") from None
    perturb_data_dir_speed(args.src, args.dst, args.audio_dir, factors, opts.sample_rate, opts.keep_speakers)


if __name__ == "__main__":
    run_command(main)
