"""Taking the metadata out of uploaded photos.

A phone writes where and when a photo was taken, and with which device, into the file (EXIF, XMP,
IPTC; PNG text chunks). A resident's photo of a leaking pipe would otherwise tell every member who
opens the task where the resident's flat is. What is kept: the pixels, colour profiles (ICC) and a
JPEG's orientation, rewritten as the only EXIF entry so the photo still stands the right way up.

Each function takes the whole file and returns the cleaned file, or raises :class:`Unreadable`
when the file is not built the way its format says: such a file is refused, not stored as is.
"""

from __future__ import annotations

import struct
import zlib


class Unreadable(ValueError):
    """The bytes do not follow their format's structure."""


# --- JPEG -----------------------------------------------------------------------------------------

_APP1, _APP13, _COM, _SOS, _EOI = 0xE1, 0xED, 0xFE, 0xDA, 0xD9
_ORIENTATION = 0x0112


def _orientation(exif: bytes) -> int | None:
    """The Orientation entry (1-8) of an APP1 Exif payload's first directory, if any."""
    if not exif.startswith(b"Exif\x00\x00") or len(exif) < 14:
        return None
    tiff = exif[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    try:
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for i in range(count):
            tag, kind, _n = struct.unpack_from(order + "HHI", tiff, offset + 2 + 12 * i)
            if tag == _ORIENTATION and kind == 3:
                (value,) = struct.unpack_from(order + "H", tiff, offset + 2 + 12 * i + 8)
                return value if 1 <= value <= 8 else None
    except struct.error:
        return None
    return None


def _orientation_app1(value: int) -> bytes:
    """An APP1 segment whose EXIF holds the orientation and nothing else."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) \
        + struct.pack(">HHIH2x", _ORIENTATION, 3, 1, value) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff" + bytes([_APP1]) + struct.pack(">H", len(payload) + 2) + payload


def clean_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise Unreadable("no JPEG start marker")
    out = [b"\xff\xd8"]
    orientation = None
    pos = 2
    while True:
        # Markers may be padded with any number of 0xFF bytes.
        if pos >= len(data) or data[pos] != 0xFF:
            raise Unreadable("expected a marker")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise Unreadable("truncated marker")
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            out.append(b"\xff\xd9")
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(bytes([0xFF, marker]))
            continue
        if pos + 2 > len(data):
            raise Unreadable("truncated segment length")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise Unreadable("segment runs past the end")
        segment = data[pos + 2:pos + length]
        if marker == _SOS:
            # The scan and everything after it is image data: copied as it is.
            out.append(b"\xff" + bytes([marker]) + data[pos:])
            break
        if marker == _APP1:
            orientation = orientation or _orientation(segment)
        elif marker in (_APP13, _COM) or 0xE3 <= marker <= 0xEF and marker != 0xEE:
            pass  # IPTC, comments and the makers' own segments; APP0 (JFIF), APP2 (ICC), APP14 stay
        else:
            out.append(b"\xff" + bytes([marker]) + data[pos:pos + length])
        pos += length
    if orientation not in (None, 1):
        out.insert(1, _orientation_app1(orientation))
    return b"".join(out)


# --- PNG ------------------------------------------------------------------------------------------

# Chunks that carry text, EXIF or a time stamp; the rest (image, palette, colour) stay.
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def clean_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise Unreadable("no PNG signature")
    out = [signature]
    pos = len(signature)
    while pos < len(data):
        if pos + 12 > len(data):
            raise Unreadable("truncated chunk")
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise Unreadable("chunk runs past the end")
        body = data[pos + 8:pos + 8 + length]
        if struct.unpack_from(">I", data, pos + 8 + length)[0] != zlib.crc32(kind + body):
            raise Unreadable("chunk checksum")
        if kind not in _PNG_DROP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


# --- WebP -----------------------------------------------------------------------------------------

_WEBP_DROP = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def clean_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Unreadable("no WebP header")
    (size,) = struct.unpack_from("<I", data, 4)
    if size + 8 > len(data) or size < 4:
        raise Unreadable("RIFF size runs past the end")
    chunks = []
    pos = 12
    while pos < size + 8:
        if pos + 8 > len(data):
            raise Unreadable("truncated chunk")
        kind = data[pos:pos + 4]
        (length,) = struct.unpack_from("<I", data, pos + 4)
        end = pos + 8 + length + (length & 1)  # chunks are padded to an even length
        if pos + 8 + length > len(data):
            raise Unreadable("chunk runs past the end")
        chunk = data[pos:min(end, len(data))]
        if kind == b"VP8X" and length >= 1:
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in _WEBP_DROP:
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


CLEANERS = {"image/jpeg": clean_jpeg, "image/png": clean_png, "image/webp": clean_webp}


def clean(data: bytes, content_type: str) -> bytes:
    """``data`` without its metadata; :class:`Unreadable` when it is not a well-formed file."""
    return CLEANERS[content_type](data)
