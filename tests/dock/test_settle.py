"""When a file has stopped changing: quiet times on an explicit clock, and the folder's events."""

from __future__ import annotations

import os
from pathlib import Path

from openbwv.dock.settle import FolderEvents, Settling


def touch(path: Path, data: bytes, mtime_ns: int) -> None:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


class TestSettling:
    def test_a_file_is_handed_out_once_it_has_been_quiet_for_the_settle_time(self, tmp_path: Path) -> None:
        clip = tmp_path / "clip.mp4"
        touch(clip, b"done", 1_000)
        settling = Settling(2.0)
        assert settling.settled([clip], now=10.0) == []
        assert settling.next_due(now=10.5) == 1.5
        assert settling.settled([clip], now=11.9) == []
        assert settling.settled([clip], now=12.0) == [clip]
        assert settling.next_due(now=12.0) is None

    def test_a_file_still_growing_waits_from_its_last_change(self, tmp_path: Path) -> None:
        clip = tmp_path / "clip.mp4"
        touch(clip, b"part", 1_000)
        settling = Settling(2.0)
        settling.settled([clip], now=10.0)
        touch(clip, b"part and more", 2_000)
        assert settling.settled([clip], now=12.5) == []
        assert settling.next_due(now=12.5) == 2.0
        assert settling.settled([clip], now=14.5) == [clip]

    def test_a_change_event_starts_the_quiet_time_again(self, tmp_path: Path) -> None:
        # A write that leaves size and modification time as they were is still a change.
        clip = tmp_path / "clip.mp4"
        touch(clip, b"same", 1_000)
        settling = Settling(2.0)
        settling.settled([clip], now=10.0)
        settling.changed([clip], now=11.0)
        assert settling.settled([clip], now=12.5) == []
        assert settling.settled([clip], now=13.0) == [clip]

    def test_without_a_settle_time_every_file_is_ready_at_once(self, tmp_path: Path) -> None:
        clip = tmp_path / "clip.mp4"
        touch(clip, b"done", 1_000)
        assert Settling(0).settled([clip], now=10.0) == [clip]

    def test_a_file_gone_or_no_longer_listed_is_not_waited_for(self, tmp_path: Path) -> None:
        kept, gone, dropped = (tmp_path / f"{name}.mp4" for name in ("kept", "gone", "dropped"))
        for path in (kept, gone, dropped):
            touch(path, b"x", 1_000)
        settling = Settling(2.0)
        settling.settled([kept, gone, dropped], now=10.0)
        gone.unlink()
        settling.settled([kept, gone], now=11.0)
        touch(dropped, b"x", 1_000)
        assert settling.settled([kept, dropped], now=12.0) == [kept]


class TestFolderEvents:
    def test_a_write_is_a_batch_naming_the_file_as_the_folder_lists_it(self, tmp_path: Path) -> None:
        with FolderEvents(tmp_path) as events:
            clip = tmp_path / "clip.mp4"
            # The watcher starts on its own thread: write until it reports, up to a deadline.
            for n in range(100):
                clip.write_bytes(b"x" * n)
                batch = events.next(0.1)
                if batch is not None:
                    break
            assert batch == {clip}

    def test_no_change_answers_none_once_the_timeout_passes(self, tmp_path: Path) -> None:
        with FolderEvents(tmp_path) as events:
            assert events.next(0.2) is None
