"""intercarga.security's password hashes, as the dashboard's sign-in uses them."""

from intercarga.security import hash_password, unmatchable_hash, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse batter", stored)


def test_the_unmatchable_hash_has_a_real_hashs_cost_and_matches_no_password() -> None:
    """An unknown name's password is checked against it (so the refusal takes as long as a
    known name's): scrypt runs with the same cost, and nothing matches."""
    real, dummy = hash_password("a password").split("$"), unmatchable_hash().split("$")
    assert dummy[:4] == real[:4]  # scheme, n, r, p
    assert [len(part) for part in dummy[4:]] == [len(part) for part in real[4:]]
    for password in ("", "a password", "admin", dummy[4], dummy[5]):
        assert not verify_password(password, "$".join(dummy))
    assert unmatchable_hash() != unmatchable_hash()
