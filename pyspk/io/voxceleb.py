"""VoxCeleb's naming rule for Kaldi ids, shared by corpus preparation and trial-list reading.

A listed path ``<speaker>/<session>/<n>.<ext>`` gives the utterance id ``<speaker>-<session>-<n>``
(path without extension, ``/`` -> ``-``) and the speaker id ``<speaker>`` (its first component), so
every utterance id starts with its speaker id, as Kaldi's sorting conventions need.
"""
import os


def utt_id(path):
    """``id10270/x6uYqmx31kE/00001.wav`` -> ``id10270-x6uYqmx31kE-00001``."""
    return os.path.splitext(path)[0].replace("/", "-")


def speaker_id(path):
    """``id10270/x6uYqmx31kE/00001.wav`` -> ``id10270``."""
    return path.split("/", 1)[0]
