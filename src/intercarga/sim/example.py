"""A small example network: three operators in Santiago, Bogotá and São Paulo, with stations,
tokens and tariffs, so that a fresh install has something to show. Seeding never overwrites:
it only writes into an empty store.

The network itself lives in data/example_network.toml (made-up sites, said so in the file);
this module only validates it into domain objects and seeds them. It must never restate the data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

from pydantic import BaseModel, ConfigDict

from intercarga.domain import Location, Party, Station, Tariff, Token
from intercarga.store import Store

__all__ = ["ExampleNetwork", "example_network", "seed_example_network"]


@dataclass(frozen=True)
class ExampleNetwork:
    parties: list[Party]
    locations: list[Location]
    stations: list[Station]
    tokens: list[Token]
    tariffs: list[Tariff]


class _About(BaseModel):
    """What the data file is and where it comes from, so nobody takes its sites for real ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    what: str
    source: str
    date: str


class _ExampleFile(BaseModel):
    # Unknown keys refused, so a misspelt table in the data file fails instead of vanishing.
    model_config = ConfigDict(extra="forbid")

    about: _About
    parties: list[Party]
    locations: list[Location]
    stations: list[Station]
    tokens: list[Token]
    tariffs: list[Tariff]


def example_network() -> ExampleNetwork:
    """The example network in data/example_network.toml, as new domain objects on each call."""
    text = (
        resources.files("intercarga.sim")
        .joinpath("data")
        .joinpath("example_network.toml")
        .read_text(encoding="utf-8")
    )
    # Validated on each call, never cached: the objects are mutable and each is stamped now.
    data = _ExampleFile.model_validate(tomllib.loads(text))
    return ExampleNetwork(data.parties, data.locations, data.stations, data.tokens, data.tariffs)


async def seed_example_network(store: Store) -> bool:
    """Write the example network into an empty store; False (and nothing written) otherwise."""
    if await store.parties.count() or await store.locations.count():
        return False
    network = example_network()
    for party in network.parties:
        await store.parties.put(party)
    for tariff in network.tariffs:
        await store.tariffs.put(tariff)
    for location in network.locations:
        await store.locations.put(location)
    for station in network.stations:
        await store.stations.put(station)
    for token in network.tokens:
        await store.tokens.put(token)
    return True
