"""Language families of the UDHR texts in ``corpora/udhr``: ISO 639-3 code → family, and nearest-neighbour scores.

Families are the genealogical groups of the standard references (Glottolog
5.0 and Ethnologue, at the level of the branch below Indo-European, and the
family elsewhere): Germanic, Romance (Italic: Latin with its daughters),
Slavic, Celtic, Baltic, Hellenic and Indo-Aryan within Indo-European; Uralic;
Semitic (Afro-Asiatic); Turkic; Sino-Tibetan; Japonic; Koreanic;
Austronesian; Austroasiatic; Bantu (Atlantic-Congo); Basque (an isolate);
and Esperanto, constructed, in a group of its own.  Of the 48 texts, 37 have
at least one other member of their family in the set.

A file's label is its name without ``.txt``; the part before the first ``_``
is the ISO 639-3 code (``por_BR`` → ``por``, ``srp_latn`` → ``srp``).

>>> family_of("por_BR"), family_of("ell_monotonic"), family_of("klingon")
('Romance', 'Hellenic', None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: ISO 639-3 code → family (the level described in the module docstring).
LANGUAGE_FAMILIES: Mapping[str, str] = {
    # Indo-European: Germanic
    "afr": "Germanic", "dan": "Germanic", "deu": "Germanic", "eng": "Germanic", "isl": "Germanic",
    "nld": "Germanic", "nob": "Germanic", "swe": "Germanic",
    # Indo-European: Italic (Romance and Latin)
    "cat": "Romance", "fra": "Romance", "glg": "Romance", "ita": "Romance", "lat": "Romance",
    "por": "Romance", "ron": "Romance", "spa": "Romance",
    # Indo-European: Balto-Slavic
    "bul": "Slavic", "ces": "Slavic", "hrv": "Slavic", "pol": "Slavic", "rus": "Slavic", "slk": "Slavic",
    "slv": "Slavic", "srp": "Slavic", "ukr": "Slavic",
    "lav": "Baltic", "lit": "Baltic",
    # Indo-European: Celtic, Hellenic, Indo-Aryan
    "bre": "Celtic", "cym": "Celtic", "gle": "Celtic",
    "ell": "Hellenic",
    "hin": "Indo-Aryan",
    # Uralic
    "est": "Uralic", "fin": "Uralic", "hun": "Uralic",
    # Afro-Asiatic: Semitic
    "arb": "Semitic", "heb": "Semitic", "mlt": "Semitic",
    # the rest: one language each in this set
    "tur": "Turkic", "cmn": "Sino-Tibetan", "jpn": "Japonic", "kor": "Koreanic", "ind": "Austronesian",
    "vie": "Austroasiatic", "swh": "Bantu", "eus": "Basque (isolate)", "epo": "Esperanto (constructed)",
}


def language_code(label: str) -> str:
    """The ISO 639-3 code of a UDHR label: the part before the first ``_``, lower-cased.

    >>> language_code("srp_latn"), language_code("eng")
    ('srp', 'eng')
    """
    return label.split("_", 1)[0].lower()


def family_of(label: str) -> str | None:
    """The family of a UDHR label (None when its code is not in :data:`LANGUAGE_FAMILIES`)."""
    return LANGUAGE_FAMILIES.get(language_code(label))


@dataclass(frozen=True)
class FamilyScore:
    """How many texts with a family member in the set have their nearest neighbour in their own family."""

    method: str
    in_family: int
    eligible: int
    misses: tuple[tuple[str, str], ...]

    @property
    def share(self) -> float:
        return self.in_family / self.eligible if self.eligible else float("nan")


def family_score(method: str, pairs: Sequence[tuple[str, str]]) -> FamilyScore | None:
    """Score (corpus, nearest) pairs: texts whose family has another member among the corpora count.

    None when fewer than two corpora have a known family (not a language set).

    >>> s = family_score("JS", [("dan", "nob"), ("nob", "swe"), ("swe", "fin"), ("fin", "est"), ("est", "fin"), ("vie", "fin")])
    >>> s.in_family, s.eligible, s.misses
    (4, 5, (('swe', 'fin'),))
    """
    labels = [corpus for corpus, _ in pairs]
    families = {label: family_of(label) for label in labels}
    if sum(family is not None for family in families.values()) < 2:
        return None
    members: dict[str, int] = {}
    for family in families.values():
        if family is not None:
            members[family] = members.get(family, 0) + 1
    eligible = [(c, n) for c, n in pairs if families[c] is not None and members[families[c]] > 1]
    misses = tuple((c, n) for c, n in eligible if family_of(n) != families[c])
    return FamilyScore(method, len(eligible) - len(misses), len(eligible), misses)
