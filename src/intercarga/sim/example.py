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
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from intercarga.domain import Location, Party, Station, Tariff, Token
from intercarga.errors import InvalidInputError
from intercarga.store import Store

__all__ = [
    "ExampleNetwork",
    "example_network",
    "load_network",
    "seed_example_network",
    "seed_network",
]


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


def _network(text: str, name: str) -> ExampleNetwork:
    # Validated on each call, never cached: the objects are mutable and each is stamped now.
    try:
        data = _ExampleFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise InvalidInputError(f"{name}: not TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise InvalidInputError(f"{name}: {place}: {first['msg']}") from None
    return ExampleNetwork(data.parties, data.locations, data.stations, data.tokens, data.tariffs)


def example_network() -> ExampleNetwork:
    """The example network in data/example_network.toml, as new domain objects on each call."""
    text = (
        resources.files("intercarga.sim")
        .joinpath("data")
        .joinpath("example_network.toml")
        .read_text(encoding="utf-8")
    )
    return _network(text, "example_network.toml")


def load_network(path: Path) -> ExampleNetwork:
    """A network file in the example network's format (e.g. one of the demo's CPOs).

    :class:`InvalidInputError` naming the file and the first wrong field when it is not valid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidInputError(f"{path}: cannot read: {error.strerror}") from None
    return _network(text, str(path))


async def seed_example_network(store: Store) -> bool:
    """Write the example network into an empty store; False (and nothing written) otherwise."""
    return await seed_network(store, example_network())


async def seed_network(store: Store, network: ExampleNetwork) -> bool:
    """Write a network into an empty store; False (and nothing written) otherwise."""
    if await store.parties.count() or await store.locations.count():
        return False
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
