"""The TrueType font the PDF exports embed, so that Chinese text renders on any reader.

reportlab embeds TrueType-outline fonts only (``.ttf`` and ``.ttc`` collections of them); fonts with
CFF (PostScript) outlines, such as ``.otf`` files and the Noto CJK ``.ttc`` collections, are refused
by its parser and skipped here.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

DEBIAN_PACKAGE = "fonts-wqy-zenhei"

# Well-known Debian locations of TrueType-outline CJK fonts, best first.
CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic/ukai.ttc",  # fonts-arphic-ukai
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback
)


class FontMissing(RuntimeError):
    """No TrueType font able to render Chinese could be found or loaded."""


_lock = threading.Lock()
_registered: dict[str, str] = {}  # resolved font file -> reportlab font name


def _register(path: Path) -> str:
    """Register the first face of a font file with reportlab, once per process; return its name."""
    key = str(path.resolve())
    with _lock:
        name = _registered.get(key)
        if name is None:
            name = f"ShoubanpingCJK{len(_registered)}"
            pdfmetrics.registerFont(TTFont(name, key, subfontIndex=0))
            _registered[key] = name
        return name


def pdf_font(font_path: str | None = None) -> str:
    """The reportlab name of a registered font that renders Chinese.

    ``font_path`` is used when given, and must then be a TrueType-outline ``.ttf`` or ``.ttc`` file;
    otherwise the first usable font of :data:`CANDIDATES`.
    """
    if font_path is not None:
        path = Path(font_path)
        if not path.is_file():
            raise FontMissing(
                f"The PDF font file {font_path} does not exist. Point font_path at a TrueType "
                f"(.ttf or .ttc) font that covers Chinese, or install the Debian package {DEBIAN_PACKAGE} "
                "and leave font_path unset."
            )
        try:
            return _register(path)
        except (TTFError, OSError, ValueError) as exc:
            raise FontMissing(
                f"The PDF font file {font_path} cannot be embedded ({exc}). Only TrueType-outline "
                ".ttf or .ttc fonts are supported, not CFF-based OpenType (.otf, Noto CJK)."
            ) from exc

    refused: list[str] = []
    for candidate in CANDIDATES:
        path = Path(candidate)
        if not path.is_file():
            continue
        try:
            return _register(path)
        except (TTFError, OSError, ValueError) as exc:
            refused.append(f"{candidate}: {exc}")
    detail = f" Found but unusable: {'; '.join(refused)}." if refused else ""
    raise FontMissing(
        f"No font for Chinese text in PDF exports. Install the Debian package {DEBIAN_PACKAGE} "
        f"(apt-get install {DEBIAN_PACKAGE}), or pass font_path, the path of a TrueType .ttf or .ttc font."
        f"{detail} Looked in: {', '.join(CANDIDATES)}."
    )
