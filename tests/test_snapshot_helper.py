"""The snapshot helper cannot pass on a snapshot nobody wrote and reviewed."""

import pytest

from tests.support import snapshots


def test_a_missing_snapshot_fails_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshots, "SNAPSHOTS", tmp_path)
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(AssertionError, match="No snapshot new.txt"):
        snapshots.assert_matches_snapshot("Some wording.", "new")
    assert not (tmp_path / "new.txt").exists()


def test_a_changed_text_fails_until_the_snapshot_is_rewritten_on_purpose(tmp_path, monkeypatch):
    monkeypatch.setattr(snapshots, "SNAPSHOTS", tmp_path)
    (tmp_path / "notice.txt").write_text("Old wording.", encoding="utf-8")
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(AssertionError, match="differs from the snapshot notice.txt"):
        snapshots.assert_matches_snapshot("New wording.", "notice")
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    snapshots.assert_matches_snapshot("New wording.", "notice")
    assert (tmp_path / "notice.txt").read_text(encoding="utf-8") == "New wording."
