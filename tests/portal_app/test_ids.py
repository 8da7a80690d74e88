"""Object ids: prefixed, the right length, every base62 character about equally likely."""

from __future__ import annotations

from collections import Counter

from portal_app.ids import new_id, random_id


def test_ids_are_prefixed_base62_of_the_asked_length() -> None:
    for length in (1, 8, 24, 64):
        value = random_id("evt", length=length)
        prefix, _, body = value.partition("_")
        assert prefix == "evt" and len(body) == length and body.isalnum() and body.isascii()
    assert new_id("pm")().startswith("pm_")


def test_every_character_is_about_equally_likely() -> None:
    # 24,000 ids × 24 characters: each of the 62 expected ~9,290 times. A modulo bias
    # (bytes 248-255 kept) would make the first 8 characters ~3% more frequent; this
    # bound is 6 standard deviations wide, so it never flakes and still catches a
    # character that is never or twice as often drawn.
    counts = Counter("".join(random_id("x")[2:] for _ in range(24_000)))
    assert len(counts) == 62
    expected = 24_000 * 24 / 62
    assert all(abs(n - expected) < 6 * expected ** 0.5 for n in counts.values())
