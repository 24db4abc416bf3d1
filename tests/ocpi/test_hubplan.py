"""The hub's routing plan, as a pure rule: routing headers + partner table -> where a request goes.

The end-to-end behaviour through a running hub is tests/ocpi/test_hub.py; here each rule of
:mod:`intercarga.ocpi.hubplan` is checked on plain values, without a network or a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from intercarga.domain.partner import Partner, PartnerEndpoint, PartnerRole, PartnerState
from intercarga.ocpi.envelope import OcpiError, StatusCode
from intercarga.ocpi.hubplan import (
    AskEveryEmsp,
    Broadcast,
    CommandResult,
    Forward,
    GetAll,
    RoutedRequest,
    Unroutable,
    check_routed,
    client_info_list,
    plan,
)

HUB = frozenset({("CO", "HUB")})
MODULES = ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands", "hubclientinfo")


def _partner(
    id: str,
    roles: list[tuple[str, str, str]],
    *,
    state: PartnerState = PartnerState.REGISTERED,
    modules: tuple[str, ...] = MODULES,
) -> Partner:
    return Partner(
        id=id,
        name=id,
        state=state,
        initiated_by="THEM",
        version="2.2.1",
        outgoing_token=f"token-{id}",
        roles=[PartnerRole(country_code=c, party_id=p, role=r, name=id) for c, p, r in roles],
        endpoints=[
            PartnerEndpoint(identifier=module, role=interface, url=f"https://{id}/{module}")
            for module in modules
            for interface in ("SENDER", "RECEIVER")
        ],
        last_updated=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


CPO = _partner("cpo", [("CL", "ICG", "CPO")])
EMSP = _partner("emsp", [("CO", "EMS", "EMSP")])
EMSP2 = _partner("emsp2", [("BR", "MOV", "EMSP")])
OTHER_HUB = _partner("hub2", [("PE", "HBX", "HUB")])
PARTNERS = [CPO, EMSP, EMSP2, OTHER_HUB]


def _request(
    caller: Partner,
    module: str,
    interface: str = "RECEIVER",
    method: str = "PUT",
    segments: tuple[str, ...] = (),
    *,
    to: tuple[str, str] | None = None,
    sender: tuple[str, str] | None = None,
    body: Any = None,
) -> RoutedRequest:
    headers: Mapping[str, str] = {}
    if to is not None:
        headers = {**headers, "ocpi-to-country-code": to[0], "ocpi-to-party-id": to[1]}
    if sender is not None:
        headers = {**headers, "ocpi-from-country-code": sender[0], "ocpi-from-party-id": sender[1]}
    return RoutedRequest(
        version="2.2.1",
        interface=interface,
        module=module,
        segments=segments,
        method=method,
        headers=headers,
        body=body,
        caller=caller,
    )


def test_a_request_to_a_hosted_party_is_forwarded_to_the_partner_hosting_it() -> None:
    request = _request(CPO, "locations", segments=("CL", "ICG", "L1"), to=("co", "ems"))
    assert plan(request, PARTNERS, HUB) == Forward(EMSP, ("CO", "EMS"), keeps_response_url=False)


def test_a_command_forwarded_to_a_cpo_has_its_response_url_kept_by_the_hub() -> None:
    command = _request(
        EMSP, "commands", method="POST", segments=("START_SESSION",), to=("CL", "ICG")
    )
    assert plan(command, PARTNERS, HUB) == Forward(CPO, ("CL", "ICG"), keeps_response_url=True)


def test_a_party_nobody_hosts_is_unroutable() -> None:
    request = _request(CPO, "locations", to=("AR", "XXX"))
    assert plan(request, PARTNERS, HUB) == Unroutable("no connected party AR-XXX")


def test_a_partner_without_the_modules_interface_does_not_host_the_party() -> None:
    no_tariffs = _partner("emsp", [("CO", "EMS", "EMSP")], modules=("locations",))
    request = _request(CPO, "tariffs", to=("CO", "EMS"))
    assert isinstance(plan(request, [CPO, no_tariffs], HUB), Unroutable)


def test_a_push_to_the_hub_itself_is_broadcast_to_every_other_receiver_but_no_hub() -> None:
    request = _request(CPO, "locations", segments=("CL", "ICG", "L1"), to=("CO", "HUB"))
    decided = plan(request, PARTNERS, HUB)
    assert isinstance(decided, Broadcast)
    assert [(t.partner.id, t.to) for t in decided.targets] == [
        ("emsp", ("CO", "EMS")),
        ("emsp2", ("BR", "MOV")),
    ]


def test_a_broadcast_skips_partners_not_registered() -> None:
    gone = _partner("emsp2", [("BR", "MOV", "EMSP")], state=PartnerState.UNREGISTERED)
    decided = plan(_request(CPO, "tariffs", to=("CO", "HUB")), [CPO, EMSP, gone], HUB)
    assert isinstance(decided, Broadcast)
    assert [t.partner.id for t in decided.targets] == ["emsp"]


def test_a_broadcast_to_a_sender_interface_is_refused() -> None:
    request = _request(CPO, "locations", interface="SENDER", method="PUT", to=("CO", "HUB"))
    with pytest.raises(OcpiError) as raised:
        plan(request, PARTNERS, HUB)
    assert raised.value.status_code is StatusCode.INVALID_OR_MISSING_PARAMETERS


def test_a_get_to_the_hub_itself_combines_the_lists_of_every_owner_but_the_caller() -> None:
    request = _request(EMSP, "locations", interface="SENDER", method="GET", to=("CO", "HUB"))
    assert plan(request, PARTNERS, HUB) == GetAll((CPO,))
    tokens = _request(CPO, "tokens", interface="SENDER", method="GET", to=("CO", "HUB"))
    assert plan(tokens, PARTNERS, HUB) == GetAll((EMSP, EMSP2))


def test_get_all_is_only_for_a_senders_whole_list() -> None:
    one = _request(
        EMSP, "locations", interface="SENDER", method="GET", segments=("L1",), to=("CO", "HUB")
    )
    with pytest.raises(OcpiError):
        plan(one, PARTNERS, HUB)


def test_an_authorization_without_a_receiver_is_asked_of_every_other_emsp() -> None:
    request = _request(
        CPO, "tokens", interface="SENDER", method="POST", segments=("T1", "authorize")
    )
    assert plan(request, PARTNERS, HUB) == AskEveryEmsp(
        ((EMSP, ("CO", "EMS")), (EMSP2, ("BR", "MOV")))
    )


def test_a_session_without_a_receiver_goes_to_the_emsp_of_its_token() -> None:
    body = {"id": "S1", "cdr_token": {"country_code": "br", "party_id": "mov", "uid": "T1"}}
    request = _request(CPO, "sessions", segments=("CL", "ICG", "S1"), body=body)
    assert plan(request, PARTNERS, HUB) == Forward(EMSP2, ("BR", "MOV"), keeps_response_url=False)
    lost = {"id": "S1", "cdr_token": {"country_code": "AR", "party_id": "NOP", "uid": "T1"}}
    unknown = _request(CPO, "cdrs", method="POST", body=lost)
    assert plan(unknown, PARTNERS, HUB) == Unroutable("no connected party AR-NOP")


def test_any_other_push_without_a_receiver_is_broadcast_and_a_get_is_unroutable() -> None:
    push = _request(CPO, "tariffs", segments=("CL", "ICG", "T1"))
    assert isinstance(plan(push, PARTNERS, HUB), Broadcast)
    get = _request(CPO, "tariffs", method="GET", segments=("CL", "ICG", "T1"))
    assert plan(get, PARTNERS, HUB) == Unroutable(
        "cannot tell where this goes: send OCPI-to headers"
    )
    command = _request(EMSP, "commands", method="POST", segments=("START_SESSION",))
    assert isinstance(plan(command, PARTNERS, HUB), Unroutable)


def test_a_cpos_command_result_is_for_the_record_the_hub_keeps() -> None:
    result = _request(
        CPO, "commands", interface="SENDER", method="POST", segments=("START_SESSION", "r-1")
    )
    assert plan(result, PARTNERS, HUB) == CommandResult("r-1")


def test_the_sender_must_be_a_party_the_caller_registered_unless_it_is_a_hub() -> None:
    request = _request(CPO, "locations", to=("CO", "EMS"), sender=("CO", "EMS"))
    with pytest.raises(OcpiError) as raised:
        plan(request, PARTNERS, HUB)
    assert raised.value.status_code is StatusCode.INVALID_OR_MISSING_PARAMETERS
    through = _request(OTHER_HUB, "locations", to=("CO", "EMS"), sender=("CL", "ICG"))
    assert plan(through, PARTNERS, HUB) == Forward(EMSP, ("CO", "EMS"), keeps_response_url=False)


def test_only_routed_modules_and_interfaces_of_a_supported_version_are_routed() -> None:
    assert check_routed("2.2.1", "receiver", "locations") == "RECEIVER"
    for version, interface, module in [
        ("2.2.1", "RECEIVER", "credentials"),
        ("2.2.1", "OTHER", "locations"),
        ("9.9", "RECEIVER", "locations"),
    ]:
        with pytest.raises(OcpiError) as raised:
            check_routed(version, interface, module)
        assert raised.value.http_status == 404


def test_client_info_tells_connected_offline_and_suspended_parties_and_never_a_hub() -> None:
    gone = _partner("gone", [("AR", "OLD", "CPO")], state=PartnerState.UNREGISTERED)
    invited = _partner("new", [("AR", "NEW", "CPO")], state=PartnerState.INVITED)
    infos = client_info_list([CPO, EMSP, gone, invited, OTHER_HUB], offline={"emsp"})
    assert [(i["country_code"], i["party_id"], i["role"], i["status"]) for i in infos] == [
        ("CL", "ICG", "CPO", "CONNECTED"),
        ("CO", "EMS", "EMSP", "OFFLINE"),
        ("AR", "OLD", "CPO", "SUSPENDED"),
    ]
    assert infos[0]["last_updated"] == "2026-01-02T03:04:05Z"
