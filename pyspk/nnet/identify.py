"""Closed-set speaker identification: top-k accuracy of the loss's classifier head on full-length utterances."""
import numpy as np
import torch

from pyspk.metrics import rank_accuracy, true_class_rank
from pyspk.nnet.extract import forward_utterances


@torch.no_grad()
def identification_ranks(model, head, data_dir, utt2spk, speakers, device, max_frames=0):
    """Rank (n,) of the true speaker among ``head.logits(model(x))`` for each scored utterance of
    ``utt2spk`` (1 = best; a tie counts against the model, ``pyspk.metrics.true_class_rank``).

    ``speakers``: class index -> speaker id, as in the checkpoint; every test speaker must be one.
    Unreadable utterances are logged and left out.
    """
    label_of = {spk: i for i, spk in enumerate(speakers)}
    unknown = sorted({spk for spk in utt2spk.values() if spk not in label_of})
    if unknown:
        raise ValueError(f"{data_dir}: {len(unknown)} speaker(s) the model was not trained on, "
                         f"e.g. {', '.join(unknown[:3])}: identification is closed-set")
    ranks = [np.zeros(0, dtype=np.int64)]
    for names, embeddings in forward_utterances(model, data_dir, sorted(utt2spk), device, max_frames):
        scores = head.logits(embeddings).float().cpu().numpy()
        ranks.append(true_class_rank(scores, np.array([label_of[utt2spk[u]] for u in names])))
    return np.concatenate(ranks)


def identification_accuracy(model, head, data_dir, utt2spk, speakers, device, max_frames=0, ks=(1, 5)):
    """Top-k accuracy (%) on the utterances of ``utt2spk`` -> ({k: percent}, n scored); see
    :func:`identification_ranks`. No scorable utterance is an error."""
    ranks = identification_ranks(model, head, data_dir, utt2spk, speakers, device, max_frames)
    if len(ranks) == 0:
        raise ValueError(f"{data_dir}: no utterance could be scored")
    return rank_accuracy(ranks, ks), len(ranks)
