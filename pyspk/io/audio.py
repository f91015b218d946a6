"""Loading the audio a ``wav.scp`` entry names: a file path, or a shell command ending in ``|``
whose standard output is a sound file (e.g. ``sox x.sph -t wav - |``).

Any format libsndfile reads (WAV, FLAC, OGG, ...) is accepted; MP4 audio (VoxCeleb2's AAC
``.m4a``) is decoded in-process by PyAV, whose wheel carries its own FFmpeg libraries (no
``ffmpeg`` process per file). Several channels are averaged to one; another sample rate is
resampled with soxr (high quality). Every failure is an ``AudioError`` whose message names the
file and says what is wrong.
"""
import io
import os
import subprocess

import av
import numpy as np
import soundfile
import soxr


MP4_EXTENSIONS = (".m4a", ".mp4", ".aac")   # decoded by PyAV; everything else by libsndfile


class AudioError(Exception):
    """Audio that cannot be used; the message names the file (or command) and the reason."""


def is_mp4(path):
    """True for a file decoded by PyAV (by its extension: .m4a, .mp4, .aac)."""
    return path.lower().endswith(MP4_EXTENSIONS)


def is_pipe(entry):
    """True when a wav.scp entry is a command (``... |``) rather than a path."""
    return entry.rstrip().endswith("|")


def entry_source(entry):
    """The file a wav.scp entry reads: the path, or the first existing path among a command's words."""
    entry = entry.strip()
    if not is_pipe(entry):
        return entry
    words = entry[:-1].split()
    return next((w for w in words[1:] if os.path.isfile(w)), entry)


def _read_pipe(command):
    proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(f"command failed with exit status {proc.returncode}: {command!r}"
                         + (f": {err[-1]}" if err else ""))
    if not proc.stdout:
        raise AudioError(f"command wrote no audio: {command!r}")
    return io.BytesIO(_unknown_wav_sizes(proc.stdout))


def _unknown_wav_sizes(data):
    """A streamed WAV may carry 0 as its RIFF and data sizes (the writer could not seek back to fill
    them in); libsndfile would read 0 samples. Mark them unknown (0xFFFFFFFF): read to the end."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    pos = 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4:pos + 8], "little")
        if data[pos:pos + 4] == b"data":
            if size == 0:
                data = data[:4] + b"\xff\xff\xff\xff" + data[8:pos + 4] + b"\xff\xff\xff\xff" + data[pos + 8:]
            break
        pos += 8 + size + (size & 1)
    return data


def _check_wav_data_chunk(path):
    """Raise AudioError when a RIFF/WAVE file's data chunk is shorter than its header says.

    libsndfile silently shortens such a file to the bytes present, so this is checked by hand.
    A size of 0 or 0xFFFFFFFF (written by streaming tools that cannot seek) is not checked.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                present = os.fstat(f.fileno()).st_size - f.tell()
                if 0 < size < 0xFFFFFFFF and present < size:
                    raise AudioError(f"{path}: truncated: WAV header promises {size} data bytes, "
                                     f"file holds {present}")
                return
            f.seek(size + (size & 1), os.SEEK_CUR)


def _decode_mp4(path):
    """Decode the first audio stream of an MP4/M4A file with PyAV -> (samples, rate, channels).

    A file whose decoded length falls more than 0.1 s short of its header's is truncated."""
    try:
        container = av.open(path)
    except av.FFmpegError as e:
        raise AudioError(f"{path}: not readable audio: {e.strerror}") from None
    with container:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioError(f"{path}: no audio stream")
        rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
        # planar float: each frame is (channels, samples)
        resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout, rate=rate)
        try:
            parts = [f.to_ndarray() for frame in container.decode(stream) for f in resampler.resample(frame)]
            parts += [f.to_ndarray() for f in resampler.resample(None)]
        except av.FFmpegError as e:
            raise AudioError(f"{path}: cannot decode (truncated or corrupt?): {e.strerror}") from None
        promised = float(stream.duration * stream.time_base) if stream.duration else None
    data = np.concatenate(parts, axis=1).T if parts else np.zeros((0, channels), np.float32)
    if data.shape[0] == 0:
        raise AudioError(f"{path}: no samples")
    if promised is not None and data.shape[0] / rate < promised - 0.1:
        raise AudioError(f"{path}: truncated: header promises {promised:.3f} s, "
                         f"file holds {data.shape[0] / rate:.3f} s")
    return np.ascontiguousarray(data, dtype=np.float32), rate, channels


def write_m4a(path, samples, rate=16000):
    """Encode mono float32 samples (n,) at ``rate`` Hz as AAC in an MP4 container, as VoxCeleb2 ships
    its audio (FFmpeg's AAC encoder through PyAV; the stream starts with 1,024 priming samples)."""
    with av.open(os.fspath(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.asarray(samples, np.float32)[None, :], format="fltp", layout="mono")
        frame.rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def _check_file(path):
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except OSError as e:
        raise AudioError(f"{path}: cannot read: {e.strerror}") from None
    if size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")


def read_audio(entry):
    """Decode a wav.scp entry -> (samples, rate, channels).

    samples: float32 array (frames, channels) in [-1, 1); rate in Hz. Checks that the file exists,
    is not empty, is audio, and holds as many samples as its header promises (else: truncated).
    """
    entry = entry.strip()
    if is_pipe(entry):
        source, name = _read_pipe(entry[:-1].strip()), entry
    else:
        _check_file(entry)
        if is_mp4(entry):
            return _decode_mp4(entry)
        source = name = entry
    try:
        f = soundfile.SoundFile(source)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(f"{name}: not readable audio: {e}") from None
    with f:
        expected, rate, channels = f.frames, f.samplerate, f.channels
        try:
            data = f.read(dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError) as e:
            raise AudioError(f"{name}: cannot decode (truncated or corrupt?): {e}") from None
    if data.shape[0] == 0:
        raise AudioError(f"{name}: no samples")
    # libsndfile returns what is there for a cut-off file: compare with what the header promises.
    if 0 < expected < 2**62 and data.shape[0] < expected:
        raise AudioError(f"{name}: truncated: header promises {expected} samples, file holds {data.shape[0]}")
    if not is_pipe(entry):
        _check_wav_data_chunk(entry)
    return data, rate, channels


def load_audio(entry, rate=16000):
    """Load a wav.scp entry as mono float32 samples at ``rate`` Hz -> (samples (n,), notes).

    notes: list of str saying what was changed (downmixed, resampled), empty for conforming audio.
    """
    data, file_rate, _ = read_audio(entry)
    return conform_samples(data, file_rate, rate)


def conform_samples(data, file_rate, rate=16000):
    """Samples (n,) or (n, channels) at ``file_rate`` Hz -> (mono float32 (m,) at ``rate`` Hz, notes):
    channels averaged, other rates resampled with soxr (HQ), as every recipe step loads audio."""
    data = np.asarray(data, dtype=np.float32)
    data = data[:, None] if data.ndim == 1 else data
    channels = data.shape[1]
    notes = []
    if channels > 1:
        notes.append(f"downmixed {channels} channels")
    samples = data.mean(axis=1, dtype=np.float32) if channels > 1 else data[:, 0]
    if file_rate != rate:
        notes.append(f"resampled {file_rate} Hz -> {rate} Hz")
        samples = soxr.resample(samples, file_rate, rate, quality="HQ").astype(np.float32, copy=False)
    return np.ascontiguousarray(samples), notes


def audio_duration(entry):
    """Duration of a wav.scp entry in seconds from the file header (no decoding); pipes, and MP4
    files without a readable movie header, are decoded."""
    entry = entry.strip()
    if not is_pipe(entry):
        _check_file(entry)
        if not is_mp4(entry):
            try:
                info = soundfile.info(entry)
            except (soundfile.LibsndfileError, RuntimeError) as e:
                raise AudioError(f"{entry}: not readable audio: {e}") from None
            if info.frames <= 0:
                raise AudioError(f"{entry}: no samples")
            return info.frames / info.samplerate
        seconds = mp4_duration(entry)
        if seconds is not None:
            return seconds
    data, rate, _ = read_audio(entry)
    return data.shape[0] / rate


def mp4_duration(path):
    """Duration in seconds of an MP4/M4A file from its movie header box (moov/mvhd), without
    decoding; None when the file has no readable mvhd (then decode it instead).
    The header counts the encoder's priming samples too (a few tens of ms for AAC)."""
    try:
        f = open(path, "rb")
    except OSError:
        return None
    with f:
        pos, stop = 0, os.fstat(f.fileno()).st_size
        while pos + 8 <= stop:
            f.seek(pos)
            head = f.read(8)
            size, kind, start = int.from_bytes(head[:4], "big"), head[4:], pos + 8
            if size == 1:
                size, start = int.from_bytes(f.read(8), "big"), pos + 16
            elif size == 0:
                size = stop - pos
            if size < start - pos:
                return None
            if kind == b"moov":  # descend: the next boxes are moov's children
                pos, stop = start, pos + size
                continue
            if kind == b"mvhd":
                body = f.read(32)
                wide = body[:1] == b"\x01"  # version 1: 64-bit times and duration
                timescale = int.from_bytes(body[20:24] if wide else body[12:16], "big")
                duration = int.from_bytes(body[24:32] if wide else body[16:20], "big")
                return duration / timescale if timescale and duration not in (0, 2**32 - 1, 2**64 - 1) else None
            pos += size
    return None

