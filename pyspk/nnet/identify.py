"""Closed-set speaker identification: top-k accuracy of the classifier on full-length utterances."""
import numpy as np

from pyspk.nnet.extract import forward_utterances


def top_k_correct(logits, labels, ks=(1, 5)):
    """logits (n, classes), labels (n,) -> {k: number of rows whose label is among the k best}."""
    order = np.argsort(-logits, axis=1, kind="stable")
    return {k: int((order[:, :k] == labels[:, None]).any(axis=1).sum()) for k in ks}


def identification_accuracy(model, data_dir, utt2spk, speakers, device, max_frames=0, ks=(1, 5), log=print):
    """Top-k accuracy (%) of ``model`` on the utterances of ``utt2spk`` -> ({k: percent}, n scored).

    ``speakers``: class index -> speaker id, as in the checkpoint; every test speaker must be one.
    Unreadable utterances are logged and left out of the count.
    """
    label_of = {spk: i for i, spk in enumerate(speakers)}
    unknown = sorted({spk for spk in utt2spk.values() if spk not in label_of})
    if unknown:
        raise ValueError(f"{data_dir}: {len(unknown)} speaker(s) the model was not trained on, "
                         f"e.g. {', '.join(unknown[:3])}: identification is closed-set")
    correct, n = dict.fromkeys(ks, 0), 0
    for names, logits, _ in forward_utterances(model, data_dir, sorted(utt2spk), device, max_frames, log):
        labels = np.array([label_of[utt2spk[u]] for u in names])
        for k, c in top_k_correct(logits, labels, ks).items():
            correct[k] += c
        n += len(names)
    if n == 0:
        raise ValueError(f"{data_dir}: no utterance could be scored")
    return {k: 100.0 * c / n for k, c in correct.items()}, n
