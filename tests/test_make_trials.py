"""Development trial lists (pyspk.bin.make_trials): every pair once, labels from the speakers."""
import itertools

import pytest

from pyspk.bin import make_trials
from pyspk.io.tables import read_table, write_map
from pyspk.io.trials import TrialsError, pair_trials


def test_every_pair_once_with_the_right_label(tmp_path):
    utt2spk = {f"s{s}-u{u}": f"s{s}" for s in range(3) for u in range(4)}
    write_map(tmp_path / "utt2spk", utt2spk)
    make_trials.main([str(tmp_path), str(tmp_path / "trials")])
    rows = read_table(tmp_path / "trials", 3, 3)
    pairs = {frozenset(r[:2]) for r in rows}
    assert len(pairs) == len(rows) == 12 * 11 // 2
    assert pairs == {frozenset(p) for p in itertools.combinations(utt2spk, 2)}
    for a, b, label in rows:
        assert label == ("target" if utt2spk[a] == utt2spk[b] else "nontarget")
    assert sum(r[2] == "target" for r in rows) == 3 * 6


def test_nontarget_sampling_is_seeded_and_keeps_all_targets():
    utt2spk = {f"s{s}-u{u}": f"s{s}" for s in range(5) for u in range(3)}
    a, b = pair_trials(utt2spk, 20, seed=1), pair_trials(utt2spk, 20, seed=1)
    assert a == b and sum(r[2] == "nontarget" for r in a) == 20 and sum(r[2] == "target" for r in a) == 15
    assert pair_trials(utt2spk, 20, seed=2) != a


def test_one_speaker_is_an_error():
    with pytest.raises(TrialsError, match="need both"):
        pair_trials({"a-1": "a", "a-2": "a"})
