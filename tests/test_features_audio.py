"""Audio loading from wav.scp entries: files, pipes, resampling, downmixing, and what is refused."""
import numpy as np
import pytest
import soundfile

from pyspk.io.audio import AudioError, audio_duration, entry_source, load_audio, mp4_duration, write_m4a


def tone(freq, seconds, rate):
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def test_resample_and_downmix_keep_the_signal(tmp_path):
    soundfile.write(tmp_path / "a.wav", np.stack([tone(440, 1, 44100), tone(440, 1, 44100)], 1), 44100,
                    subtype="FLOAT")
    x, notes = load_audio(str(tmp_path / "a.wav"))
    assert notes == ["downmixed 2 channels", "resampled 44100 Hz -> 16000 Hz"]
    assert x.dtype == np.float32 and x.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(x))
    assert np.argmax(spectrum) == 440  # 1 Hz bins over 1 s
    np.testing.assert_allclose(x[1000:15000], tone(440, 1, 16000)[1000:15000], atol=2e-3)


def test_pipe_entries(tmp_path):
    soundfile.write(tmp_path / "b.flac", tone(300, 0.5, 16000), 16000)
    direct, _ = load_audio(str(tmp_path / "b.flac"))
    piped, notes = load_audio(f"cat {tmp_path}/b.flac |")
    np.testing.assert_array_equal(piped, direct)
    assert notes == [] and entry_source(f"cat {tmp_path}/b.flac |") == f"{tmp_path}/b.flac"
    assert audio_duration(f"cat {tmp_path}/b.flac |") == 0.5
    # A streamed WAV whose writer could not fill in its sizes (0) is read to its end.
    soundfile.write(tmp_path / "c.wav", tone(300, 0.5, 16000), 16000, subtype="PCM_16")
    raw = bytearray((tmp_path / "c.wav").read_bytes())
    at = raw.index(b"data")
    raw[4:8] = raw[at + 4:at + 8] = bytes(4)
    (tmp_path / "zero.wav").write_bytes(bytes(raw))
    assert load_audio(f"cat {tmp_path}/zero.wav |")[0].shape == (8000,)
    with pytest.raises(AudioError, match="command failed with exit status 1.*No such file"):
        load_audio(f"cat {tmp_path}/nope.flac |")


def test_refusals_name_the_file(tmp_path):
    soundfile.write(tmp_path / "d.wav", tone(300, 0.5, 16000), 16000, subtype="PCM_16")
    (tmp_path / "cut.wav").write_bytes((tmp_path / "d.wav").read_bytes()[:5000])
    (tmp_path / "empty.flac").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio\n" * 20)
    cases = {"cut.wav": "truncated: WAV header promises 16000 data bytes", "empty.flac": "empty file",
             "text.wav": "not readable audio", "nope.wav": "no such file"}
    for name, reason in cases.items():
        with pytest.raises(AudioError, match=f"^{tmp_path}/{name}: {reason}"):
            load_audio(str(tmp_path / name))
    soundfile.write(tmp_path / "e.flac", tone(300, 0.5, 16000), 16000)
    (tmp_path / "cut.flac").write_bytes((tmp_path / "e.flac").read_bytes()[:3000])
    with pytest.raises(AudioError, match="cut.flac: (cannot decode|truncated)"):
        load_audio(str(tmp_path / "cut.flac"))


def _box(kind, payload):
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def test_mp4_duration_from_the_movie_header(tmp_path):
    mvhd0 = _box(b"mvhd", bytes(4) + bytes(8) + (16000).to_bytes(4, "big") + (24000).to_bytes(4, "big") + bytes(80))
    mvhd1 = _box(b"mvhd", b"\x01" + bytes(3) + bytes(16) + (1000).to_bytes(4, "big") + (8250).to_bytes(8, "big"))
    for mvhd, seconds in ((mvhd0, 1.5), (mvhd1, 8.25)):
        # moov after a large mdat, as many encoders write it; mvhd after another child box
        data = _box(b"ftyp", b"M4A " + bytes(8)) + _box(b"mdat", bytes(5000)) + _box(b"moov", _box(b"udta", bytes(9)) + mvhd)
        (tmp_path / "a.m4a").write_bytes(data)
        assert mp4_duration(str(tmp_path / "a.m4a")) == seconds
    (tmp_path / "b.m4a").write_bytes(_box(b"ftyp", bytes(8)) + _box(b"mdat", bytes(100)))
    assert mp4_duration(str(tmp_path / "b.m4a")) is None
    soundfile.write(tmp_path / "c.flac", tone(300, 0.5, 16000), 16000)
    assert mp4_duration(str(tmp_path / "c.flac")) is None and mp4_duration(str(tmp_path / "none.m4a")) is None


def test_m4a_decoded_in_process(tmp_path):
    """VoxCeleb2's AAC .m4a: decoded by PyAV, no ffmpeg process. The decoded signal is the encoded
    one shifted by the AAC encoder's 1,024 priming samples (as the ffmpeg command line decodes it);
    a cut file and a non-audio file are refused naming the file."""
    x = tone(300, 2, 16000) * np.linspace(0.2, 1, 32000, dtype=np.float32)  # a ramp: the alignment is unique
    write_m4a(tmp_path / "a.m4a", x)
    y, notes = load_audio(str(tmp_path / "a.m4a"))
    assert notes == [] and y.dtype == np.float32 and 32000 <= len(y) <= 32000 + 2 * 1024
    np.testing.assert_allclose(y[1024 + 1000:1024 + 31000], x[1000:31000], atol=0.02)
    assert audio_duration(str(tmp_path / "a.m4a")) == mp4_duration(str(tmp_path / "a.m4a"))
    data = (tmp_path / "a.m4a").read_bytes()
    (tmp_path / "cut.m4a").write_bytes(data[:len(data) // 2])  # the movie header (at the end) is gone
    (tmp_path / "text.m4a").write_text("not audio\n" * 20)
    for name in ("cut.m4a", "text.m4a"):
        with pytest.raises(AudioError, match=f"^{tmp_path}/{name}: not readable audio: Invalid data"):
            load_audio(str(tmp_path / name))
        with pytest.raises(AudioError, match=f"^{tmp_path}/{name}: not readable audio"):
            audio_duration(str(tmp_path / name))
