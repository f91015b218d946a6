"""Reading a corpus in VoxCeleb1 layout and turning it into Kaldi data dirs (stage 0).

Corpus root::

    wav/<speaker>/<session>/<n>.wav|.flac|.m4a   audio (also accepted without the wav/ level, or in
                      vox1_dev_wav/wav/ and vox1_test_wav/wav/ as VoxCeleb1's archives unpack)
    iden_split.txt    ``1|2|3 <speaker>/<session>/<n>.wav``: identification train / validation / test
    veri_test.txt     ``1|0 <path> <path>``: target / non-target verification trials
    vox1_meta.csv, vox2_meta.csv or meta.csv (optional): a table with speaker id and gender columns

Ids (DESIGN.md §2): utterance = listed path without extension, ``/`` -> ``-``
(``id10270/x6uYqmx31kE/00001.wav`` -> ``id10270-x6uYqmx31kE-00001``); speaker = first component.
"""
import csv
import os
from concurrent.futures import ThreadPoolExecutor

from pyspk.io.audio import AudioError, audio_duration, mp4_duration
from pyspk.io.datadir import validate_data_dir, write_spk2utt
from pyspk.io.tables import sort_key, write_map, write_table

AUDIO_EXTENSIONS = (".wav", ".flac", ".m4a")
SPLITS = {"1": "iden_train", "2": "iden_val", "3": "iden_test"}
META_FILES = ("vox1_meta.csv", "vox2_meta.csv", "meta.csv")
# Where audio may live under the corpus root: a merged wav/ folder, the root itself, or VoxCeleb1's
# archives unpacked as they come (dev and test apart).
AUDIO_DIRS = ("wav", "", "vox1_dev_wav/wav", "vox1_test_wav/wav")


class CorpusError(ValueError):
    """A malformed corpus list; the message names ``file:line``."""


def utt_id(path):
    """``id10270/x6uYqmx31kE/00001.wav`` -> ``id10270-x6uYqmx31kE-00001``."""
    return os.path.splitext(path)[0].replace("/", "-")


def speaker_id(path):
    """``id10270/x6uYqmx31kE/00001.wav`` -> ``id10270``."""
    return path.split("/", 1)[0]


def _check_path(list_path, lineno, path):
    if path.startswith("/") or ".." in path.split("/") or path.count("/") < 1:
        raise CorpusError(f"{list_path}:{lineno}: expected a relative path <speaker>/.../<file>, got {path!r}")
    if os.path.splitext(path)[1].lower() not in AUDIO_EXTENSIONS:
        raise CorpusError(f"{list_path}:{lineno}: {path!r} does not end in one of {', '.join(AUDIO_EXTENSIONS)}")


def _lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [(n, line.split()) for n, line in enumerate(f, 1) if line.strip()]
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file") from None


def read_iden_split(path):
    """iden_split.txt -> list of (split name, relative path) in file order; repeats are errors."""
    out, seen = [], {}
    for lineno, fields in _lines(path):
        if len(fields) != 2 or fields[0] not in SPLITS:
            raise CorpusError(f"{path}:{lineno}: expected '1|2|3 <path>', got {' '.join(fields)!r}")
        _check_path(path, lineno, fields[1])
        utt = utt_id(fields[1])
        if utt in seen:
            raise CorpusError(f"{path}:{lineno}: utterance {utt} listed again (first at line {seen[utt]})")
        seen[utt] = lineno
        out.append((SPLITS[fields[0]], fields[1]))
    if not out:
        raise CorpusError(f"{path}: empty")
    return out


def read_voxceleb_trials(path):
    """veri_test.txt -> list of (is_target, relative path a, relative path b) in file order."""
    out = []
    for lineno, fields in _lines(path):
        if len(fields) != 3 or fields[0] not in ("0", "1"):
            raise CorpusError(f"{path}:{lineno}: expected '1|0 <path> <path>', got {' '.join(fields)!r}")
        _check_path(path, lineno, fields[1])
        _check_path(path, lineno, fields[2])
        out.append((fields[0] == "1", fields[1], fields[2]))
    if not out:
        raise CorpusError(f"{path}: empty")
    return out


def read_genders(path):
    """A speaker metadata table (VoxCeleb's vox1_meta.csv, or our meta.csv) -> dict speaker -> m|f.

    Tab- or comma-separated with a header line; the speaker column is the first whose name contains
    "id" or "speaker", the gender column the one named "gender" (any case). Values m/male, f/female.
    """
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.splitlines()
    if not lines:
        raise CorpusError(f"{path}: empty")
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    spk_col = next((i for i, h in enumerate(header) if "speaker" in h or h.split()[-1:] == ["id"]), None)
    gender_col = next((i for i, h in enumerate(header) if h == "gender"), None)
    if spk_col is None or gender_col is None:
        raise CorpusError(f"{path}:1: need a speaker id column and a gender column, header is {rows[0]!r}")
    genders = {}
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(spk_col, gender_col):
            raise CorpusError(f"{path}:{lineno}: expected {len(header)} fields, got {len(row)}")
        value = row[gender_col].strip().lower()
        gender = {"m": "m", "male": "m", "f": "f", "female": "f"}.get(value)
        if gender is None:
            raise CorpusError(f"{path}:{lineno}: gender must be m|f|male|female, got {row[gender_col]!r}")
        genders[row[spk_col].strip()] = gender
    return genders


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


def wav_scp_entry(audio_path):
    """The wav.scp entry for an audio file: the path itself, or an ffmpeg pipe for .m4a (AAC)."""
    if audio_path.lower().endswith(".m4a"):
        return f"ffmpeg -nostdin -loglevel error -i {audio_path} -f wav -ar 16000 -ac 1 - |"
    return audio_path


def _probe(corpus_root, path):
    """-> (wav.scp entry, duration in s, None) or (file, None, reason)."""
    audio = find_audio(corpus_root, path)
    if audio is None:
        return os.path.join(os.path.abspath(corpus_root), "wav", path), None, "no such file"
    if any(c.isspace() for c in audio):
        return audio, None, "path contains whitespace (not allowed in wav.scp)"
    entry = wav_scp_entry(audio)
    try:
        # An .m4a's duration comes from its MP4 header: decoding a VoxCeleb2-size corpus would take hours.
        duration = mp4_duration(audio) if audio.lower().endswith(".m4a") else None
        return entry, duration or audio_duration(entry), None
    except AudioError as e:
        return audio, None, str(e).removeprefix(entry + ": ")


def probe_corpus(corpus_root, paths, num_threads=16):
    """Find and time every listed path in parallel threads, from file headers (an .m4a without a
    readable MP4 header is decoded through its ffmpeg pipe).

    Returns (found, bad): found = dict utt -> (wav.scp entry, duration s); bad = list of
    (utt, file, reason) for files that are missing or unreadable.
    """
    found, bad = {}, []
    chunks = [paths[i:i + 256] for i in range(0, len(paths), 256)]  # few futures for 150k files
    with ThreadPoolExecutor(max_workers=num_threads) as pool:
        results = pool.map(lambda chunk: [_probe(corpus_root, p) for p in chunk], chunks)
        for path, (entry, duration, reason) in zip(paths, (r for chunk in results for r in chunk)):
            if reason is None:
                found[utt_id(path)] = (entry, duration)
            else:
                bad.append((utt_id(path), entry, reason))
    return found, bad


def _write_data_dir(path, utts, found, utt2spk, genders):
    os.makedirs(path, exist_ok=True)
    write_map(os.path.join(path, "wav.scp"), {u: found[u][0] for u in utts})
    write_map(os.path.join(path, "utt2spk"), {u: utt2spk[u] for u in utts})
    write_map(os.path.join(path, "utt2dur"), {u: f"{found[u][1]:.3f}" for u in utts})
    write_spk2utt(path, {u: utt2spk[u] for u in utts})
    speakers = {utt2spk[u] for u in utts}
    gender_file = os.path.join(path, "spk2gender")
    if any(s in genders for s in speakers):
        write_map(gender_file, {s: g for s, g in genders.items() if s in speakers})
    elif os.path.exists(gender_file):
        os.unlink(gender_file)
    for stale in ("feats.scp", "vad.scp", "utt2num_frames", "trials"):  # a rerun starts clean
        if os.path.exists(os.path.join(path, stale)):
            os.unlink(os.path.join(path, stale))


def prepare_data_dirs(corpus_root, data_root, max_bad_fraction=0.5, num_threads=16, log=print):
    """Stage 0: corpus in VoxCeleb1 layout -> ``<data_root>/{all, iden_train, iden_val, iden_test,
    veri_train, veri_test}`` (veri_test with ``trials`` in Kaldi form, in veri_test.txt order).

    Every listed utterance (iden_split.txt and veri_test.txt) whose audio is missing or unreadable
    is logged as ``WARNING: skipping <utt> (<file>): <reason>`` and left out, as are the trials
    naming it. veri_test holds every utterance of the speakers named in the trials, veri_train every
    other. Raises CorpusError when nothing is usable or more than ``max_bad_fraction`` is bad.
    Returns dict data dir name -> number of utterances.
    """
    split_path = os.path.join(corpus_root, "iden_split.txt")
    trials_path = os.path.join(corpus_root, "veri_test.txt")
    split = read_iden_split(split_path)
    trials = read_voxceleb_trials(trials_path)
    paths = {utt_id(p): p for _, p in split}
    for _, a, b in trials:
        paths.setdefault(utt_id(a), a)
        paths.setdefault(utt_id(b), b)
    meta = next((os.path.join(corpus_root, m) for m in META_FILES
                 if os.path.isfile(os.path.join(corpus_root, m))), None)
    genders = read_genders(meta) if meta else {}
    log(f"prepare_voxceleb1: {len(paths)} utterances listed in {split_path} and {trials_path}; "
        f"genders from {meta or '(no metadata file)'} for {len(genders)} speakers")

    listed = sorted(paths, key=sort_key)
    found, bad = probe_corpus(corpus_root, [paths[u] for u in listed], num_threads)
    for utt, file, reason in bad:
        log(f"WARNING: skipping {utt} ({file}): {reason}")
    log(f"prepare_voxceleb1: {len(found)} of {len(listed)} utterances usable, {len(bad)} skipped")
    if not found:
        raise CorpusError(f"{corpus_root}: no usable audio among {len(listed)} listed utterances")
    if len(bad) > max_bad_fraction * len(listed):
        raise CorpusError(f"{corpus_root}: {len(bad)} of {len(listed)} utterances unusable, more than "
                          f"--max-bad-fraction={max_bad_fraction}")

    utt2spk = {u: speaker_id(paths[u]) for u in found}
    in_split = {name: [] for name in SPLITS.values()}
    for name, path in split:
        if utt_id(path) in found:
            in_split[name].append(utt_id(path))
    test_speakers = {speaker_id(p) for _, a, b in trials for p in (a, b)}
    dirs = {"all": sorted(found, key=sort_key), **in_split,
            "veri_train": [u for u in found if utt2spk[u] not in test_speakers],
            "veri_test": [u for u in found if utt2spk[u] in test_speakers]}
    counts = {}
    for name, utts in dirs.items():
        if not utts:
            raise CorpusError(f"{corpus_root}: no usable utterance for {data_root}/{name}")
        _write_data_dir(os.path.join(data_root, name), utts, found, utt2spk, genders)
        counts[name] = len(utts)

    kept, seen, repeated = [], set(), 0
    for y, a, b in trials:
        pair = (utt_id(a), utt_id(b))
        if pair in seen:
            repeated += 1
        elif pair[0] in found and pair[1] in found:
            kept.append((*pair, "target" if y else "nontarget"))
        seen.add(pair)
    write_table(os.path.join(data_root, "veri_test", "trials"), kept, sort=False)
    log(f"prepare_voxceleb1: kept {len(kept)} of {len(trials)} trials ({len(trials) - len(kept) - repeated} "
        f"dropped: they name skipped utterances; {repeated} repeated pairs dropped)")
    for name in dirs:
        validate_data_dir(os.path.join(data_root, name))
        log(f"prepare_voxceleb1: {data_root}/{name}: {counts[name]} utterances, "
            f"{len({utt2spk[u] for u in dirs[name]})} speakers (validated)")
    return counts
