"""Ground floor: data dirs, Kaldi tables, audio, trials. Imports nothing else of pyspk."""
