"""What the tests share: where the repository and the shipped demo corpus are, VoxCeleb's id rule,
and the choice of demo utterances. Test modules import them (``from conftest import ROOT, utt_id``:
pytest puts this directory on ``sys.path``)."""
import os

from pyspk.io.tables import read_table
from pyspk.io.voxceleb import utt_id

__all__ = ["ROOT", "DEMO_CORPUS", "DEMO_WAV", "demo_paths", "utt_id"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CORPUS = os.path.join(ROOT, "egs", "demo", "corpus")   # shipped with the repository (VoxCeleb1 layout)
DEMO_WAV = os.path.join(DEMO_CORPUS, "wav")


def demo_paths(per_speaker, speakers=None):
    """The first ``per_speaker`` utterance paths (relative to ``DEMO_WAV``) of each demo speaker in
    ``iden_split.txt`` (or of the named ``speakers`` only, in their order), sorted within a speaker."""
    by_spk = {}
    for _, path in read_table(os.path.join(DEMO_CORPUS, "iden_split.txt"), 2, 2):
        by_spk.setdefault(path.split("/")[0], []).append(path)
    return [p for s in (speakers or sorted(by_spk)) for p in sorted(by_spk[s])[:per_speaker]]

