"""Closed-set speaker identification: top-k accuracy of the classifier on full-length utterances."""
import numpy as np

from pyspk.metrics import rank_accuracy, true_class_rank
from pyspk.nnet.extract import forward_utterances


def identification_accuracy(model, data_dir, utt2spk, speakers, device, max_frames=0, ks=(1, 5), log=print):
    """Top-k accuracy (%) of ``model`` on the utterances of ``utt2spk`` -> ({k: percent}, n scored).

    ``speakers``: class index -> speaker id, as in the checkpoint; every test speaker must be one.
    Unreadable utterances are logged and left out of the count. Top-k as ``pyspk.metrics.topk_accuracy``
    (a tie with the true class counts against the model).
    """
    label_of = {spk: i for i, spk in enumerate(speakers)}
    unknown = sorted({spk for spk in utt2spk.values() if spk not in label_of})
    if unknown:
        raise ValueError(f"{data_dir}: {len(unknown)} speaker(s) the model was not trained on, "
                         f"e.g. {', '.join(unknown[:3])}: identification is closed-set")
    ranks = []
    for names, logits, _ in forward_utterances(model, data_dir, sorted(utt2spk), device, max_frames, log):
        ranks.append(true_class_rank(logits, np.array([label_of[utt2spk[u]] for u in names])))
    if not ranks:
        raise ValueError(f"{data_dir}: no utterance could be scored")
    ranks = np.concatenate(ranks)
    return rank_accuracy(ranks, ks), len(ranks)
