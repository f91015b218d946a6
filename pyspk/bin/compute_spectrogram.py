"""One job of steps/make_spectrogram.sh: log power spectrograms (Yadav & Rai 2018) of a data dir's
wav.scp into one ark/scp pair (raw: no normalisation; the consumers normalise)."""
import dataclasses

from pyspk.bin.options import format_config, parse_options, run_command, setup_logging
from pyspk.features.extract import extract_audio_features
from pyspk.features.spectrogram import SpectrogramOptions, log_spectrogram


@dataclasses.dataclass
class Options(SpectrogramOptions):
    """Spectrograms of <data_dir>/wav.scp -> <ark_path> + <scp_path> (frames x bins float32)."""
    utt2num_frames: str = dataclasses.field(default="", metadata={"help": "also write 'utt frames' lines here"})
    compress: bool = dataclasses.field(
        default=False, metadata={"help": "store Kaldi compressed matrices (CM: 1 byte a value, ~0.27x the size)"})


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["data_dir", "ark_path", "scp_path"])
    opts.check()
    print(format_config(opts), end="", flush=True)
    extract_audio_features(f"{args.data_dir}/wav.scp", lambda utt, samples: log_spectrogram(samples, opts),
                           args.ark_path, args.scp_path, rate=opts.sample_rate, min_samples=opts.frame_length,
                           num_frames_path=opts.utt2num_frames or None, compress=opts.compress,
                           name="compute_spectrogram")


if __name__ == "__main__":
    run_command(main)
