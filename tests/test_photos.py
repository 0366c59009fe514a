"""Photos: a resident uploads one, attaches it to a report, and only people who may see the request
can download it."""

from __future__ import annotations

import struct
import zlib

from workflow.models import Photo

from .helpers import count, get, submit


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG, built by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(client, world, user: str, data: bytes, name: str = "p.png", expect: int = 201):
    response = client.post("/api/v1/photos", files={"file": (name, data, "image/png")},
                           headers=world.headers(user))
    assert response.status_code == expect, response.text
    return response.json()


def test_photo_attached_to_a_report_is_visible_to_those_who_see_the_request(client, world, runtime):
    data = png()
    photo = upload(client, world, "resident_a", data)
    assert photo["content_type"] == "image/png" and photo["size"] == len(data)
    created = submit(client, world, "resident_a", photo_ids=[photo["id"]])
    assert created["photo_ids"] == [photo["id"]]

    for user in ("resident_a", "staff_a"):
        response = client.get(f"/api/v1/photos/{photo['id']}", headers=world.headers(user))
        assert response.status_code == 200 and response.content == data
        assert response.headers["content-type"] == "image/png"
    for user in ("resident_b", "staff_b"):
        response = client.get(f"/api/v1/photos/{photo['id']}", headers=world.headers(user))
        assert response.status_code == 404 and response.json()["error"]["code"] == "photo_not_found"

    # A photo is attached once: reusing it on another report is refused and nothing is written.
    again = client.post("/api/v1/requests", headers=world.headers("resident_a"), json={
        "channel": "report", "category": "sanitation.corridor_clutter", "description": "再报一次",
        "community_id": world.ids["community_A"], "photo_ids": [photo["id"]]})
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid_photo"
    assert len(get(client, world, "resident_a", "/requests/mine")) == 1


def test_someone_elses_upload_cannot_be_attached(client, world, runtime):
    photo = upload(client, world, "resident_b", png())
    response = client.post("/api/v1/requests", headers=world.headers("resident_a"), json={
        "channel": "report", "category": "sanitation.corridor_clutter", "description": "楼道堆物",
        "community_id": world.ids["community_A"], "photo_ids": [photo["id"]]})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_photo"


def test_files_that_are_not_images_or_too_large_are_refused(client, world, runtime):
    refused = upload(client, world, "resident_a", b"%PDF-1.7 not an image", name="x.png", expect=422)
    assert refused["error"]["code"] == "photo_type"
    big = png() + b"\x00" * runtime.settings.max_photo_bytes
    assert upload(client, world, "resident_a", big, expect=422)["error"]["code"] == "photo_too_large"
    assert upload(client, world, "resident_a", b"", expect=422)["error"]["code"] == "photo_empty"
    assert count(runtime, Photo) == 0
