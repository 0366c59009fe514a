"""Text similarity that works on short Chinese texts.

Chinese has no spaces between words and complaints are a sentence or two, so word tokens and
TF-IDF do poorly. Character bigrams do well: "楼道堆满纸箱" and "楼道里全是纸箱" share 楼道 and 纸箱.
The score is the Dice coefficient of the two bigram sets, from 0 (nothing shared) to 1.
"""

from __future__ import annotations

import re
import unicodedata

# Everything that is neither a letter nor a digit (CJK ideographs count as letters).
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def bigrams(text: str) -> frozenset[str]:
    s = normalise(text)
    if len(s) < 2:
        return frozenset({s}) if s else frozenset()
    return frozenset(s[i:i + 2] for i in range(len(s) - 1))


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))
