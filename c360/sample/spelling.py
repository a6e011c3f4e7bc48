"""How Vietnamese names get mangled on the way into a system: typing residue, Unicode forms, tones.

Every function takes one NFC string and returns the distorted string (pure, deterministic given
its arguments). Vietnamese letters are read through Unicode decomposition: a base letter, an
optional quality mark (circumflex, breve, horn; đ is its own letter) and an optional tone mark.
"""

from __future__ import annotations

import unicodedata

# Tone marks as combining characters, in the order sắc, huyền, hỏi, ngã, nặng.
TONE_MARKS = ("\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_QUALITY_MARKS = {"\u0302": "circumflex", "\u0306": "breve", "\u031b": "horn"}
_VOWELS = set("aeiouyAEIOUY")

# Per input method: keys for each quality mark on its base letter, for đ, and for each tone.
_TELEX = {
    "quality": {"circumflex": "{base}{base}", "breve": "{base}w", "horn": "{base}w"},
    "d": "dd",
    "tones": ("s", "f", "r", "x", "j"),
    "tone_at_word_end": True,
}
_VNI = {
    "quality": {"circumflex": "{base}6", "breve": "{base}8", "horn": "{base}7"},
    "d": "d9",
    "tones": ("1", "2", "3", "4", "5"),
    "tone_at_word_end": True,
}
_VIQR = {
    "quality": {"circumflex": "{base}^", "breve": "{base}(", "horn": "{base}+"},
    "d": "dd",
    "tones": ("'", "`", "?", "~", "."),
    "tone_at_word_end": False,
}
INPUT_METHODS = {"telex": _TELEX, "vni": _VNI, "viqr": _VIQR}


def _letters(word: str) -> list[tuple[str, str | None, int | None]]:
    """(base letter, quality mark name, tone index) per letter of an NFC word."""
    out = []
    for char in word:
        parts = unicodedata.normalize("NFD", char)
        base, quality, tone = parts[0], None, None
        for mark in parts[1:]:
            if mark in _QUALITY_MARKS:
                quality = _QUALITY_MARKS[mark]
            elif mark in TONE_MARKS:
                tone = TONE_MARKS.index(mark)
        if char in "đĐ":
            base, quality = ("d" if char == "đ" else "D"), "stroke"
        out.append((base, quality, tone))
    return out


def typed_residue(text: str, method: str) -> str:
    """The raw keystrokes of ``text`` typed with an input method whose conversion failed.

    Example:
        >>> typed_residue("Nguyễn Văn", "telex")
        'Nguyeenx Vawn'
        >>> typed_residue("Nguyễn", "viqr")
        'Nguye^~n'
    """
    keys = INPUT_METHODS[method]
    words = []
    for word in text.split(" "):
        typed, tone_key = [], ""
        for base, quality, tone in _letters(word):
            if quality == "stroke":
                letter = keys["d"] if base == "d" else keys["d"].capitalize()
            elif quality is not None:
                letter = keys["quality"][quality].format(base=base)
                if base.isupper():
                    letter = base + letter[1:].lower()
            else:
                letter = base
            if tone is not None:
                if keys["tone_at_word_end"]:
                    tone_key = keys["tones"][tone]
                else:
                    letter += keys["tones"][tone]
            typed.append(letter)
        words.append("".join(typed) + tone_key)
    return " ".join(words)


def decomposed(text: str) -> str:
    """The same text in Unicode NFD (base letters followed by combining marks)."""
    return unicodedata.normalize("NFD", text)


def _compose(letters: list[tuple[str, str | None, int | None]]) -> str:
    marks = {"circumflex": "\u0302", "breve": "\u0306", "horn": "\u031b"}
    out = []
    for base, quality, tone in letters:
        if quality == "stroke":
            out.append("đ" if base == "d" else "Đ")
            continue
        char = (
            base + (marks[quality] if quality else "") + ("" if tone is None else TONE_MARKS[tone])
        )
        out.append(unicodedata.normalize("NFC", char))
    return "".join(out)


def moved_tone_word(word: str) -> str | None:
    """The word with its tone on the other vowel of a final ``oa``, ``oe`` or ``uy``, else None.

    Both placements are in use ("old" Hòa, "new" Hoà); ``qu`` + y is not such a pair.

    Example:
        >>> moved_tone_word("Hòa"), moved_tone_word("Thuỷ"), moved_tone_word("Hoàng")
        ('Hoà', 'Thủy', None)
    """
    letters = _letters(word)
    if len(letters) < 2:
        return None
    (first, q1, t1), (second, q2, t2) = letters[-2], letters[-1]
    pair = (first.lower() + second.lower()) in ("oa", "oe", "uy")
    preceded_by_q = len(letters) >= 3 and letters[-3][0].lower() == "q"
    if not pair or preceded_by_q or q1 or q2 or (t1 is None) == (t2 is None):
        return None
    tone = t1 if t1 is not None else t2
    moved = [*letters[:-2], (first, None, None if t1 is not None else tone)]
    moved.append((second, None, tone if t1 is not None else None))
    return _compose(moved)


def moved_tone(text: str) -> str | None:
    """``text`` with the tone of its first eligible word moved (see ``moved_tone_word``)."""
    words = text.split(" ")
    for i, word in enumerate(words):
        moved = moved_tone_word(word)
        if moved is not None:
            return " ".join([*words[:i], moved, *words[i + 1 :]])
    return None


def _tone_vowel(letters: list[tuple[str, str | None, int | None]]) -> int | None:
    """Index of the letter that carries (or would carry) the word's tone."""
    for i, (_, _, tone) in enumerate(letters):
        if tone is not None:
            return i
    vowels = [i for i, (base, _, _) in enumerate(letters) if base in _VOWELS]
    if not vowels:
        return None
    marked = [i for i in vowels if letters[i][1] in ("circumflex", "breve", "horn")]
    if marked:
        return marked[-1]
    ends_in_consonant = letters[-1][0] not in _VOWELS
    return vowels[-1] if ends_in_consonant or len(vowels) == 1 else vowels[-2]


def wrong_tone(text: str, word_index: int, new_tone: int) -> str:
    """``text`` with word ``word_index`` (modulo the word count) given another tone.

    ``new_tone`` indexes the five marks plus "no tone" (5); a choice equal to the word's own tone
    takes the next one, so the result always differs when the word has a vowel.

    Example:
        >>> wrong_tone("Nguyễn Thị Hương", -1, 1)
        'Nguyễn Thị Hường'
    """
    words = text.split(" ")
    word_index %= len(words)
    letters = _letters(words[word_index])
    position = _tone_vowel(letters)
    if position is None:
        return text
    base, quality, tone = letters[position]
    current = 5 if tone is None else tone
    choice = new_tone % 6
    if choice == current:
        choice = (choice + 1) % 6
    letters[position] = (base, quality, None if choice == 5 else choice)
    words[word_index] = _compose(letters)
    return " ".join(words)
