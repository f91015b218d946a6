"""Writing a Kaldi data dir from utterances given one at a time in sorted order (stage 0).

Lines go straight to temp files, so a corpus of a million utterances costs no more memory than one
speaker's; the files are renamed into place only when the whole dir is written.
"""
import contextlib
import logging
import os
import shutil

from pyspk.io.atomic import atomic_write
from pyspk.io.tables import sort_key, write_map

logger = logging.getLogger(__name__)

# Files of an earlier run that would not match the new utterances: a rerun starts clean.
STALE_FILES = ("feats.scp", "vad.scp", "utt2num_frames", "trials", "spk2gender")


class DataDirWriter:
    """Context manager writing ``path``'s wav.scp, utt2spk, utt2dur, spk2utt and spk2gender.

    ``add`` takes utterances in strictly increasing C-locale order with each speaker's utterances
    together, each id starting with its speaker's (Kaldi's rule), and checks all three: every table
    is written from the same utterances, so the dir needs no re-reading to be valid. On a clean exit the files
    are published (stale feature tables, trial lists and genders of an earlier run removed); a dir
    that got no utterance is removed instead. On an exception nothing is published.
    """

    def __init__(self, path, genders=None):
        self.path = os.fspath(path)
        self.genders = genders or {}
        self.num_utts = 0
        self.speakers = []
        self._files = None
        self._stack = contextlib.ExitStack()
        self._last = None
        self._spk2utt = None

    def __enter__(self):
        return self

    def add(self, utt, spk, entry, duration):
        """Append one utterance: id, speaker id, wav.scp entry, duration in seconds."""
        key = sort_key(utt)
        if self._last is not None and key <= self._last:
            raise ValueError(f"{self.path}: utterance {utt!r} given twice or out of order")
        if not utt.startswith(spk + "-"):
            raise ValueError(f"{self.path}: utterance {utt!r} does not start with its speaker id {spk!r} and '-'")
        self._last = key
        if self._files is None:
            os.makedirs(self.path, exist_ok=True)
            self._files = [self._stack.enter_context(atomic_write(os.path.join(self.path, name)))
                           for name in ("wav.scp", "utt2spk", "utt2dur", "spk2utt")]
        if not self.speakers or self.speakers[-1] != spk:
            if self.speakers and sort_key(spk) <= sort_key(self.speakers[-1]):
                raise ValueError(f"{self.path}: utterance {utt!r} of speaker {spk!r} comes after speaker "
                                 f"{self.speakers[-1]!r}: speaker ids must be prefixes of utterance ids")
            self._end_speaker()
            self.speakers.append(spk)
            self._spk2utt = []
        wav, utt2spk, utt2dur, _ = self._files
        wav.write(f"{utt} {entry}\n")
        utt2spk.write(f"{utt} {spk}\n")
        utt2dur.write(f"{utt} {duration:.3f}\n")
        self._spk2utt.append(utt)
        self.num_utts += 1

    def _end_speaker(self):
        if self._spk2utt:
            self._files[3].write(f"{self.speakers[-1]} {' '.join(self._spk2utt)}\n")

    def __exit__(self, kind, error, traceback):
        if kind is not None:
            return self._stack.__exit__(kind, error, traceback)
        if self._files is None:
            if os.path.isdir(self.path):
                logger.info(f"removing {self.path} of an earlier run: no utterance for it now")
                shutil.rmtree(self.path)
            return False
        self._end_speaker()
        self._stack.close()
        for name in STALE_FILES + tuple(f for f in os.listdir(self.path) if f.startswith("trials_")):
            if os.path.exists(os.path.join(self.path, name)):
                os.unlink(os.path.join(self.path, name))
        if any(s in self.genders for s in self.speakers):
            write_map(os.path.join(self.path, "spk2gender"),
                      {s: self.genders[s] for s in self.speakers if s in self.genders})
        return False
