"""String helpers for the generator: diacritics folding, typos, unique random digit strings."""

from __future__ import annotations

import zlib

import numpy as np

from c360.standardise.text import diacritics_fold_table


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """An independent generator per stage, so changing one stage never shifts another's draws."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode("utf-8"))])


# The same folding the silver layer applies (dropping diacritics is a noise kind here).
_FOLD = diacritics_fold_table()


def fold_diacritics(text: str) -> str:
    """Drop Vietnamese diacritics: ``"Nguyễn Văn Đức"`` -> ``"Nguyen Van Duc"``."""
    return text.translate(_FOLD)


def fold_array(values: np.ndarray) -> np.ndarray:
    """``fold_diacritics`` over an object array."""
    return np.array([v.translate(_FOLD) for v in values], dtype=object)


_TYPO_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"


def typo_array(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """One keyboard slip per string (delete, double, swap or replace a letter); always changes it.

    Positions avoid the first letter, where people rarely mistype their own name.
    """
    n = len(values)
    ops = rng.integers(0, 4, n)
    positions = rng.random(n)
    letters = rng.integers(0, len(_TYPO_LETTERS), n)
    out = np.empty(n, dtype=object)
    for i, (text, op, u, letter) in enumerate(zip(values, ops, positions, letters, strict=True)):
        if len(text) < 3:
            out[i] = text + text[-1:] if text else "x"
            continue
        pos = 1 + int(u * (len(text) - 2))  # 1 .. len-2, so pos + 1 is a valid index
        if text[pos] == " ":
            pos -= 1  # slip on a letter, never on the space between names
        if op == 2 and (text[pos] == text[pos + 1] or " " in text[pos : pos + 2]):
            op = 0  # swapping equal letters would change nothing; across a space, too much
        if op == 3:
            replacement = _TYPO_LETTERS[letter]
            if replacement == text[pos].lower():
                replacement = _TYPO_LETTERS[(letter + 1) % len(_TYPO_LETTERS)]
            out[i] = text[:pos] + replacement + text[pos + 1 :]
        elif op == 0:
            out[i] = text[:pos] + text[pos + 1 :]
        elif op == 1:
            out[i] = text[:pos] + text[pos] + text[pos:]
        else:
            out[i] = text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]
    return out


def zero_pad(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded strings (object array): ``7 -> "0007"``."""
    numbers = np.asarray(numbers)
    if numbers.size == 0:
        return np.array([], dtype=object)
    return np.char.zfill(numbers.astype(str), width).astype(object)


def digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """``n`` zero-padded random digit strings of ``width`` digits (object array)."""
    if width <= 9:
        numbers = rng.integers(0, 10**width, n)
        return zero_pad(numbers, width)
    head = digits(rng, n, width - 9)
    return head + digits(rng, n, 9)


def unique_with_digits(
    rng: np.random.Generator, prefixes: np.ndarray, width: int, taken: set[str] | None = None
) -> np.ndarray:
    """``prefix + width random digits`` per prefix, all distinct and not in ``taken``.

    Collisions are redrawn (deterministically) until none remain.
    """
    values = prefixes.astype(object) + digits(rng, len(prefixes), width)
    taken = taken or set()
    while True:
        series_dup = _duplicated(values) | np.array([v in taken for v in values], dtype=bool)
        if not series_dup.any():
            return values
        redo = np.flatnonzero(series_dup)
        values[redo] = prefixes[redo].astype(object) + digits(rng, len(redo), width)


def _duplicated(values: np.ndarray) -> np.ndarray:
    _, first_index = np.unique(values.astype(str), return_index=True)
    mask = np.ones(len(values), dtype=bool)
    mask[first_index] = False
    return mask
