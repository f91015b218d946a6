"""One job of steps/make_mfcc.sh: Kaldi-style MFCCs of a data dir's wav.scp into one ark/scp pair
(raw: no CMVN; the consumers normalise). Dither is seeded from each utterance id."""
import dataclasses

from pyspk.bin.options import format_config, parse_options, run_command, setup_logging
from pyspk.features.extract import extract_audio_features
from pyspk.features.mfcc import MfccOptions, compute_mfcc, dither_seed


@dataclasses.dataclass
class Options(MfccOptions):
    """MFCCs of <data_dir>/wav.scp -> <ark_path> + <scp_path> (frames x num-ceps float32)."""
    utt2num_frames: str = dataclasses.field(default="", metadata={"help": "also write 'utt frames' lines here"})
    compress: bool = dataclasses.field(
        default=False, metadata={"help": "store Kaldi compressed matrices (CM: 1 byte a value, ~0.27x the size)"})


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["data_dir", "ark_path", "scp_path"])
    opts.check()
    print(format_config(opts), end="", flush=True)
    extract_audio_features(f"{args.data_dir}/wav.scp",
                           lambda utt, samples: compute_mfcc(samples, opts, seed=dither_seed(utt)),
                           args.ark_path, args.scp_path, rate=opts.sample_frequency,
                           min_samples=opts.window_size, num_frames_path=opts.utt2num_frames or None,
                           compress=opts.compress,
                           name="compute_mfcc")


if __name__ == "__main__":
    run_command(main)
