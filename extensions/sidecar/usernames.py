"""Which usernames the realm admits: each one its own NFKC skeleton.

Names that look alike must not both exist: "admin" with a full-width "a" (U+FF41)
beside "admin", "fiona" with the "fi" ligature (U+FB01), "ivan" with a dotless i
(U+0131). Comparing every new name with every existing one on their skeletons is more
than Keycloak's user profile can do; admitting only names that are their own skeleton
gives the same guarantee, since two such names that look alike are one name, which
Keycloak (comparing lower-cased names) refuses the second time.

The skeleton here is NFKC with case folding, and the few Latin letters that still
imitate another after it (dotless i U+0131, kra U+0138, U+0140, U+0149, the "ij"
ligature U+0133, long s U+017F) mapped to what they imitate. So a name holds ASCII
letters and digits, `. _ - + @`, and the Latin letters that NFKC and case folding leave
alone (U+00C0-U+017E, less those look-alikes and the sharp s, which folds to "ss"):
Danish, German or French letters stay; full-width forms, ligatures, invisible
characters and other scripts' letters do not. realm-config/mikrocloud.yaml writes the
same rule as the user profile's pattern (tests/unit/test_usernames.py holds them equal).
"""

from __future__ import annotations

import string
import unicodedata

PUNCTUATION = frozenset("._-+@")
LATIN = range(0x00C0, 0x017F)  # Latin-1 Supplement letters and Latin Extended-A
LOOK_ALIKES = {"\u0131": "i", "\u0138": "k", "\u0140": "l\u00b7", "\u013f": "l\u00b7",
               "\u0149": "\u02bcn", "\u0133": "ij", "\u0132": "ij", "\u017f": "s"}


def skeleton(name: str) -> str:
    """What a name looks like: NFKC, case folded, look-alike letters replaced."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(LOOK_ALIKES.get(c, c) for c in folded)


def _own_skeleton_letter(c: str) -> bool:
    return (unicodedata.category(c).startswith("L") and c not in LOOK_ALIKES
            and unicodedata.normalize("NFKC", c) == c and len(c.casefold()) == 1
            and skeleton(c) == c.lower())


ALPHABET = frozenset(string.ascii_letters + string.digits) | PUNCTUATION | frozenset(
    c for c in map(chr, LATIN) if _own_skeleton_letter(c))


def admissible(name: str) -> bool:
    """Every character is one the realm admits in a username."""
    return bool(name) and all(c in ALPHABET for c in name)
