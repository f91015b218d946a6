"""One job of steps/compute_vad_decision.sh: Kaldi energy VAD from the MFCCs (log energy in c0) of
a data dir's feats.scp -> one float32 vector (1.0 voiced / 0.0) per utterance in an ark/scp pair."""
import dataclasses

from pyspk.bin.options import format_config, parse_options, run_command, setup_logging
from pyspk.features.extract import transform_features
from pyspk.features.vad import VadOptions, compute_vad


@dataclasses.dataclass
class Options(VadOptions):
    """VAD decisions for <data_dir>/feats.scp -> <ark_path> + <scp_path>."""


def main(argv=None):
    setup_logging()
    opts, args = parse_options(Options, argv, positional=["data_dir", "ark_path", "scp_path"])
    opts.check()
    print(format_config(opts), end="", flush=True)
    transform_features(f"{args.data_dir}/feats.scp", lambda utt, feats: compute_vad(feats, opts),
                       args.ark_path, args.scp_path, name="compute_vad")


if __name__ == "__main__":
    run_command(main)
