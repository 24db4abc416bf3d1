"""``intercarga serve`` publishes open data: the router app.py wires, over the seeded network."""

from __future__ import annotations

import subprocess

import httpx

from tests.cli.test_commands import server

__all__ = ["server"]  # the fixture, shared with the command tests


def test_serve_publishes_the_seeded_network_without_sign_in(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    _, http_port = server
    base = f"http://127.0.0.1:{http_port}/open-data/v1"
    answer = httpx.get(f"{base}/locations", params={"country": "CL", "strict": "true"})
    assert answer.status_code == 200, answer.text
    sites = answer.json()["data"]
    assert sites and all(site["country"] == "CHL" for site in sites)
    assert not [key for site in sites for key in site if key.startswith("x_")]
    assert httpx.get(f"{base}/statistics").json()["meta"]["licence"]["name"] == "CC BY 4.0"
    bad = httpx.get(f"{base}/locations", params={"bbox": "10,10,0,0"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "bbox"
