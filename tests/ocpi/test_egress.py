"""The OCPI client's network guard, with name resolution and the network replaced by fakes."""

from __future__ import annotations

import httpx
import pytest

from intercarga.ocpi.egress import EgressRefusedError, PartnerEgress, Resolver, refusal

PUBLIC = "93.184.216.34"


def _resolver(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


class Recorder(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, json={"status_code": 1000})


async def test_the_request_goes_to_the_checked_address_under_the_partners_name() -> None:
    network = Recorder()
    egress = PartnerEgress(
        allow_http=False, allow_private=False, inner=network, resolve=_resolver(PUBLIC)
    )
    async with httpx.AsyncClient(transport=egress) as client:
        answer = await client.get("https://partner.example:8443/ocpi/versions?x=1")
    assert answer.status_code == 200
    [sent] = network.sent
    assert str(sent.url) == f"https://{PUBLIC}:8443/ocpi/versions?x=1"
    assert sent.headers["host"] == "partner.example:8443"
    assert sent.extensions["sni_hostname"] == "partner.example"


@pytest.mark.parametrize(
    "addresses", [(PUBLIC, "10.1.2.3"), ("192.168.0.7",), (PUBLIC, "::1"), ("fe80::1%eth0",)]
)
async def test_a_name_with_any_private_address_is_refused(addresses: tuple[str, ...]) -> None:
    network = Recorder()
    egress = PartnerEgress(
        allow_http=False, allow_private=False, inner=network, resolve=_resolver(*addresses)
    )
    async with httpx.AsyncClient(transport=egress) as client:
        with pytest.raises(EgressRefusedError, match="allow_private_partner_urls is off"):
            await client.get("https://rebind.example/ocpi/versions")
    assert network.sent == []


@pytest.mark.parametrize("url", ["http://partner.example/v", "ftp://partner.example/v"])
async def test_only_https_by_default(url: str) -> None:
    network = Recorder()
    egress = PartnerEgress(
        allow_http=False, allow_private=False, inner=network, resolve=_resolver(PUBLIC)
    )
    async with httpx.AsyncClient(transport=egress) as client:
        with pytest.raises(EgressRefusedError, match="partner URLs are not allowed"):
            await client.get(url)
    assert network.sent == []


async def test_allowed_private_urls_are_called_as_given() -> None:
    network = Recorder()
    egress = PartnerEgress(allow_http=True, allow_private=True, inner=network)
    async with httpx.AsyncClient(transport=egress) as client:
        await client.get("http://cpo.test/ocpi/versions")
    assert [str(sent.url) for sent in network.sent] == ["http://cpo.test/ocpi/versions"]


async def test_a_burst_to_one_partner_resolves_its_name_once_and_again_after_a_while() -> None:
    network = Recorder()
    answers = [[PUBLIC], [PUBLIC], ["10.0.0.1"]]
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[len(asked) - 1]

    now = [0.0]
    egress = PartnerEgress(
        allow_http=False,
        allow_private=False,
        inner=network,
        resolve=resolve,
        resolved_for=10,
        clock=lambda: now[0],
    )
    async with httpx.AsyncClient(transport=egress) as client:
        for index in range(5):
            now[0] += 1
            await client.patch(f"https://partner.example/ocpi/l/{index}", json={})
        assert len(asked) == 1
        now[0] += 10  # the addresses kept have grown old
        await client.get("https://partner.example/ocpi/versions")
        now[0] += 10
        # The name now leads somewhere private: refused, and nothing kept from before.
        with pytest.raises(EgressRefusedError, match=r"10\.0\.0\.1"):
            await client.get("https://partner.example/ocpi/versions")
    assert len(asked) == 3
    assert {sent.url.host for sent in network.sent} == {PUBLIC} and len(network.sent) == 6


def test_what_counts_as_not_public() -> None:
    assert refusal(PUBLIC) is None
    assert refusal("2606:4700:4700::1111") is None
    assert refusal("127.0.0.2") == "a loopback address"
    assert refusal("::ffff:10.0.0.1") == "a private address"
    assert refusal("169.254.169.254") == "a link-local address"
    assert refusal("100.64.0.1") == "not a public address"  # carrier-grade NAT
    assert refusal("224.0.0.1") == "not a public address"
