"""pyspk: a Kaldi-style speaker recognition toolkit (Yadav & Rai, Interspeech 2018, reproduced)."""
