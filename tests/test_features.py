from __future__ import annotations

from blindlink.encoding import features


def test_ngrams_are_padded_per_word() -> None:
    assert features.ngrams(("ana",), 2) == ["g2:_a", "g2:an", "g2:na", "g2:a_"]
    assert features.ngrams(("ab", "c"), 2) == ["g2:_a", "g2:ab", "g2:b_", "g2:_c", "g2:c_"]


def test_romanisation_variants_share_a_skeleton() -> None:
    variants = ["mohammed", "muhammad", "mohamed", "mhmd"]
    assert {features.consonant_skeleton(v) for v in variants} == {"md"}


def test_skeleton_folds_sounds() -> None:
    assert features.consonant_skeleton("shevchenko") == features.consonant_skeleton("sevcenko")
    assert features.consonant_skeleton("philip") == features.consonant_skeleton("filip")
    assert features.consonant_skeleton("aeiou") == ""


def test_skeleton_ngrams_skip_vowel_only_words() -> None:
    assert features.skeleton_ngrams(("eo",), 2) == []
    assert features.skeleton_ngrams(("tom",), 2) == ["s2:_t", "s2:tm", "s2:m_"]


def test_year_tolerance_overlaps() -> None:
    a = set(features.year(1990, 1))
    assert a == {"y:1989", "y:1990", "y:1991"}
    assert len(a & set(features.year(1991, 1))) == 2
    assert len(a & set(features.year(1993, 1))) == 0


def test_month_day_survives_swap_partially() -> None:
    a = set(features.month_day(5, 3))
    b = set(features.month_day(3, 5))
    assert a & b == {"md:03-05"}
    assert features.month_day(None, None) == []
    assert features.month_day(5, None) == ["m:05"]


def test_exact_blank_is_missing() -> None:
    assert features.exact("") == []
    assert features.exact("F") == ["x:F"]


def test_phonetic_codes_bridge_romanisations() -> None:
    assert features.phonetic(("mohammed",), "metaphone") == features.phonetic(
        ("mhmd",), "metaphone"
    )
    assert features.phonetic(("ana", "1990"), "soundex") == ["p:soundex:A500"]
    for algorithm in features.PHONETIC_CODES:
        assert features.phonetic(("somchai",), algorithm)[0].startswith(f"p:{algorithm}:")
