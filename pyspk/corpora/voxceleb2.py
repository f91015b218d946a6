"""A training corpus in VoxCeleb2 dev layout: ``<root>/aac/<speaker>/<video>/<n>.m4a`` (also
``<root>/dev/aac/``, as ``vox2_dev_aac`` unpacks, or ``wav/`` for a converted copy), with an
optional ``vox2_meta.csv`` (speaker id, VGGFace2 id, gender, set).

There is no list file: the tree is the list. It is read one speaker at a time, so memory stays
bounded by the largest speaker. VoxCeleb2 speaker ids (id00012..id09272) are numbered apart from
VoxCeleb1's (id10001..id11251); its authors state the two sets of identities are disjoint.
"""
import os

from pyspk.corpora.voxceleb_lists import AUDIO_EXTENSIONS, CorpusError
from pyspk.io.tables import sort_key
from pyspk.io.voxceleb import utt_id

AUDIO_DIRS = ("aac", "dev/aac", "wav", "dev/wav")


def find_audio_root(corpus_root):
    """The folder of speaker folders: the first of ``aac``, ``dev/aac``, ``wav``, ``dev/wav`` present."""
    for d in AUDIO_DIRS:
        if os.path.isdir(os.path.join(corpus_root, d)):
            return os.path.join(os.path.abspath(corpus_root), d)
    raise CorpusError(f"{corpus_root}: no audio folder (looked for {', '.join(d + '/' for d in AUDIO_DIRS)})")


def speakers(audio_root):
    """Speaker folder names in the order their utterance ids sort."""
    names = [e.name for e in os.scandir(audio_root) if e.is_dir()]
    for name in names:
        if "-" in name or any(c.isspace() for c in name):
            raise CorpusError(f"{os.path.join(audio_root, name)}: a speaker folder name may not contain "
                              "'-' or blanks (utterance ids join path parts with '-')")
    if not names:
        raise CorpusError(f"{audio_root}: no speaker folders")
    return sorted(names, key=lambda s: sort_key(s + "-"))


def speaker_files(audio_root, speaker):
    """The audio files of one speaker -> list of paths ``<speaker>/<video>/<file>`` in utterance-id order."""
    paths = []
    for video in os.scandir(os.path.join(audio_root, speaker)):
        if video.is_dir():
            paths += [f"{speaker}/{video.name}/{f.name}" for f in os.scandir(video.path)
                      if os.path.splitext(f.name)[1].lower() in AUDIO_EXTENSIONS]
    return sorted(paths, key=lambda p: sort_key(utt_id(p)))


def validation_utterance(paths):
    """The utterance held out for validation from one speaker's paths (utterance-id order): the
    first of its last video, or None for a speaker with one video (a validation utterance from a
    video seen in training would flatter the network)."""
    videos = [p.split("/")[1] for p in paths]
    last = max(videos, key=sort_key) if videos else None
    if last is None or all(v == last for v in videos):
        return None
    return next(p for p in paths if p.split("/")[1] == last)


def list_corpus(audio_root):
    """Every utterance of the tree, speaker by speaker -> iterator of (relative path, is_validation)."""
    for speaker in speakers(audio_root):
        paths = speaker_files(audio_root, speaker)
        held_out = validation_utterance(paths)
        for path in paths:
            yield path, path == held_out
