"""OCPP 2.0.1 CSMS conformance, block C: authorization (statuses, cache, group id, master pass)."""

from __future__ import annotations

from tests.conformance.harness import (
    BLOCKED,
    EXPIRED,
    GROUP,
    INVALID,
    MASTER,
    MASTER_GROUP,
    STATION_201,
    VALID,
    VALID2,
    Csms,
    Station201,
)


async def test_TC_C_02_CSMS(cs: Station201) -> None:
    """Local start transaction - Authorization Invalid/Unknown."""
    assert (await cs.authorize(INVALID))["status"] in {"Invalid", "Unknown"}


async def test_TC_C_06_CSMS(cs: Station201) -> None:
    """Local start transaction - Authorization Blocked."""
    assert (await cs.authorize(BLOCKED))["status"] in {"Blocked", "Invalid"}


async def test_TC_C_07_CSMS(cs: Station201) -> None:
    """Local start transaction - Authorization Expired."""
    assert (await cs.authorize(EXPIRED))["status"] in {"Expired", "Invalid"}


async def test_TC_C_08_CSMS(cs: Station201) -> None:
    """Authorization through authorization cache - Accepted: no Authorize, the event decides."""
    await cs.ev_connected_pre_session()
    answer = await cs.transaction_event("Updated", "Authorized", token=VALID)
    assert answer["idTokenInfo"]["status"] == "Accepted"


async def test_TC_C_20_CSMS(cs: Station201) -> None:
    """Authorization through authorization cache - Invalid: the CSMS overrules the cache."""
    await cs.ev_connected_pre_session()
    answer = await cs.transaction_event("Updated", "Authorized", token=INVALID)
    assert answer["idTokenInfo"]["status"] in {"Invalid", "Unknown"}


async def test_TC_C_37_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Authorization Data in Authorization Cache - Accepted."""
    assert (await csms.command(STATION_201, "clear_cache"))["status"] == "Accepted"
    assert cs.last("ClearCache") == {}


async def test_TC_C_38_CSMS(csms: Csms, cs: Station201) -> None:
    """Clear Authorization Data in Authorization Cache - Rejected."""
    cs.reply("ClearCache", {"status": "Rejected"})
    assert (await csms.command(STATION_201, "clear_cache"))["status"] == "Rejected"


async def test_TC_C_39_CSMS(csms: Csms, cs: Station201) -> None:
    """Authorization by GroupId - Success: a card of the same group stops the session."""
    await cs.ev_connected_pre_session()
    info = await cs.authorize(VALID2)
    assert info["status"] == "Accepted"
    assert info["groupIdToken"]["idToken"] == GROUP
    answer = await cs.transaction_event("Updated", "Authorized", token=VALID)
    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == GROUP
    cs.transaction(1).authorized = True
    await cs.energy_transfer_started()
    transaction_id = cs.transaction(1).id
    info = await cs.authorize(VALID2)
    assert (info["status"], info["groupIdToken"]["idToken"]) == ("Accepted", GROUP)
    answer = await cs.stop_authorized(token=VALID2)
    assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == GROUP
    await cs.ev_connected_post_session()
    await cs.ev_disconnected()
    session = await csms.session(STATION_201, transaction_id)
    assert (session["token_uid"], session["status"]) == (VALID, "COMPLETED")


async def master_pass_stops(csms: Csms, cs: Station201, *, with_master_token: bool) -> None:
    """Two charging EVSEs; a master pass ends both (reason MasterPass)."""
    await cs.energy_transfer_started(1, VALID)
    await cs.energy_transfer_started(2, VALID2)
    transactions = [cs.transaction(1).id, cs.transaction(2).id]
    info = await cs.authorize(MASTER)
    assert (info["status"], info["groupIdToken"]["idToken"]) == ("Accepted", MASTER_GROUP)
    for evse, owner in ((1, VALID), (2, VALID2)):
        answer = await cs.transaction_event(
            "Ended",
            "StopAuthorized",
            evse,
            token=MASTER if with_master_token else owner,
            stopped_reason="MasterPass",
            charging_state="EVConnected",
        )
        assert answer["idTokenInfo"]["status"] == "Accepted"
        if with_master_token:
            assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == MASTER_GROUP
    for transaction_id in transactions:
        session = await csms.session(STATION_201, transaction_id)
        assert (session["status"], session["stop_reason"]) == ("COMPLETED", "MasterPass")


async def test_TC_C_47_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop Transaction with a Master Pass - With UI - All transactions."""
    await master_pass_stops(csms, cs, with_master_token=True)


async def test_TC_C_48_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop Transaction with a Master Pass - With UI - Specific transactions."""
    await cs.energy_transfer_started(1, VALID)
    await cs.energy_transfer_started(2, VALID2)
    info = await cs.authorize(MASTER)
    assert (info["status"], info["groupIdToken"]["idToken"]) == ("Accepted", MASTER_GROUP)
    answer = await cs.transaction_event(
        "Ended", "StopAuthorized", 2, token=MASTER, stopped_reason="MasterPass"
    )
    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert answer["idTokenInfo"]["groupIdToken"]["idToken"] == MASTER_GROUP
    assert [s["status"] for s in await csms.sessions(STATION_201, status="ACTIVE")] == ["ACTIVE"]


async def test_TC_C_49_CSMS(csms: Csms, cs: Station201) -> None:
    """Stop Transaction with a Master Pass - Without UI: all transactions end."""
    await master_pass_stops(csms, cs, with_master_token=False)


async def test_master_pass_never_starts_a_transaction(cs: Station201) -> None:
    """C16: a master pass is for stopping; as the start of a transaction it is refused."""
    await cs.ev_connected_pre_session()
    answer = await cs.transaction_event("Updated", "Authorized", token=MASTER)
    assert answer["idTokenInfo"]["status"] == "Invalid"
