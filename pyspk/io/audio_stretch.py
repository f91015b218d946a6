"""Reading a stretch of a sound file without decoding the rest (libsndfile seek), for training crops
and noise taken straight from audio. Only files can be read so (not ``wav.scp`` commands), at the
sample rate asked for; several channels are averaged.
"""
import numpy as np
import soundfile

from pyspk.io.audio import AudioError, is_pipe


def audio_num_samples(entry, rate):
    """Samples of a ``wav.scp`` entry from the file's header (no decoding); it must be a file at ``rate`` Hz."""
    entry = entry.strip()
    if is_pipe(entry):
        raise AudioError(f"{entry}: a command's output cannot be read in stretches: "
                         f"convert the audio to files (e.g. FLAC at {rate} Hz) for --feature-source=audio")
    try:
        info = soundfile.info(entry)
    except (soundfile.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{entry}: not readable audio: {e}") from None
    if info.samplerate != rate:
        raise AudioError(f"{entry}: {info.samplerate} Hz audio, {rate} Hz needed (resample the files first)")
    if info.frames <= 0:
        raise AudioError(f"{entry}: no samples")
    return info.frames


def read_stretch(path, start, count):
    """Samples ``start .. start + count`` of a sound file -> float32 (count,), mono, with zeros for
    positions before 0 or past the end (as a centred spectrogram's padding)."""
    out = np.zeros(count, dtype=np.float32)
    try:
        with soundfile.SoundFile(path) as f:
            first, last = max(start, 0), min(start + count, f.frames)
            if last > first:
                f.seek(first)
                data = f.read(last - first, dtype="float32", always_2d=True)
                if data.shape[0] != last - first:
                    raise AudioError(f"{path}: truncated: {data.shape[0]} of {last - first} samples "
                                     f"from sample {first}")
                out[first - start:last - start] = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    except (soundfile.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{path}: cannot read samples {start}..{start + count}: {e}") from None
    return out
