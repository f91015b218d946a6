"""Speed perturbation of a training data dir (Ko et al., Interspeech 2015), each perturbed copy a new
speaker (Yamamoto et al., Interspeech 2019; WeSpeaker and Kaldi's ``perturb_data_dir_speed_3way.sh``).

Speed factor ``f`` plays the recording ``f`` times as fast: tempo and pitch both change, the duration
becomes ``1/f`` times the original. It is done as Kaldi's ``sox speed f`` does: resample the samples
from ``rate`` to ``rate / f`` Hz and read them back at ``rate``.

A perturbed utterance ``u`` of speaker ``s`` becomes utterance ``sp<f>-u`` of speaker ``sp<f>-s`` (the
utterance id still starts with the speaker id, so sorting by utterance sorts by speaker). With
``keep_speakers`` (augmentation for identification, whose classes must stay the corpus' speakers) it
becomes utterance ``u-sp<f>`` of the same speaker ``s`` instead. Its audio is
written once as 16-bit FLAC under ``<audio_dir>/sp<f>/``, so the data dir stays a plain Kaldi data dir
(``wav.scp`` names files) that every later step reads like any other.
"""
import logging
import os
import re

import numpy as np
import soundfile
import soxr

from pyspk.io.atomic import atomic_write
from pyspk.io.audio import load_audio
from pyspk.io.datadir import DataDir, DataDirError, write_spk2utt
from pyspk.io.tables import write_map

logger = logging.getLogger(__name__)


def perturb_speed(samples, factor, rate=16000):
    """Samples (n,) float32 at ``rate`` Hz played ``factor`` times as fast -> (round(n / factor),) float32."""
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, got {factor}")
    if factor == 1:
        return samples
    return soxr.resample(samples, rate, rate / factor, quality="HQ").astype(np.float32, copy=False)


def prefix(factor):
    """Id prefix of a perturbed copy: 0.9 -> "sp0.9-"."""
    return f"sp{factor:g}-"


_PREFIX = re.compile(r"^sp[0-9]*\.?[0-9]+-")


def original_speaker(spk):
    """The speaker a copy made with new speakers stands for: "sp0.9-s1" -> "s1"; any other id itself."""
    return _PREFIX.sub("", spk, count=1)


def perturb_data_dir_speed(src, dst, audio_dir, factors=(0.9, 1.1), rate=16000, keep_speakers=False):
    """Make data dir ``dst``: ``src`` itself plus one copy per speed factor, each a new set of speakers
    (or, with ``keep_speakers``, more utterances of the same speakers).

    Writes ``dst/{wav.scp,utt2spk,spk2utt,utt2dur}`` (and ``spk2gender`` when ``src`` has it); the
    perturbed audio goes to ``audio_dir/sp<f>/<utt>.flac`` (absolute paths in ``wav.scp``). An
    utterance whose audio cannot be read is reported and left out of every copy. Returns the number of
    utterances in ``dst``.
    """
    if any(f == 1 for f in factors):
        raise ValueError("speed factors must not include 1 (the original is always kept)")
    d = DataDir(src)
    wav = d.wav_scp
    missing = [u for u in d.utts if u not in wav]
    if missing:
        raise DataDirError(f"{d.file('wav.scp')}: no audio for {len(missing)} utterance(s), e.g. {missing[0]}")
    gender = d.read("spk2gender") if d.has("spk2gender") else {}
    tables = {"wav.scp": {}, "utt2spk": {}, "utt2dur": {}}
    bad = []
    for i, utt in enumerate(d.utts, 1):
        try:
            samples, _ = load_audio(wav[utt], rate)
        except Exception as e:  # one unreadable recording is reported and skipped, never fatal
            bad.append(utt)
            logger.warning(f"{d.file('wav.scp')}: {utt}: skipped: {e}")
            continue
        spk = d.utt2spk[utt]
        tables["wav.scp"][utt], tables["utt2spk"][utt] = wav[utt], spk
        tables["utt2dur"][utt] = f"{len(samples) / rate:.3f}"
        for factor in factors:
            out = os.path.abspath(os.path.join(audio_dir, prefix(factor).rstrip("-"), f"{utt}.flac"))
            perturbed = perturb_speed(samples, factor, rate)
            with atomic_write(out, "wb") as f:
                soundfile.write(f, perturbed, rate, format="FLAC", subtype="PCM_16")
            if keep_speakers:
                new, new_spk = f"{utt}-{prefix(factor).rstrip('-')}", spk
            else:
                new, new_spk = prefix(factor) + utt, prefix(factor) + spk
            tables["wav.scp"][new], tables["utt2spk"][new] = out, new_spk
            tables["utt2dur"][new] = f"{len(perturbed) / rate:.3f}"
        if i % 500 == 0:
            logger.info(f"perturbed {i} of {len(d.utts)} utterances")
    if not tables["utt2spk"]:
        raise DataDirError(f"{src}: no readable utterance to perturb")
    os.makedirs(dst, exist_ok=True)
    for name, table in tables.items():
        write_map(os.path.join(dst, name), table)
    write_spk2utt(dst, tables["utt2spk"])
    if gender and keep_speakers:
        write_map(os.path.join(dst, "spk2gender"), gender)
    elif gender:
        write_map(os.path.join(dst, "spk2gender"),
                  {prefix(f) + s if f else s: g for s, g in gender.items() for f in (0, *factors)})
    n_spk = len(set(tables["utt2spk"].values()))
    logger.info(f"{src} -> {dst}: {len(tables['utt2spk'])} utterances of {n_spk} speakers "
                f"(speeds 1, {', '.join(f'{f:g}' for f in factors)}; {len(bad)} unreadable skipped)")
    return len(tables["utt2spk"])
