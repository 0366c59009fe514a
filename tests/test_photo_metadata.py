"""Uploaded photos lose where, when and with what they were taken (workflow/imagemeta.py): what a
member downloads from a task is the picture, not the resident's position."""

from __future__ import annotations

import struct
import zlib

from workflow.imagemeta import _orientation

from .helpers import count, submit
from .test_photos import png

SECRET = b"SecretPhone GPS 39.9042N 116.4074E flat 502"


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def exif(orientation: int) -> bytes:
    """An Exif APP1 payload, little-endian, with Orientation and a Make string that names the phone."""
    make_offset = 8 + 2 + 2 * 12 + 4
    ifd = struct.pack("<H", 2)
    ifd += struct.pack("<HHIH2x", 0x0112, 3, 1, orientation)
    ifd += struct.pack("<HHII", 0x010F, 2, len(SECRET) + 1, make_offset)
    ifd += struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II\x2a\x00" + struct.pack("<I", 8) + ifd + SECRET + b"\x00"


# The scan is copied byte for byte, so any bytes stand in for the compressed image.
SCAN = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34\xff\x00\x56\x78" + b"\xff\xd9"
JFIF = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
ICC = segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"colour")


def jpeg(orientation: int = 6) -> bytes:
    return (b"\xff\xd8" + JFIF + segment(0xE1, exif(orientation)) + ICC
            + segment(0xED, b"Photoshop 3.0\x00" + SECRET) + segment(0xFE, SECRET) + SCAN)


def upload(client, world, data: bytes, name: str, kind: str, expect: int = 201) -> dict:
    response = client.post("/api/v1/photos", files={"file": (name, data, kind)}, headers=world.headers("resident_a"))
    assert response.status_code == expect, response.text
    return response.json()


def download(client, world, photo_id: int, user: str = "staff_a") -> bytes:
    response = client.get(f"/api/v1/photos/{photo_id}", headers=world.headers(user))
    assert response.status_code == 200, response.text
    return response.content


def test_a_phone_jpeg_keeps_its_picture_and_orientation_and_loses_the_rest(client, world, runtime):
    photo = upload(client, world, jpeg(orientation=6), "IMG_0001.jpg", "image/jpeg")
    rid = submit(client, world, "resident_a", photo_ids=[photo["id"]])["id"]
    assert rid
    stored = download(client, world, photo["id"])
    assert SECRET not in stored and b"Photoshop" not in stored
    assert stored.startswith(b"\xff\xd8") and stored.endswith(SCAN)  # the image itself, untouched
    assert JFIF in stored and ICC in stored  # what decoders need to show the colours right
    app1 = stored.index(b"\xff\xe1")
    (length,) = struct.unpack_from(">H", stored, app1 + 2)
    assert _orientation(stored[app1 + 4:app1 + 2 + length]) == 6  # still stands the right way up
    assert photo["size"] == len(stored)


def test_an_upright_jpeg_carries_no_exif_at_all(client, world, runtime):
    stored = download(client, world, upload(client, world, jpeg(orientation=1), "a.jpg", "image/jpeg")["id"],
                      user="resident_a")
    assert b"\xff\xe1" not in stored and b"Exif" not in stored


def test_png_text_and_exif_chunks_are_dropped(client, world, runtime):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    plain = png(3, 2)
    tagged = plain[:33] + chunk(b"tEXt", b"Location\x00" + SECRET) + chunk(b"eXIf", exif(1)[6:]) + plain[33:]
    stored = download(client, world, upload(client, world, tagged, "p.png", "image/png")["id"], user="resident_a")
    assert stored == plain


def test_webp_exif_is_dropped_and_its_flag_cleared(client, world, runtime):
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08 | 0x04]) + b"\x00" * 9
    image = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"  # padded to even
    meta = (b"EXIF" + struct.pack("<I", len(SECRET)) + SECRET + b"\x00" * (len(SECRET) & 1)  # padded to even
            + b"XMP " + struct.pack("<I", 4) + b"<x/>")
    body = b"WEBP" + vp8x + image + meta
    stored = download(client, world, upload(client, world, b"RIFF" + struct.pack("<I", len(body)) + body,
                                            "w.webp", "image/webp")["id"], user="resident_a")
    assert SECRET not in stored and b"XMP " not in stored
    assert stored[20] & 0x0C == 0 and image in stored
    assert struct.unpack_from("<I", stored, 4)[0] == len(stored) - 8


def test_a_broken_file_is_refused_and_nothing_is_stored(client, world, runtime):
    from workflow.models import Photo

    truncated = jpeg()[:40]
    refused = upload(client, world, truncated, "x.jpg", "image/jpeg", expect=422)
    assert refused["error"]["code"] == "photo_unreadable"
    bad_crc = bytearray(png())
    bad_crc[29] ^= 0xFF  # inside IHDR's checksum
    assert upload(client, world, bytes(bad_crc), "x.png", "image/png", expect=422)["error"]["code"] == \
        "photo_unreadable"
    assert count(runtime, Photo) == 0
