"""Corpus preparation (stage 0): corpora in VoxCeleb layouts -> Kaldi data dirs."""
