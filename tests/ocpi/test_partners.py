"""The credentials handshake between two Intercarga deployments, both directions, from zero.

Everything goes through HTTP as a partner would see it: the admin API to invite and register,
the OCPI API with the tokens the handshake produced.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from intercarga.ocpi.transport import authorization_header
from tests.ocpi.conftest import Deployment, Hosts, Network, party


async def _invite(deployment: Deployment, name: str = "the partner") -> dict[str, Any]:
    response = await deployment.admin.post("/api/v1/partners/invitations", json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _register(deployment: Deployment, invitation: dict[str, Any]) -> httpx.Response:
    return await deployment.admin.post(
        "/api/v1/partners",
        json={"url": invitation["versions_url"], "token": invitation["token"]},
    )


async def _partners(deployment: Deployment) -> list[dict[str, Any]]:
    response = await deployment.admin.get("/api/v1/partners")
    assert response.status_code == 200
    return list(response.json())


async def _token_of(deployment: Deployment, partner_id: str) -> str:
    """The token this deployment presents to a partner (read from its store, as it would)."""
    partner = await deployment.roaming.registrar.partners.get(partner_id)
    assert partner.outgoing_token is not None
    return partner.outgoing_token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": authorization_header(token)}


async def test_emsp_registers_with_a_cpo_from_token_a_only(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, emsp = cpo_and_emsp
    invitation = await _invite(cpo, "Movilidad")
    assert invitation["versions_url"] == "http://cpo.test/ocpi/versions"

    response = await _register(emsp, invitation)

    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["state"] == "REGISTERED"
    assert registered["version"] == "2.3.0"
    assert registered["roles"][0] == {
        "country_code": "CO",
        "party_id": "CPO",
        "role": "CPO",
        "name": "Carga CPO",
        "website": None,
    }
    assert "outgoing_token" not in registered and "token_hash" not in registered
    [at_cpo] = await _partners(cpo)
    assert at_cpo["state"] == "REGISTERED" and at_cpo["version"] == "2.3.0"
    assert at_cpo["name"] == "Movilidad"
    assert [r["party_id"] for r in at_cpo["roles"]] == ["EMS"]
    assert {e["identifier"] for e in at_cpo["endpoints"]} >= {"credentials", "tokens"}

    token_c = await _token_of(emsp, registered["id"])
    token_b = await _token_of(cpo, at_cpo["id"])
    assert (await cpo.ocpi.get("/ocpi/versions", headers=_auth(token_c))).status_code == 200
    assert (await emsp.ocpi.get("/ocpi/versions", headers=_auth(token_b))).status_code == 200
    dead = await cpo.ocpi.get("/ocpi/versions", headers=_auth(invitation["token"]))
    assert dead.status_code == 401
    assert dead.json()["status_code"] == 2000


async def test_cpo_registers_with_an_emsp_the_other_way_round(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, emsp = cpo_and_emsp
    response = await _register(cpo, await _invite(emsp))
    assert response.status_code == 201, response.text
    assert response.json()["roles"][0]["role"] == "EMSP"
    [at_emsp] = await _partners(emsp)
    assert at_emsp["state"] == "REGISTERED"
    assert at_emsp["roles"][0]["role"] == "CPO"


async def test_the_highest_mutual_version_is_chosen(network: tuple[Network, Hosts]) -> None:
    make, _hosts = network
    old = await make("old", [party("CL", "OLD", "CPO")], versions=["2.2.1", "2.1.1"])
    new = await make("new", [party("CL", "NEW", "EMSP")])
    response = await _register(new, await _invite(old))
    assert response.status_code == 201, response.text
    assert response.json()["version"] == "2.2.1"


async def test_no_mutual_version_is_3002_and_leaves_nothing_behind(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    old = await make("old", [party("CL", "OLD", "CPO")], versions=["2.1.1"])
    new = await make("new", [party("CL", "NEW", "EMSP")], versions=["2.3.0"])
    response = await _register(new, await _invite(old))
    assert response.status_code == 502
    assert response.json()["ocpi_status_code"] == 3002
    assert await _partners(new) == []
    [invited] = await _partners(old)
    assert invited["state"] == "INVITED"


async def test_an_unreachable_partner_fails_the_registration_cleanly(
    network: tuple[Network, Hosts],
) -> None:
    make, hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    emsp = await make("emsp", [party("CO", "EMS", "EMSP")])
    invitation = await _invite(cpo)
    hosts.down.add("cpo.test")
    response = await _register(emsp, invitation)
    assert response.status_code == 502
    assert "cannot reach http://cpo.test/ocpi/versions" in response.json()["detail"]
    assert await _partners(emsp) == []


async def test_registration_answers_3001_when_the_receiver_cannot_call_back(
    network: tuple[Network, Hosts],
) -> None:
    make, _hosts = network
    cpo = await make("cpo", [party("CO", "CPO", "CPO")])
    invitation = await _invite(cpo)
    token_a = invitation["token"]
    body = {
        "token": "a-token-for-the-cpo-to-use",
        "url": "http://nowhere.test/ocpi/versions",
        "roles": [
            {
                "role": "EMSP",
                "party_id": "EMS",
                "country_code": "CO",
                "business_details": {"name": "Ghost"},
            }
        ],
    }
    response = await cpo.ocpi.post("/ocpi/2.2.1/credentials", json=body, headers=_auth(token_a))
    assert response.status_code == 200
    assert response.json()["status_code"] == 3001
    [still] = await _partners(cpo)
    assert still["state"] == "INVITED"


async def test_token_a_opens_only_versions_and_credentials(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, _emsp = cpo_and_emsp
    token_a = (await _invite(cpo))["token"]
    assert (await cpo.ocpi.get("/ocpi/2.2.1", headers=_auth(token_a))).status_code == 200
    credentials = await cpo.ocpi.get("/ocpi/2.2.1/credentials", headers=_auth(token_a))
    assert credentials.json()["data"]["token"] == token_a
    locations = await cpo.ocpi.get("/ocpi/cpo/2.2.1/locations", headers=_auth(token_a))
    assert locations.status_code == 401
    assert locations.json()["status_code"] == 2000


async def test_the_405_rules_of_the_credentials_module(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, emsp = cpo_and_emsp
    token_a = (await _invite(cpo))["token"]
    for method in ("PUT", "DELETE"):
        response = await cpo.ocpi.request(
            method, "/ocpi/2.2.1/credentials", headers=_auth(token_a), json={}
        )
        assert response.status_code == 405, method
        assert response.json()["status_code"] == 2000
    registered = (
        await _register(emsp, {"versions_url": cpo.versions_url, "token": token_a})
    ).json()
    token_c = await _token_of(emsp, registered["id"])
    again = await cpo.ocpi.post(
        "/ocpi/2.3.0/credentials",
        headers=_auth(token_c),
        json=await emsp.roaming.registrar.credentials_data("2.3.0", "x"),
    )
    assert again.status_code == 405
    assert "already registered" in again.json()["status_message"]


async def test_update_replaces_both_tokens_and_unregister_ends_everything(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, emsp = cpo_and_emsp
    registered = (await _register(emsp, await _invite(cpo))).json()
    old_c = await _token_of(emsp, registered["id"])
    [at_cpo] = await _partners(cpo)
    old_b = await _token_of(cpo, at_cpo["id"])

    updated = await emsp.admin.put(
        f"/api/v1/partners/{registered['id']}/credentials", params={"version": "2.2.1"}
    )

    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == "2.2.1"
    new_c = await _token_of(emsp, registered["id"])
    new_b = await _token_of(cpo, at_cpo["id"])
    assert new_c != old_c and new_b != old_b
    assert (await cpo.ocpi.get("/ocpi/versions", headers=_auth(old_c))).status_code == 401
    assert (await cpo.ocpi.get("/ocpi/versions", headers=_auth(new_c))).status_code == 200
    assert (await _partners(cpo))[0]["version"] == "2.2.1"

    removed = await emsp.admin.delete(f"/api/v1/partners/{registered['id']}")

    assert removed.json() == {"partner_id": registered["id"], "unregistered": True}
    assert await _partners(emsp) == []
    [gone] = await _partners(cpo)
    assert gone["state"] == "UNREGISTERED" and gone["has_token"] is False
    assert (await cpo.ocpi.get("/ocpi/versions", headers=_auth(new_c))).status_code == 401


async def test_a_partner_that_sends_its_token_unencoded_is_learnt_during_registration(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, _emsp = cpo_and_emsp
    invitation = await _invite(cpo)
    raw = {"Authorization": f"Token {invitation['token']}"}
    assert (await cpo.ocpi.get("/ocpi/versions", headers=raw)).status_code == 200
    [partner] = await _partners(cpo)
    assert partner["raw_token"] is True


async def test_a_registered_partner_must_encode_unless_switched(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, emsp = cpo_and_emsp
    registered = (await _register(emsp, await _invite(cpo))).json()
    token_c = await _token_of(emsp, registered["id"])
    raw = {"Authorization": f"Token {token_c}"}
    assert (await cpo.ocpi.get("/ocpi/versions", headers=raw)).status_code == 401
    [at_cpo] = await _partners(cpo)
    await cpo.roaming.registrar.partners.touch_raw_token(at_cpo["id"], True)
    assert (await cpo.ocpi.get("/ocpi/versions", headers=raw)).status_code == 200


async def test_missing_or_unknown_tokens_are_401_envelopes_with_message_ids(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, _emsp = cpo_and_emsp
    missing = await cpo.ocpi.get("/ocpi/versions", headers={"X-Request-ID": "r-1"})
    assert missing.status_code == 401
    assert missing.json()["status_code"] == 2000
    assert set(missing.json()) == {"status_code", "status_message", "timestamp"}
    assert missing.headers["X-Request-ID"] == "r-1"
    assert missing.headers["X-Correlation-ID"]
    unknown = await cpo.ocpi.get(
        "/ocpi/versions",
        headers={"Authorization": "Token " + base64.b64encode(b"who-knows").decode()},
    )
    assert unknown.status_code == 401


async def test_a_malformed_registration_body_is_2001_naming_the_field(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, _emsp = cpo_and_emsp
    token_a = (await _invite(cpo))["token"]
    response = await cpo.ocpi.post(
        "/ocpi/2.2.1/credentials",
        headers=_auth(token_a),
        json={"token": "t", "url": "http://x.test/ocpi/versions", "roles": []},
    )
    assert response.status_code == 200
    assert response.json()["status_code"] == 2001
    assert "roles:" in response.json()["status_message"]
    not_json = await cpo.ocpi.post(
        "/ocpi/2.2.1/credentials", headers=_auth(token_a), content=b"{nope"
    )
    assert not_json.status_code == 400


async def test_versions_and_details_list_what_we_offer(
    cpo_and_emsp: tuple[Deployment, Deployment],
) -> None:
    cpo, _emsp = cpo_and_emsp
    token_a = (await _invite(cpo))["token"]
    versions = (await cpo.ocpi.get("/ocpi/versions", headers=_auth(token_a))).json()
    assert versions["status_code"] == 1000
    assert [v["version"] for v in versions["data"]] == ["2.3.0", "2.2.1", "2.1.1"]
    details = (await cpo.ocpi.get("/ocpi/2.2.1", headers=_auth(token_a))).json()["data"]
    assert details["version"] == "2.2.1"
    assert {
        "identifier": "locations",
        "role": "SENDER",
        "url": "http://cpo.test/ocpi/cpo/2.2.1/locations",
    } in details["endpoints"]
    assert not any(
        e["role"] == "RECEIVER" and e["identifier"] == "locations" for e in details["endpoints"]
    )
    legacy = (await cpo.ocpi.get("/ocpi/2.1.1", headers=_auth(token_a))).json()["data"]
    assert all("role" not in e for e in legacy["endpoints"])
    unknown = await cpo.ocpi.get("/ocpi/9.9", headers=_auth(token_a))
    assert unknown.status_code == 404
    assert unknown.json()["status_code"] == 3002
