"""Finding a corpus's audio files and timing them from their headers, many at once.

Durations come from file headers (an MP4's movie header for .m4a), never from decoding: decoding
a VoxCeleb2-size corpus would take hours. Threads suit this work: it waits on the file system.
"""
import itertools
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from pyspk.corpora.voxceleb_lists import AUDIO_EXTENSIONS
from pyspk.io.audio import AudioError, audio_duration

# Where VoxCeleb1 audio may live under the corpus root: a merged wav/ folder, the root itself, or
# VoxCeleb1's archives unpacked as they come (dev and test apart).
AUDIO_DIRS = ("wav", "", "vox1_dev_wav/wav", "vox1_test_wav/wav")
NOT_IN_COPY = "its speaker has no audio folder in this copy of the corpus"


def find_audio(corpus_root, path):
    """The absolute path of the audio for a listed path, or None when not found.

    Looks in ``<root>/wav/``, ``<root>/``, ``<root>/vox1_dev_wav/wav/`` and ``<root>/vox1_test_wav/wav/``,
    under the listed name first, then the same name with another audio extension (a list saying .wav
    for a corpus stored as .flac).
    """
    root = os.path.abspath(corpus_root)
    stem, ext = os.path.splitext(path)
    names = [path] + [stem + e for e in AUDIO_EXTENSIONS if e != ext.lower()]
    for base in (os.path.join(root, d) for d in AUDIO_DIRS):
        for name in names:
            full = os.path.join(base, name)
            if os.path.isfile(full):
                return full
    return None


def has_speaker_folder(corpus_root, speaker):
    """True when some audio folder of ``corpus_root`` has a folder for ``speaker``."""
    root = os.path.abspath(corpus_root)
    return any(os.path.isdir(os.path.join(root, d, speaker)) for d in AUDIO_DIRS)


def probe_file(audio_path):
    """Duration of one audio file -> (duration in s, None) or (None, reason it is unusable)."""
    if any(c.isspace() for c in audio_path):
        return None, "path contains whitespace (not allowed in wav.scp)"
    try:
        return audio_duration(audio_path), None
    except AudioError as e:
        return None, str(e).removeprefix(audio_path + ": ")


def ordered_map(function, items, num_threads=16, chunk=256):
    """``map(function, items)`` over ``num_threads`` threads, yielding results in input order.

    ``items`` may be a generator: at most ``4 * num_threads`` chunks of ``chunk`` items are in
    flight, so memory stays bounded however many items there are.
    """
    items = iter(items)
    with ThreadPoolExecutor(max_workers=num_threads) as pool:
        pending = deque()
        while True:
            while len(pending) < 4 * num_threads:
                batch = list(itertools.islice(items, chunk))
                if not batch:
                    break
                pending.append(pool.submit(lambda b: [function(x) for x in b], batch))
            if not pending:
                return
            yield from pending.popleft().result()
