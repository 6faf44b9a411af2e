"""Mojibake repair: UTF-8 that was decoded as Mac Roman is restored, correct
text is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXTRA_BANKS, ML_BANK

from ingest.encoding import repair_mojibake
from ingest.pipeline import read_bank_file


def mac_roman_damage(text: str) -> str:
    """What happened to the shipped bank: UTF-8 bytes read as Mac Roman."""
    return text.encode("utf-8").decode("mac_roman")


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("\uf8ffüü°", "🟡"),
        ("\uf8ffüü¢", "🟢"),
        ("\uf8ffüî¥", "🔴"),
        ("‚Üí", "→"),
        ("Œª", "λ"),
        ("¬≤", "²"),
        ("‚úÖ", "✅"),
        ("‚ùå", "❌"),
        ("‚àû", "∞"),
        ("**Difficulty:** \uf8ffüü° Medium", "**Difficulty:** 🟡 Medium"),
        ("High bias ‚Üí underfitting", "High bias → underfitting"),
        ("Can discuss tuning Œª via cross-validation", "Can discuss tuning λ via cross-validation"),
        ("$x^2$ vs x¬≤ and ‚Üí then ‚Üí", "$x^2$ vs x² and → then →"),
    ],
)
def test_damaged_samples_are_repaired(damaged: str, repaired: str) -> None:
    assert repair_mojibake(damaged) == repaired


@pytest.mark.parametrize(
    "text",
    ["🟡 Medium", "→", "λ", "café", "—", "naïve", "latency 12 µs", "½ ± σ", "€5", "“quoted”", "日本語"],
)
def test_repair_inverts_mac_roman_damage(text: str) -> None:
    assert repair_mojibake(mac_roman_damage(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "café",
        "—",
        "em—dash",
        "λ",
        "🟡",
        "naïve Bayes",
        "µs",
        "plain ASCII, with punctuation: (a|b) -> c; x = y * 2",
        "",
        "Straße, Ω, ñ, 25 °C, ™, …",
        "x ≤ y ≥ z ≠ w",
        "“smart quotes” and ‘single’ ones",
        "日本語のテキスト",
        "👍 emoji 🔴 🟢",
    ],
)
def test_correct_text_is_never_altered(text: str) -> None:
    assert repair_mojibake(text) == text


@pytest.mark.parametrize("name", EXTRA_BANKS)
def test_clean_utf8_banks_are_unchanged(extra_dir: Path, name: str) -> None:
    text = (extra_dir / name).read_text(encoding="utf-8")
    assert not text.isascii()  # they do contain non-ASCII (box drawing, emoji), so this is a real check
    assert repair_mojibake(text) == text


def test_reading_the_shipped_bank_repairs_it(ml_text: str) -> None:
    text, problem = read_bank_file(ML_BANK)
    assert problem is None
    assert text is not None
    assert ml_text.count("\uf8ffüü°") == 30
    assert text.count("🟡") == 30
    assert text.count("🔴") == 12
    assert text.count("🟢") == 7
    assert text.count("→") == ml_text.count("‚Üí") == 8
    for bad in ("üü", "‚Ü", "‚Ä", "Œ", "\uf8ff"):
        assert bad not in text
    # Nothing else moved: the ASCII skeleton of the file is identical.
    assert [ln for ln in text.split("\n") if ln.isascii()] == [ln for ln in ml_text.split("\n") if ln.isascii()]


def test_crlf_and_bom_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "bank.md"
    path.write_bytes(b"\xef\xbb\xbf# Title\r\n\r\nLine \xe2\x86\x92 two\r\n")
    text, problem = read_bank_file(path)
    assert problem is None
    assert text == "# Title\n\nLine → two\n"
