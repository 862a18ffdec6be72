"""Seeded synthetic case records of trafficking victims, captured by several agencies.

Why this model: linkage quality measured on easy data is worthless. Real agencies see an
overlapping *sample* of a hidden population (so multiple-systems estimation is needed),
they see different origins, they write the same person in different scripts and
romanisations, they keep duplicates of their own, and common names repeat so that a name
alone identifies nobody. Every one of those effects is in here, each switchable through
:class:`CorruptionRates`, and every corruption a record received is kept in the truth.

Determinism: one ``numpy.random.default_rng(seed)`` for the population and captures and one
``random.Random`` seeded from it for the per-record edits; nothing else is random.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date as _date
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from blindlink.synth import corrupt
from blindlink.synth.names import (
    CHN_GIVEN_CHARS_F,
    CHN_GIVEN_CHARS_M,
    CHN_TRADITIONAL,
    ORIGINS,
    THAI_SURNAME_HEADS,
    THAI_SURNAME_TAILS,
    Entry,
    OriginData,
)
from blindlink.synth.translit import russian_romanisations, ukrainian_romanisations

#: Date the synthetic ages are counted back from.
_REFERENCE_DATE = np.datetime64("2023-06-30")

#: Case attribute columns written after the standard columns (sent in the clear, coarsened,
#: for counting: see the built-in schema's aggregate attributes).
CASE_ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "exploitation_type",
    "country_of_exploitation",
    "registration_date",
)
#: Forms of exploitation (codes of the built-in schema) and their shares for women and men.
_EXPLOITATION: tuple[tuple[str, float, float], ...] = (
    ("SEXUAL", 0.58, 0.08),
    ("FORCED_LABOUR", 0.2, 0.62),
    ("DOMESTIC_SERVITUDE", 0.08, 0.03),
    ("FORCED_CRIMINALITY", 0.03, 0.1),
    ("FORCED_BEGGING", 0.02, 0.05),
    ("FORCED_MARRIAGE", 0.04, 0.0),
    ("ORGAN_REMOVAL", 0.0, 0.01),
    ("MIXED", 0.03, 0.06),
    ("OTHER", 0.02, 0.05),
)
#: How agencies spell each form, by spelling style (the built-in schema maps all of them).
_EXPLOITATION_SPELLINGS: dict[str, tuple[str, str, str]] = {
    "SEXUAL": ("SEXUAL", "Sexual exploitation", "sex"),
    "FORCED_LABOUR": ("FORCED_LABOUR", "Labour exploitation", "forced labor"),
    "DOMESTIC_SERVITUDE": ("DOMESTIC_SERVITUDE", "Domestic servitude", "domestic"),
    "FORCED_CRIMINALITY": ("FORCED_CRIMINALITY", "Criminal activity", "forced criminality"),
    "FORCED_BEGGING": ("FORCED_BEGGING", "Forced begging", "begging"),
    "FORCED_MARRIAGE": ("FORCED_MARRIAGE", "Forced marriage", "marriage"),
    "ORGAN_REMOVAL": ("ORGAN_REMOVAL", "Organ removal", "organs"),
    "MIXED": ("MIXED", "Multiple", "mixed"),
    "OTHER": ("OTHER", "Other", "other"),
}
#: The country the agencies work in: where most of their cases were exploited.
_HOST_COUNTRY = "DEU"
#: Day number of the earliest first contact with an agency (five years before the reference).
_FIRST_CONTACT = _date(2018, 6, 30).toordinal()


@dataclass(frozen=True)
class CorruptionRates:
    """Per-record probabilities of each corruption (before agency-specific factors).

    Agencies scale these: a hotline writing names heard over the phone makes more typos and
    knows fewer dates of birth than an office copying passports; a police database may be
    ASCII-only and upper-case. ``CorruptionRates.none()`` gives clean data (every agency
    records the canonical romanised name and exact date), useful to test a pipeline itself.
    """

    #: Non-Latin-script origin written in its native script (x agency factor 0-2.5).
    native_script: float = 0.2
    #: Share of (agency, origin) pairs where the agency habitually uses a romanisation other
    #: than the most common one (Mohamed rather than Mohammed, Oleksandr rather than Aleksandr).
    agency_convention: float = 0.7
    #: Per name part: a random romanisation instead of the agency's habitual one.
    romanisation_variant: float = 0.12
    #: Native-script record: orthographic variant (Arabic hamza dropped, ё -> е, Ge'ez
    #: homophone letters, traditional Han characters, short Devanagari vowels).
    script_variant: float = 0.15
    #: At least one keying error in a name (x agency factor); a second one with p = 0.25.
    typo: float = 0.10
    #: Accents lost (Ștefan -> Stefan, Nguyễn -> Nguyen); always at ASCII-only agencies.
    diacritics_dropped: float = 0.3
    #: A wrong accent added (Maria -> María).
    diacritics_added: float = 0.02
    #: Given and family name in each other's columns (x3 for family-name-first origins).
    names_swapped: float = 0.03
    #: A middle name, second given name, second surname or grandfather's name left out.
    name_part_dropped: float = 0.3
    #: A part the person does not usually give (patronymic, father's name) written in.
    name_part_added: float = 0.1
    #: Nickname or short form instead of the given name (x3 for Thai).
    nickname: float = 0.04
    #: Compound parts joined, split or re-hyphenated (Al-Hassan / Alhassan / Al Hassan).
    spacing_variant: float = 0.05
    #: Case typed differently (all caps, all lower).
    case_variation: float = 0.04
    #: Stray leading, trailing or doubled spaces.
    whitespace: float = 0.03
    #: Whole name typed in the given-name column, family name empty.
    name_in_one_field: float = 0.01
    #: Family name not recorded.
    family_missing: float = 0.01
    #: Date of birth unknown (x agency factor).
    dob_missing: float = 0.08
    #: Only the year known (x agency factor, x4 for persons unsure of their birth date).
    dob_year_only: float = 0.05
    #: Only year and month known (x agency factor).
    dob_year_month: float = 0.02
    #: Estimated date recorded as 1 January (x4 for persons unsure of their birth date).
    dob_jan_first: float = 0.04
    #: Day and month exchanged (only possible when the day is 12 or less).
    dob_day_month_swapped: float = 0.03
    #: Year off by one or two -- an estimated age (x4 for persons unsure of their birth date).
    dob_off_by_year: float = 0.04
    #: A wrong digit in the day.
    dob_digit_typo: float = 0.02
    #: A different date altogether (another person's, a false document).
    dob_wrong: float = 0.01
    #: Share of *persons* who do not know their exact date of birth (correlated errors).
    uncertain_dob_share: float = 0.2
    #: Sex not recorded.
    sex_missing: float = 0.04
    #: Sex recorded wrongly.
    sex_wrong: float = 0.005
    #: Nationality not recorded.
    nationality_missing: float = 0.06
    #: Another nationality recorded (transit country, neighbouring country).
    nationality_other: float = 0.04
    #: A captured person registered again by the same agency (x agency factor 0.6-1.6).
    duplicate: float = 0.05
    #: Form of exploitation not recorded (x agency factor).
    exploitation_missing: float = 0.1
    #: Another form of exploitation recorded (the agency saw another side of the case).
    exploitation_other: float = 0.06
    #: Country of exploitation not recorded (x agency factor).
    country_missing: float = 0.12
    #: Another country of exploitation recorded (a transit country, or exploited in several).
    country_other: float = 0.05
    #: Registration date not exported.
    registration_missing: float = 0.03

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and 0.0 <= float(value) <= 1.0):
                raise ValueError(f"CorruptionRates.{f.name} must be in [0, 1], got {value!r}")

    @classmethod
    def none(cls) -> CorruptionRates:
        """All rates zero: canonical names, exact dates, no duplicates."""
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def scaled(self, factor: float) -> CorruptionRates:
        """Every rate multiplied by ``factor`` (capped at 1): easier or harder data."""
        return replace(
            self, **{f.name: min(1.0, getattr(self, f.name) * factor) for f in fields(self)}
        )


@dataclass(frozen=True)
class SyntheticData:
    """A generated data set and its ground truth.

    ``persons`` (an addition to the four core fields) holds each true person's canonical
    attributes -- romanised name, exact date of birth, sex, nationality, origin -- for every
    person including those no agency captured, so that name frequency and estimation error
    can be analysed against the truth.
    """

    agencies: dict[str, list[dict[str, str]]]
    truth: dict[tuple[str, str], str]
    corruptions: dict[tuple[str, str], tuple[str, ...]]
    n_persons: int
    persons: dict[str, dict[str, str]] = field(default_factory=dict)


# ---- compiled name tables -------------------------------------------------------------------


class _Table:
    """All name entries of all origins, addressed by integer id."""

    def __init__(self) -> None:
        self.native: list[str | None] = []
        self.variants: list[tuple[str, ...]] = []

    def add(self, native: str | None, variants: tuple[str, ...]) -> int:
        self.native.append(native)
        # Distinct spellings only: a derived form may coincide (Smirnoff -> Smirnova).
        self.variants.append(tuple(dict.fromkeys(variants)))
        return len(self.native) - 1


@dataclass(frozen=True)
class _Pool:
    """Entry ids and their popularity (probabilities summing to 1)."""

    ids: npt.NDArray[np.int64]
    p: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Origin:
    data: OriginData
    given: tuple[_Pool, _Pool]  # index 0 = female, 1 = male
    family: tuple[_Pool, _Pool]
    middle: tuple[_Pool, _Pool] | None
    nick_of: dict[int, tuple[int, ...]]
    free_nick: tuple[tuple[int, ...], tuple[int, ...]]
    nat_codes: tuple[str, ...]
    nat_p: npt.NDArray[np.float64]
    alphabet: str
    native_variant: Callable[[str], str] | None


#: Exponent scales for the Zipf-like popularity. Tuned so that about a third of a 100,000
#: population shares its full name with somebody else while at 1,000 only about 1 % do.
#: Surnames are spread more evenly than given names (a longer, heavier tail).
_GIVEN_FLATTER = 0.92
_FAMILY_FLATTER = 0.75


def _zipf(n: int, s: float) -> npt.NDArray[np.float64]:
    """Zipf-like popularity for ranks 0..n-1 (a short flat head, then a power-law tail)."""
    w: npt.NDArray[np.float64] = 1.0 / (np.arange(n, dtype=np.float64) + 1.5) ** s
    out: npt.NDArray[np.float64] = w / w.sum()
    return out


_FEMININE_RULES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "russian": (
        (
            ("ский", "ская"),
            ("цкий", "цкая"),
            ("ов", "ова"),
            ("ев", "ева"),
            ("ёв", "ёва"),
            ("ин", "ина"),
            ("ын", "ына"),
        ),
        (
            ("skiy", "skaya"),
            ("skii", "skaia"),
            ("sky", "skaya"),
            ("ski", "skaja"),
            ("off", "ova"),
            ("ov", "ova"),
            ("ow", "owa"),
            ("ev", "eva"),
            ("ew", "ewa"),
            ("in", "ina"),
            ("yn", "yna"),
        ),
    ),
    "ukrainian": (
        (("ський", "ська"), ("цький", "цька"), ("ий", "а"), ("ов", "ова"), ("ев", "ева")),
        (
            ("skyi", "ska"),
            ("sky", "ska"),
            ("cki", "cka"),
            ("ski", "ska"),
            ("yi", "a"),
            ("ov", "ova"),
            ("ev", "eva"),
        ),
    ),
    "polish": ((), (("cki", "cka"), ("ski", "ska"), ("ny", "na"))),
}

#: Rule-based romanisers: an entry whose spellings are exactly these was generated by rule,
#: and its female form is re-romanised from the female native form.
_ROMANISERS: dict[str, Callable[[str], tuple[str, ...]]] = {
    "russian": russian_romanisations,
    "ukrainian": ukrainian_romanisations,
}


def _apply_suffix(word: str, rules: tuple[tuple[str, str], ...]) -> str | None:
    for old, new in rules:
        if word.endswith(old):
            return word[: -len(old)] + new
    return None


def _feminine(entry: Entry, rule: str) -> Entry:
    """The female form of a gendered surname (Иванов -> Иванова, Kowalski -> Kowalska)."""
    native_rules, latin_rules = _FEMININE_RULES[rule]
    native, variants = entry
    if native is not None:
        fem = _apply_suffix(native, native_rules)
        if fem is None:
            return entry
        romanise = _ROMANISERS.get(rule)
        if romanise is not None and romanise(native) == variants:
            return fem, romanise(fem)
        return fem, tuple(_apply_suffix(v, latin_rules) or v for v in variants)
    if _apply_suffix(variants[0], latin_rules) is None:
        return entry
    return None, tuple(_apply_suffix(v, latin_rules) or v for v in variants)


def _romanian_variants(entry: Entry) -> Entry:
    """Add the cedilla spelling (Ş/Ţ) that pre-2010 Romanian software produced."""
    native, variants = entry
    cedilla = variants[0].translate(str.maketrans("ȘșȚț", "ŞşŢţ"))
    if cedilla != variants[0] and cedilla not in variants:
        return native, (*variants, cedilla)
    return entry


def _pool(table: _Table, entries: tuple[Entry, ...], s: float) -> _Pool:
    ids = np.array([table.add(n, v) for n, v in entries], dtype=np.int64)
    return _Pool(ids, _zipf(len(entries), s))


def _shared_pool(ids: npt.NDArray[np.int64], s: float) -> _Pool:
    return _Pool(ids, _zipf(len(ids), s))


def _chinese_given(table: _Table, chars: tuple[tuple[str, str], ...], s: float) -> _Pool:
    """One- or two-character given names, each with pinyin written joined, spaced or
    hyphenated (Xiaoming / Xiao Ming / Xiao-Ming)."""
    w = _zipf(len(chars), s)
    ids: list[int] = []
    probs: list[float] = []
    for i, (c, p) in enumerate(chars):
        ids.append(table.add(c, (p.capitalize(),)))
        probs.append(0.3 * w[i])
    for i, (c1, p1) in enumerate(chars):
        for j, (c2, p2) in enumerate(chars):
            a, b = p1.capitalize(), p2
            ids.append(table.add(c1 + c2, (a + b, f"{a} {b.capitalize()}", f"{a}-{b}")))
            probs.append(0.7 * w[i] * w[j])
    p_arr = np.array(probs)
    return _Pool(np.array(ids, dtype=np.int64), p_arr / p_arr.sum())


def _thai_family(table: _Table, fixed: tuple[Entry, ...], s: float) -> _Pool:
    """Thai surnames: a few common Sino-Thai ones plus compounds of real surname elements,
    romanised consistently in RTGS or in the popular style (Bunmi / Boonmee)."""
    wh = _zipf(len(THAI_SURNAME_HEADS), s)
    wt = _zipf(len(THAI_SURNAME_TAILS), s)
    ids: list[int] = []
    probs: list[float] = []
    for n, v in fixed:
        ids.append(table.add(n, v))
        probs.append(0.5 * wh[0] * wt[0])
    for i, (hn, hr, hp) in enumerate(THAI_SURNAME_HEADS):
        for j, (tn, tr, tp) in enumerate(THAI_SURNAME_TAILS):
            if hn == tn:
                continue
            rtgs, popular = hr + tr, hp + tp
            variants = (rtgs,) if rtgs == popular else (rtgs, popular)
            ids.append(table.add(hn + tn, variants))
            probs.append(wh[i] * wt[j])
    p_arr = np.array(probs)
    return _Pool(np.array(ids, dtype=np.int64), p_arr / p_arr.sum())


_NATIVE_VARIANTS: dict[str, Callable[[str], str]] = {
    "arabic": corrupt.arabic_variant,
    "russian": corrupt.russian_variant,
    "ethiopian_eritrean": corrupt.ethiopic_variant,
    "nepali_indian": corrupt.devanagari_variant,
    "chinese": corrupt.make_han_variant(CHN_TRADITIONAL),
}


@lru_cache(maxsize=1)
def _compiled() -> tuple[_Table, tuple[_Origin, ...]]:
    """Turn :data:`ORIGINS` into id-addressed pools (once per process; pure function)."""
    table = _Table()
    origins: list[_Origin] = []
    for od in ORIGINS:
        s = od.zipf * _GIVEN_FLATTER
        if od.key == "chinese":
            given = (
                _chinese_given(table, CHN_GIVEN_CHARS_F, s * 0.8),
                _chinese_given(table, CHN_GIVEN_CHARS_M, s * 0.8),
            )
        else:
            gf, gm = od.given_f, od.given_m
            if od.key == "romanian":
                gf = tuple(_romanian_variants(e) for e in gf)
                gm = tuple(_romanian_variants(e) for e in gm)
            given = (_pool(table, gf, s), _pool(table, gm, s))
        if od.family_from_father:
            family = (given[1], given[1])
        elif od.key == "thai":
            fam = _thai_family(table, od.family, s)
            family = (fam, fam)
        else:
            fam_entries = od.family
            if od.key == "romanian":
                fam_entries = tuple(_romanian_variants(e) for e in fam_entries)
            male = _pool(table, fam_entries, s * _FAMILY_FLATTER)
            if od.feminize:
                fem_entries = tuple(_feminine(e, od.feminize) for e in fam_entries)
                fem_ids = np.array(
                    [
                        male.ids[k] if fem_entries[k] is fam_entries[k] else table.add(*fem)
                        for k, fem in enumerate(fem_entries)
                    ],
                    dtype=np.int64,
                )
                family = (_Pool(fem_ids, male.p), male)
            else:
                family = (male, male)
        middle: tuple[_Pool, _Pool] | None = None
        if od.second == "pool":
            middle = (_pool(table, od.middle_f, s), _pool(table, od.middle_m, s))
        elif od.second == "father":
            middle = (given[1], given[1])
        elif od.second == "given":
            middle = given
        elif od.second == "family":
            middle = family
        canon_to_id: dict[str, list[int]] = {}
        for pool in given:
            for e in pool.ids.tolist():
                canon_to_id.setdefault(table.variants[e][0], []).append(e)
        nick_of: dict[int, tuple[int, ...]] = {}
        for canon, nick_entries in od.nicknames.items():
            nick_ids = tuple(table.add(n, v) for n, v in nick_entries)
            for e in canon_to_id.get(canon, []):
                nick_of[e] = nick_ids
        free_nick = (
            tuple(table.add(n, v) for n, v in od.free_nick_f),
            tuple(table.add(n, v) for n, v in od.free_nick_m),
        )
        codes = tuple(c for c, _ in od.nationalities)
        weights = np.array([w for _, w in od.nationalities], dtype=np.float64)
        alphabet_chars: set[str] = set()
        if od.script is not None:
            for pool in (*given, *family):
                for e in pool.ids.tolist():
                    native = table.native[e]
                    if native:
                        # Base letters only: a stray vowel sign or tone mark on its own
                        # is not something a keyboard produces.
                        alphabet_chars.update(
                            c for c in native if unicodedata.category(c) in ("Lo", "Ll")
                        )
        origins.append(
            _Origin(
                data=od,
                given=given,
                family=family,
                middle=middle,
                nick_of=nick_of,
                free_nick=free_nick,
                nat_codes=codes,
                nat_p=weights / weights.sum(),
                alphabet="".join(sorted(alphabet_chars)),
                native_variant=_NATIVE_VARIANTS.get(od.key),
            )
        )
    return table, tuple(origins)


# ---- agencies -------------------------------------------------------------------------------

#: Agency archetypes: name, native-script factor, ASCII-only, case style, typo factor,
#: date-of-birth-gap factor, missing-sex/nationality factor, record-id format.
_ARCHETYPES: tuple[tuple[str, float, bool, str, float, float, float, str], ...] = (
    ("ngo_north", 2.0, False, "title", 1.0, 1.0, 1.0, "prefixed_seq"),
    ("police_unit", 0.15, True, "upper", 0.8, 0.5, 0.5, "year_seq"),
    ("hotline", 0.8, False, "asis", 1.8, 2.2, 2.0, "int"),
    ("iom_office", 1.2, False, "title", 0.6, 0.5, 0.6, "org_year_seq"),
    ("shelter_south", 2.5, False, "asis", 1.3, 1.2, 1.2, "prefixed_seq"),
    ("labour_inspectorate", 0.3, True, "upper", 1.0, 1.0, 1.0, "case_seq"),
    ("border_police", 0.0, True, "upper", 0.7, 0.4, 0.4, "hex"),
    ("legal_aid", 1.0, False, "title", 0.9, 0.8, 0.8, "year_seq"),
    ("ngo_east", 1.8, False, "title", 1.2, 1.3, 1.2, "int"),
    ("embassy_desk", 0.5, False, "title", 0.5, 0.3, 0.3, "org_year_seq"),
    ("health_clinic", 0.6, False, "asis", 1.1, 0.9, 1.5, "case_seq"),
    ("child_protection", 1.0, False, "title", 1.0, 0.7, 0.8, "prefixed_seq"),
    ("prosecutor_office", 0.2, True, "upper", 0.6, 0.5, 0.5, "year_seq"),
    ("migrant_centre", 1.5, False, "asis", 1.4, 1.5, 1.3, "int"),
    ("church_refuge", 1.5, False, "title", 1.5, 1.8, 1.5, "hex"),
    ("ngo_west", 1.2, False, "title", 1.0, 1.0, 1.0, "prefixed_seq"),
)

#: How each agency's case-management system exports dates and unknown values, by archetype
#: position: date layout ("iso", "dmy_slash", "dmy_dot", "iso_time" as spreadsheets write it,
#: "mdy_slash" as in the United States) and the text written for an unknown value ("" blank).
_EXPORT_STYLES: tuple[tuple[str, str], ...] = (
    ("iso", ""),
    ("dmy_dot", "UNKNOWN"),
    ("dmy_slash", ""),
    ("iso", "N/A"),
    ("iso_time", ""),
    ("dmy_slash", "-"),
    ("iso", ""),
    ("mdy_slash", "Unknown"),
    ("dmy_dot", ""),
    ("iso", "n/a"),
)


def _format_dob(layout: str, year: int, month: int | None, day: int | None) -> str:
    """A full or partial date of birth as the agency's system writes it."""
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}" if layout.startswith("iso") else f"{month:02d}/{year:04d}"
    if layout == "dmy_slash":
        return f"{day:02d}/{month:02d}/{year:04d}"
    if layout == "dmy_dot":
        return f"{day:02d}.{month:02d}.{year:04d}"
    if layout == "mdy_slash":
        return f"{month:02d}/{day:02d}/{year:04d}"
    suffix = " 00:00:00" if layout == "iso_time" else ""
    return f"{year:04d}-{month:02d}-{day:02d}{suffix}"


def agency_names(n_agencies: int) -> list[str]:
    """Names for ``n_agencies`` agencies: the archetype names, then numbered repeats."""
    base = [a[0] for a in _ARCHETYPES]
    return [
        base[i % len(base)] + ("" if i < len(base) else f"_{i // len(base) + 1}")
        for i in range(n_agencies)
    ]


@dataclass(frozen=True)
class _Agency:
    name: str
    capture: float
    native: float
    ascii_only: bool
    case_style: str
    typo: float
    dob: float
    missing: float
    id_format: str
    date_layout: str
    unknown_text: str
    dup: float
    conventions: tuple[int, ...]
    origin_pref: npt.NDArray[np.float64]


def _make_agencies(
    n_agencies: int,
    n_origins: int,
    origins: tuple[_Origin, ...],
    rates: CorruptionRates,
    rng: np.random.Generator,
) -> list[_Agency]:
    out: list[_Agency] = []
    for i, name in enumerate(agency_names(n_agencies)):
        _, native, ascii_only, case, typo_f, dob_f, miss_f, id_fmt = _ARCHETYPES[
            i % len(_ARCHETYPES)
        ]
        jitter = rng.uniform(0.75, 1.3, size=4)
        conventions = tuple(
            (int(rng.integers(1, 4)) if rng.random() < rates.agency_convention else 0)
            if o.data.script is not None or o.data.key == "chinese"
            else 0
            for o in origins
        )
        out.append(
            _Agency(
                name=name,
                capture=float(rng.uniform(0.25, 0.5)),
                native=0.0 if ascii_only else native * float(jitter[0]),
                ascii_only=ascii_only,
                case_style=case,
                typo=typo_f * float(jitter[1]),
                dob=dob_f * float(jitter[2]),
                missing=miss_f * float(jitter[3]),
                id_format=id_fmt,
                date_layout=_EXPORT_STYLES[i % len(_EXPORT_STYLES)][0],
                unknown_text=_EXPORT_STYLES[i % len(_EXPORT_STYLES)][1],
                dup=float(rng.uniform(0.6, 1.6)),
                conventions=conventions,
                origin_pref=rng.normal(0.0, 0.6, size=n_origins),
            )
        )
    return out


def _initials(name: str) -> str:
    parts = [p for p in name.split("_") if p and not p.isdigit()]
    letters = "".join(p[0] for p in parts).upper()
    return letters if len(letters) >= 2 else name[:3].upper()


def _record_ids(agency: _Agency, n: int, rng: np.random.Generator) -> list[str]:
    """Agency-local ids in intake order (increasing, with gaps where records were deleted)."""
    gaps = 1 + (rng.random(n) < 0.05) * rng.integers(1, 6, size=n)
    seq = np.cumsum(gaps) + int(rng.integers(0, 500))
    fmt = agency.id_format
    if fmt == "int":
        return [str(v) for v in (seq + int(rng.integers(1000, 50000))).tolist()]
    if fmt == "case_seq":
        return [f"C{v:07d}" for v in seq.tolist()]
    if fmt == "prefixed_seq":
        prefix = _initials(agency.name)
        return [f"{prefix}-{v:06d}" for v in seq.tolist()]
    if fmt == "hex":
        values = rng.integers(0, 2**32, size=n, dtype=np.uint64)
        out: list[str] = []
        seen: set[str] = set()
        for v in values.tolist():
            text = f"{v:08X}"
            while text in seen:
                text = f"{int(rng.integers(0, 2**32)):08X}"
            seen.add(text)
            out.append(text)
        return out
    # Year-based: years non-decreasing in intake order, sequence restarting each year.
    years = np.sort(rng.integers(2015, 2025, size=n))
    out = []
    counter: dict[int, int] = {}
    org = _initials(agency.name)
    for y in years.tolist():
        counter[y] = counter.get(y, 0) + 1 + int(rng.random() < 0.05)
        if fmt == "year_seq":
            out.append(f"{y}/{counter[y]:04d}")
        else:
            out.append(f"{org}-{y}-{counter[y]:05d}")
    return out


# ---- population -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Population:
    origin: list[int]
    sex: list[int]  # 0 = F, 1 = M
    given: list[int]
    family: list[int]
    second: list[int]  # entry id or -1
    second_canon: list[bool]
    family2: list[int]  # entry id or -1
    nick: list[int]  # entry id or -1
    year: list[int]
    month: list[int]
    day: list[int]
    nationality: list[str]
    uncertain: list[bool]
    visibility: npt.NDArray[np.float64]
    origin_arr: npt.NDArray[np.int64]


def _draw_other(
    pool: _Pool, count: int, avoid: npt.NDArray[np.int64], rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Draw ``count`` entries from ``pool``, never equal to ``avoid`` (element-wise)."""
    k = rng.choice(len(pool.ids), size=count, p=pool.p)
    ids = pool.ids[k]
    clash = ids == avoid
    if clash.any():
        ids[clash] = pool.ids[(k[clash] + 1) % len(pool.ids)]
    return ids


def _make_population(
    n: int, origins: tuple[_Origin, ...], rates: CorruptionRates, rng: np.random.Generator
) -> _Population:
    weights = np.array([o.data.weight for o in origins])
    origin = rng.choice(len(origins), size=n, p=weights / weights.sum())
    sex = (rng.random(n) < 0.3).astype(np.int64)  # identified victims: mostly women and girls
    given = np.zeros(n, dtype=np.int64)
    family = np.zeros(n, dtype=np.int64)
    second = np.full(n, -1, dtype=np.int64)
    second_canon = np.zeros(n, dtype=bool)
    family2 = np.full(n, -1, dtype=np.int64)
    nick = np.full(n, -1, dtype=np.int64)
    nationality = np.empty(n, dtype=object)
    for oi, o in enumerate(origins):
        od = o.data
        for sx in (0, 1):
            idx = np.flatnonzero((origin == oi) & (sex == sx))
            m = len(idx)
            if m == 0:
                continue
            gp, fp = o.given[sx], o.family[sx]
            g = gp.ids[rng.choice(len(gp.ids), size=m, p=gp.p)]
            f = (
                _draw_other(fp, m, g, rng)
                if od.family_from_father
                else fp.ids[rng.choice(len(fp.ids), size=m, p=fp.p)]
            )
            given[idx], family[idx] = g, f
            if o.middle is not None and od.second_prob > 0:
                has = rng.random(m) < od.second_prob
                mp = o.middle[sx]
                avoid = g if od.second == "given" else f
                sec = _draw_other(mp, m, avoid, rng)
                second[idx] = np.where(has, sec, -1)
                second_canon[idx] = has & (rng.random(m) < od.second_canonical)
            if od.family2_prob > 0:
                has2 = rng.random(m) < od.family2_prob
                f2 = _draw_other(fp, m, f, rng)
                family2[idx] = np.where(has2, f2, -1)
            free = o.free_nick[sx]
            pick_free = rng.random(m) < od.free_nick_prob
            choice_free = rng.integers(0, max(1, len(free)), size=m)
            choice_own = rng.integers(0, 4, size=m)
            nk = np.full(m, -1, dtype=np.int64)
            for k, e in enumerate(g.tolist()):
                own = o.nick_of.get(e)
                if own:
                    nk[k] = own[int(choice_own[k]) % len(own)]
                elif free and pick_free[k]:
                    nk[k] = free[int(choice_free[k])]
            nick[idx] = nk
        idx_o = np.flatnonzero(origin == oi)
        if len(idx_o):
            nationality[idx_o] = np.array(o.nat_codes, dtype=object)[
                rng.choice(len(o.nat_codes), size=len(idx_o), p=o.nat_p)
            ]
    # Ages: mostly late teens to thirties, some minors, a thin tail up to 60.
    age_days = (12.0 + rng.gamma(2.5, 5.0, size=n)).clip(12.0, 60.0) * 365.25
    dob = (_REFERENCE_DATE - age_days.astype("timedelta64[D]")).astype("datetime64[D]")
    month_start = dob.astype("datetime64[M]")
    years = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    months = month_start.astype(np.int64) % 12 + 1
    days = (dob - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return _Population(
        origin=origin.tolist(),
        sex=sex.tolist(),
        given=given.tolist(),
        family=family.tolist(),
        second=second.tolist(),
        second_canon=second_canon.tolist(),
        family2=family2.tolist(),
        nick=nick.tolist(),
        year=years.tolist(),
        month=months.tolist(),
        day=days.tolist(),
        nationality=nationality.tolist(),
        uncertain=(rng.random(n) < rates.uncertain_dob_share).tolist(),
        visibility=rng.normal(0.0, 1.0, size=n),
        origin_arr=origin,
    )


@dataclass(frozen=True)
class _CaseAttributes:
    exploitation: list[str]
    country: list[str]
    first_contact: list[int]  # days after mid-2018 the person first met an agency


def _case_attributes(
    pop: _Population, origins: tuple[_Origin, ...], rng: np.random.Generator
) -> _CaseAttributes:
    """Each person's form and country of exploitation and first contact with any agency.

    Forms depend on sex; most persons were exploited in the host country, some in a
    transit country of their origin, some in their own country.
    """
    n = len(pop.origin)
    sex = np.array(pop.sex, dtype=np.int64)
    codes = [code for code, _, _ in _EXPLOITATION]
    exploitation = np.empty(n, dtype=object)
    for sx, column in ((0, 1), (1, 2)):
        shares = np.array([row[column] for row in _EXPLOITATION])
        idx = np.flatnonzero(sex == sx)
        exploitation[idx] = np.array(codes, dtype=object)[
            rng.choice(len(codes), size=len(idx), p=shares / shares.sum())
        ]
    where = rng.random(n)
    pick = rng.random(n)
    country = [
        _HOST_COUNTRY
        if w < 0.7
        else (pop.nationality[p] if w < 0.85 else _pick(origins[pop.origin[p]].data.transit, u))
        for p, (w, u) in enumerate(zip(where.tolist(), pick.tolist(), strict=True))
    ]
    return _CaseAttributes(
        exploitation=exploitation.tolist(),
        country=country,
        first_contact=rng.integers(0, 1500, size=n).tolist(),
    )


def _pick(options: tuple[str, ...], u: float) -> str:
    return options[min(len(options) - 1, int(u * len(options)))]


def _expit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-x))


def _captures(
    pop: _Population, agencies: list[_Agency], rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Who each agency captures: logit(p) = agency level + person visibility (shared by all
    agencies: heterogeneity) + origin preference + referral effects from earlier agencies
    (positive or negative list dependence)."""
    n, k = len(pop.origin), len(agencies)
    sigma = 1.0
    caught = np.zeros((n, k), dtype=bool)
    dep = rng.choice([0.0, 1.2, -0.8], p=[0.55, 0.3, 0.15], size=(k, k))
    for a, ag in enumerate(agencies):
        base = sigma * pop.visibility + ag.origin_pref[pop.origin_arr]
        lo, hi = -10.0, 10.0
        for _ in range(40):  # level such that the marginal capture rate is ag.capture
            mid = (lo + hi) / 2
            if float(_expit(base + mid).mean()) < ag.capture:
                lo = mid
            else:
                hi = mid
        lin = base + lo
        # Referral effects, diluted when there are many earlier agencies so that they do
        # not pile up into near-certain capture.
        weight = min(1.0, 3.0 / a) if a else 0.0
        for b in range(a):
            lin = lin + weight * dep[b, a] * caught[:, b]
        caught[:, a] = rng.random(n) < _expit(lin)
    return caught


# ---- rendering ------------------------------------------------------------------------------


def _clip(x: float) -> float:
    return min(0.95, max(0.0, x))


def _person_id(i: int, width: int) -> str:
    return f"P{i:0{width}d}"


def generate(
    n_persons: int = 1000,
    n_agencies: int = 4,
    seed: int = 0,
    rates: CorruptionRates | None = None,
) -> SyntheticData:
    """Generate ``n_persons`` true persons, the agencies' captures of them, and the records.

    Fully determined by the arguments. With the defaults, 1,000 persons give about 1,500
    records across 4 agencies and a few hundred persons no agency saw.
    """
    if n_persons < 1:
        raise ValueError("n_persons must be at least 1")
    if n_agencies < 1:
        raise ValueError("n_agencies must be at least 1")
    rates = rates or CorruptionRates()
    table, origins = _compiled()
    rng = np.random.default_rng(seed)
    py = random.Random(int(rng.integers(0, 2**63)))
    pop = _make_population(n_persons, origins, rates, rng)
    agencies = _make_agencies(n_agencies, len(origins), origins, rates, rng)
    caught = _captures(pop, agencies, rng)
    width = max(6, len(str(n_persons)))
    # Case attributes draw from their own streams, so the standard columns of a seed are what
    # they were before these columns existed.
    case = _case_attributes(pop, origins, np.random.default_rng([seed, 0xCA5E]))
    arnd = random.Random(seed * 7919 + 0xCA5E).random

    native_of, variants_of = table.native, table.variants
    has_script = [o.data.script is not None for o in origins]
    family_first = [o.data.family_first for o in origins]
    second_pos = [o.data.second_pos for o in origins]
    second_join = [o.data.second_joiner if o.data.second == "given" else " " for o in origins]
    native_join = [o.data.native_joiner for o in origins]
    nick_factor = [o.data.nick_factor for o in origins]
    alphabets = [o.alphabet for o in origins]
    native_variant = [o.native_variant for o in origins]
    transit = [o.data.transit for o in origins]
    rnd = py.random
    randrange = py.randrange

    records_by_agency: dict[str, list[dict[str, str]]] = {}
    truth: dict[tuple[str, str], str] = {}
    corruptions: dict[tuple[str, str], tuple[str, ...]] = {}

    for a, ag in enumerate(agencies):
        members = np.flatnonzero(caught[:, a])
        dup_p = min(0.9, rates.duplicate * ag.dup)
        u = rng.random(len(members))
        copies = 1 + (u < dup_p) + (u < dup_p * 0.1)
        rows = np.repeat(members, copies)
        rows = rows[rng.permutation(len(rows))]
        ids = _record_ids(ag, len(rows), rng)

        r_native = _clip(rates.native_script * ag.native)
        r_variant = rates.romanisation_variant
        r_script_var = rates.script_variant
        r_typo = _clip(rates.typo * ag.typo)
        # An ASCII-only database cannot store accents at all.
        r_strip = (
            1.0 if ag.ascii_only and rates.diacritics_dropped > 0 else (rates.diacritics_dropped)
        )
        r_add_diac = 0.0 if ag.ascii_only else rates.diacritics_added
        r_swap = rates.names_swapped
        r_drop, r_add = rates.name_part_dropped, rates.name_part_added
        r_nick, r_spacing = rates.nickname, rates.spacing_variant
        r_case, r_ws = rates.case_variation, rates.whitespace
        r_one, r_fam_miss = rates.name_in_one_field, rates.family_missing
        r_dob_miss = _clip(rates.dob_missing * ag.dob)
        r_year = _clip(rates.dob_year_only * ag.dob)
        r_ym = _clip(rates.dob_year_month * ag.dob)
        r_jan, r_dm = rates.dob_jan_first, rates.dob_day_month_swapped
        r_off, r_digit, r_wrong = rates.dob_off_by_year, rates.dob_digit_typo, rates.dob_wrong
        r_sex_miss = _clip(rates.sex_missing * ag.missing)
        r_sex_wrong = rates.sex_wrong
        r_nat_miss = _clip(rates.nationality_missing * ag.missing)
        r_nat_other = rates.nationality_other
        r_exp_miss = _clip(rates.exploitation_missing * ag.missing)
        r_exp_other = rates.exploitation_other
        r_country_miss = _clip(rates.country_missing * ag.missing)
        r_country_other = rates.country_other
        r_reg_miss = rates.registration_missing
        spelling = a % 3
        conv = ag.conventions
        upper_style = ag.case_style == "upper" and rates.case_variation > 0
        if ag.case_style == "asis":  # free-text systems with no input normalisation
            r_case = min(1.0, 2 * r_case)
        out_rows: list[dict[str, str]] = []

        for p, rid in zip(rows.tolist(), ids, strict=True):
            o = pop.origin[p]
            kinds: list[str] = []
            native = has_script[o] and r_native > 0 and rnd() < r_native
            cv = conv[o]
            variant_used = False

            # -- structure of the name: which parts are written, in which column
            g_main = pop.given[p]
            fam = pop.family[p]
            sec = pop.second[p]
            sec_on = sec >= 0 and pop.second_canon[p]
            f2 = pop.family2[p]
            f2_on = f2 >= 0
            if (sec_on or f2_on) and rnd() < r_drop:
                if sec_on and (not f2_on or rnd() < 0.5):
                    sec_on = False
                else:
                    f2_on = False
                kinds.append("name_part_dropped")
            elif sec >= 0 and not sec_on and rnd() < r_add:
                sec_on = True
                kinds.append("name_part_added")
            nk = pop.nick[p]
            if nk >= 0 and rnd() < r_nick * nick_factor[o]:
                g_main = nk
                kinds.append("nickname")

            # -- render each part: native script, or one of its romanisations
            parts = [g_main, fam, sec if sec_on else -1, f2 if f2_on else -1]
            rendered = ["", "", "", ""]
            for j, e in enumerate(parts):
                if e < 0:
                    continue
                nv = native_of[e] if native else None
                if nv is not None:
                    rendered[j] = nv
                    continue
                vs = variants_of[e]
                k = len(vs)
                if k == 1:
                    rendered[j] = vs[0]
                    continue
                i = randrange(k) if rnd() < r_variant else cv % k
                if i:
                    variant_used = True
                rendered[j] = vs[i]

            joiner = native_join[o] if native else " "
            given_s, family_s, sec_s, f2_s = rendered
            if sec_on:
                pos = second_pos[o]
                if pos == "given_after":
                    given_s = given_s + (second_join[o] if not native else joiner) + sec_s
                elif pos == "given_before":
                    given_s = sec_s + joiner + given_s
                else:
                    family_s = family_s + joiner + sec_s
            if f2_on:
                family_s = family_s + joiner + f2_s
            if native:
                kinds.append("native_script")
                nvf = native_variant[o]
                if nvf is not None and rnd() < r_script_var:
                    g2, f2s = nvf(given_s), nvf(family_s)
                    if g2 != given_s or f2s != family_s:
                        given_s, family_s = g2, f2s
                        kinds.append("script_variant")
            if variant_used:
                kinds.append("romanisation_variant")

            # -- accents (Latin renderings only)
            if not native or not has_script[o]:
                if r_strip and rnd() < r_strip:
                    g2 = corrupt.strip_diacritics(given_s)
                    f2s = corrupt.strip_diacritics(family_s)
                    if g2 != given_s or f2s != family_s:
                        given_s, family_s = g2, f2s
                        kinds.append("diacritics_dropped")
                if r_add_diac and rnd() < r_add_diac:
                    if rnd() < 0.5:
                        given_s = corrupt.add_diacritic(given_s, py)
                    else:
                        family_s = corrupt.add_diacritic(family_s, py)
                    kinds.append("diacritics_added")

            if r_spacing and rnd() < r_spacing:
                if rnd() < 0.5:
                    new = corrupt.spacing_variant(family_s, py)
                    if new != family_s:
                        family_s = new
                        kinds.append("spacing_variant")
                else:
                    new = corrupt.spacing_variant(given_s, py)
                    if new != given_s:
                        given_s = new
                        kinds.append("spacing_variant")

            # -- keying errors
            if r_typo and rnd() < r_typo:
                for _ in range(2 if rnd() < 0.25 else 1):
                    if rnd() < 0.5:
                        given_s, kind = corrupt.typo(given_s, py, alphabets[o])
                    else:
                        family_s, kind = corrupt.typo(family_s, py, alphabets[o])
                    if kind and kind not in kinds:
                        kinds.append(kind)

            # -- columns
            if r_swap and rnd() < r_swap * (3.0 if family_first[o] else 1.0):
                given_s, family_s = family_s, given_s
                kinds.append("names_swapped")
            if r_one and rnd() < r_one and family_s:
                given_s = (
                    (family_s + joiner + given_s)
                    if family_first[o]
                    else (given_s + joiner + family_s)
                )
                family_s = ""
                kinds.append("name_in_one_field")
            elif r_fam_miss and rnd() < r_fam_miss:
                family_s = ""
                kinds.append("family_missing")

            # -- case and whitespace
            if upper_style:
                g2, f2s = given_s.upper(), family_s.upper()
                if g2 != given_s or f2s != family_s:
                    given_s, family_s = g2, f2s
                    kinds.append("case_variation")
            elif r_case and rnd() < r_case:
                g2, f2s = corrupt.case_noise(given_s, py), corrupt.case_noise(family_s, py)
                if g2 != given_s or f2s != family_s:
                    given_s, family_s = g2, f2s
                    kinds.append("case_variation")
            if r_ws and rnd() < r_ws:
                if rnd() < 0.5:
                    given_s = corrupt.whitespace_noise(given_s, py)
                else:
                    family_s = corrupt.whitespace_noise(family_s, py)
                kinds.append("whitespace")

            # -- date of birth
            y, m, d = pop.year[p], pop.month[p], pop.day[p]
            unsure = 4.0 if pop.uncertain[p] else 1.0
            if r_wrong and rnd() < r_wrong:
                y = y + randrange(-12, 13)
                m, d = randrange(1, 13), randrange(1, 29)
                kinds.append("dob_wrong")
            else:
                if r_off and rnd() < r_off * unsure:
                    step = 2 if rnd() < 0.15 else 1
                    y = y + (step if rnd() < 0.5 else -step)
                    kinds.append("dob_off_by_year")
                if r_jan and rnd() < r_jan * unsure and (m, d) != (1, 1):
                    m, d = 1, 1
                    kinds.append("dob_jan_first")
                elif r_dm and d <= 12 and d != m and rnd() < r_dm:
                    m, d = d, m
                    kinds.append("dob_day_month_swapped")
                elif r_digit and rnd() < r_digit:
                    nd = (d // 10) * 10 + randrange(10)
                    if 1 <= nd <= 28 and nd != d:
                        d = nd
                        kinds.append("dob_digit_typo")
            if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
                d = 28
            u_dob = rnd()
            if u_dob < r_dob_miss:
                dob_s = ""
                kinds.append("dob_missing")
            elif u_dob < r_dob_miss + _clip(r_year * unsure):
                dob_s = _format_dob(ag.date_layout, y, None, None)
                kinds.append("dob_year_only")
            elif u_dob < r_dob_miss + _clip(r_year * unsure) + r_ym:
                dob_s = _format_dob(ag.date_layout, y, m, None)
                kinds.append("dob_year_month")
            else:
                dob_s = _format_dob(ag.date_layout, y, m, d)

            # -- sex and nationality
            sex_s = "M" if pop.sex[p] else "F"
            u_sex = rnd()
            if u_sex < r_sex_miss:
                sex_s = ""
                kinds.append("sex_missing")
            elif u_sex < r_sex_miss + r_sex_wrong:
                sex_s = "F" if sex_s == "M" else "M"
                kinds.append("sex_wrong")
            nat = pop.nationality[p]
            u_nat = rnd()
            if u_nat < r_nat_miss:
                nat = ""
                kinds.append("nationality_missing")
            elif u_nat < r_nat_miss + r_nat_other:
                options = transit[o]
                other = options[randrange(len(options))]
                if other != nat:
                    nat = other
                    kinds.append("nationality_other")

            # -- case attributes (own random stream; not linkage fields, not in corruptions)
            exploitation = case.exploitation[p]
            u_exp = arnd()
            if u_exp < r_exp_miss:
                exploitation = ""
            elif u_exp < r_exp_miss + r_exp_other:
                exploitation = _EXPLOITATION[int(arnd() * len(_EXPLOITATION))][0]
            country = case.country[p]
            u_country = arnd()
            if u_country < r_country_miss:
                country = ""
            elif u_country < r_country_miss + r_country_other:
                options = transit[o]
                country = options[int(arnd() * len(options))]
            if arnd() < r_reg_miss:
                registered = ""
            else:
                # contacts from mid-2018 on; most agencies register the person soon after
                reg = _date.fromordinal(
                    _FIRST_CONTACT + case.first_contact[p] + int(arnd() * 300 * arnd())
                )
                registered = _format_dob(ag.date_layout, reg.year, reg.month, reg.day)

            out_rows.append(
                {
                    "record_id": rid,
                    "given_name": given_s or ag.unknown_text,
                    "family_name": family_s or ag.unknown_text,
                    "date_of_birth": dob_s or ag.unknown_text,
                    "sex": sex_s or ag.unknown_text,
                    "nationality": nat or ag.unknown_text,
                    "exploitation_type": (
                        _EXPLOITATION_SPELLINGS[exploitation][spelling]
                        if exploitation
                        else ag.unknown_text
                    ),
                    "country_of_exploitation": country or ag.unknown_text,
                    "registration_date": registered or ag.unknown_text,
                }
            )
            key = (ag.name, rid)
            truth[key] = _person_id(p, width)
            corruptions[key] = tuple(kinds)
        records_by_agency[ag.name] = out_rows

    persons = _canonical_persons(pop, table, width)
    for p, person in enumerate(persons.values()):
        person["exploitation_type"] = case.exploitation[p]
        person["country_of_exploitation"] = case.country[p]
    return SyntheticData(
        agencies=records_by_agency,
        truth=truth,
        corruptions=corruptions,
        n_persons=n_persons,
        persons=persons,
    )


def _canonical_persons(pop: _Population, table: _Table, width: int) -> dict[str, dict[str, str]]:
    """Each person's true attributes, names in their canonical romanisation."""
    _, origins = _compiled()
    variants = table.variants
    out: dict[str, dict[str, str]] = {}
    for p in range(len(pop.origin)):
        od = origins[pop.origin[p]].data
        given = variants[pop.given[p]][0]
        family = variants[pop.family[p]][0]
        sec = pop.second[p]
        if sec >= 0 and pop.second_canon[p]:
            sec_s = variants[sec][0]
            if od.second_pos == "given_after":
                given = given + (od.second_joiner if od.second == "given" else " ") + sec_s
            elif od.second_pos == "given_before":
                given = sec_s + " " + given
            else:
                family = family + " " + sec_s
        if pop.family2[p] >= 0:
            family = family + " " + variants[pop.family2[p]][0]
        out[_person_id(p, width)] = {
            "given_name": given,
            "family_name": family,
            "date_of_birth": f"{pop.year[p]:04d}-{pop.month[p]:02d}-{pop.day[p]:02d}",
            "sex": "M" if pop.sex[p] else "F",
            "nationality": pop.nationality[p],
            "origin": od.key,
        }
    return out
