"""Uploads on disk: streamed, content-addressed, found by reference, kept, swept and released."""

from __future__ import annotations

import gc
import io
import os
import time

import pytest

from northstar_lab.decisions import uploads
from northstar_lab.errors import InputError


class Chunks(io.BytesIO):
    """A file object that records how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, n=-1):
        self.asked.append(n)
        return super().read(n)


def test_save_stream_reads_in_chunks_and_stores_by_content(tmp_path):
    data = os.urandom(uploads.CHUNK * 2 + 10)
    src = Chunks(data)
    a = uploads.save_stream(src, "../../etc/events.csv", tmp_path)
    assert all(0 < n <= uploads.CHUNK for n in src.asked)  # never read whole
    assert a.path == tmp_path / a.sha256 / "events.csv" and a.path.read_bytes() == data
    assert a.size == len(data) and a.ref() == {"sha256": a.sha256, "name": "events.csv"}
    b = uploads.save_stream(io.BytesIO(data), "events.csv", tmp_path)
    assert b.path == a.path
    assert [p.name for p in tmp_path.iterdir()] == [a.sha256]  # no stray temporary files


def test_find_looks_in_each_root_and_says_what_to_do_when_the_file_is_gone(tmp_path):
    temp, kept = tmp_path / "temp", tmp_path / "kept"
    up = uploads.save_stream(io.BytesIO(b"a,b\n1,2\n"), "users.csv", temp)
    assert uploads.find(up.ref(), [kept, temp]) == up.path
    k = uploads.keep(up, kept)
    assert uploads.find(up.ref(), [kept, temp]) == k.path == kept / up.sha256 / "users.csv"
    uploads.delete(up.sha256, kept)
    uploads.delete(up.sha256, temp)
    with pytest.raises(InputError) as err:
        uploads.find(up.ref(), [kept, temp])
    assert "'users.csv'" in err.value.for_app() and "Upload it again" in err.value.for_app()
    assert str(tmp_path) not in err.value.for_app()  # no server path
    with pytest.raises(InputError):
        uploads.find({"sha256": "../x", "name": "y"}, [kept])


def test_sweep_deletes_old_unheld_folders_only(tmp_path):
    old = uploads.save_stream(io.BytesIO(b"old"), "a.csv", tmp_path)
    held = uploads.save_stream(io.BytesIO(b"held"), "b.csv", tmp_path)
    new = uploads.save_stream(io.BytesIO(b"new"), "c.csv", tmp_path)
    past = time.time() - 2 * uploads.MAX_TEMP_AGE_S
    for up in (old, held):
        os.utime(up.path.parent, (past, past))
    assert uploads.sweep(tmp_path, keep_shas={held.sha256}) == 1
    assert not old.path.exists() and held.path.exists() and new.path.exists()


def test_a_file_goes_when_the_last_session_holding_it_ends(tmp_path):
    up = uploads.save_stream(io.BytesIO(b"shared"), "e.csv", tmp_path)
    first, second = uploads.UploadHolds(tmp_path), uploads.UploadHolds(tmp_path)
    first.hold(up.sha256)
    second.hold(up.sha256)
    assert up.sha256 in uploads.held()
    del first
    gc.collect()
    assert up.path.exists()  # the second session still holds it
    second.release()
    assert not up.path.exists() and up.sha256 not in uploads.held()


@pytest.mark.parametrize(
    ("given", "safe"),
    [("a b.csv", "a b.csv"), ("..\\..\\x.parquet", "x.parquet"), (".hidden", "hidden"),
     ("$(rm -rf).csv", "_rm -rf_.csv"), ("", "upload")],
)  # fmt: skip
def test_safe_name(given, safe):
    assert uploads.safe_name(given) == safe
