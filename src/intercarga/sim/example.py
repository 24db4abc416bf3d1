"""A small example network: three operators in Santiago, Bogotá and São Paulo, with stations,
tokens and tariffs, so that a fresh install has something to show. Seeding never overwrites:
it only writes into an empty store.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from intercarga.domain import (
    EVSE,
    Capability,
    Connector,
    ConnectorFormat,
    ConnectorStandard,
    EVSEStatus,
    GeoLocation,
    Hours,
    Location,
    OcppVersion,
    ParkingType,
    Party,
    PowerType,
    PriceComponent,
    Role,
    Station,
    StationEvse,
    Tariff,
    TariffDimension,
    TariffElement,
    TariffRestrictions,
    Token,
    TokenType,
    Whitelist,
)
from intercarga.store import Store

__all__ = ["ExampleNetwork", "example_network", "seed_example_network"]


@dataclass(frozen=True)
class ExampleNetwork:
    parties: list[Party]
    locations: list[Location]
    stations: list[Station]
    tokens: list[Token]
    tariffs: list[Tariff]


def _connector(
    id_: str,
    standard: ConnectorStandard,
    power: PowerType,
    volts: int,
    amps: int,
    watts: int,
    tariff: str,
) -> Connector:
    return Connector(
        id=id_,
        standard=standard,
        format=ConnectorFormat.CABLE if power is PowerType.DC else ConnectorFormat.SOCKET,
        power_type=power,
        max_voltage=volts,
        max_amperage=amps,
        max_electric_power=watts,
        tariff_ids=[tariff],
    )


_REMOTE = [Capability.RFID_READER, Capability.REMOTE_START_STOP_CAPABLE]


def example_network() -> ExampleNetwork:
    parties = [
        Party(
            country_code="CL", party_id="ICG", name="Intercarga Chile", roles=[Role.CPO, Role.EMSP]
        ),
        Party(country_code="CO", party_id="ICG", name="Intercarga Colombia", roles=[Role.CPO]),
        Party(
            country_code="BR", party_id="ICG", name="Intercarga Brasil", roles=[Role.CPO, Role.EMSP]
        ),
    ]
    santiago = Location(
        country_code="CL",
        party_id="ICG",
        id="SCL-PROVIDENCIA",
        name="Electrolinera Providencia",
        address="Av. Providencia 1234",
        city="Santiago",
        postal_code="7500000",
        country="CHL",
        coordinates=GeoLocation(latitude="-33.4263000", longitude="-70.6167000"),
        parking_type=ParkingType.PARKING_LOT,
        time_zone="America/Santiago",
        opening_times=Hours(twentyfourseven=True),
        evses=[
            EVSE(
                uid="SCL-PROV-1",
                evse_id="CL*ICG*E0001*1",
                status=EVSEStatus.AVAILABLE,
                capabilities=_REMOTE,
                connectors=[
                    _connector(
                        "1",
                        ConnectorStandard.IEC_62196_T2_COMBO,
                        PowerType.DC,
                        920,
                        200,
                        150000,
                        "CL-DC",
                    ),
                    _connector(
                        "2", ConnectorStandard.GBT_DC, PowerType.DC, 750, 200, 120000, "CL-DC"
                    ),
                ],
            ),
            EVSE(
                uid="SCL-PROV-2",
                evse_id="CL*ICG*E0001*2",
                status=EVSEStatus.AVAILABLE,
                capabilities=_REMOTE,
                connectors=[
                    _connector(
                        "1",
                        ConnectorStandard.IEC_62196_T2,
                        PowerType.AC_3_PHASE,
                        230,
                        32,
                        22000,
                        "CL-AC",
                    )
                ],
            ),
        ],
    )
    bogota = Location(
        country_code="CO",
        party_id="ICG",
        id="BOG-USAQUEN",
        name="Estación Usaquén",
        address="Carrera 7 # 120-20",
        city="Bogotá",
        country="COL",
        coordinates=GeoLocation(latitude="4.6951000", longitude="-74.0307000"),
        time_zone="America/Bogota",
        evses=[
            EVSE(
                uid="BOG-USA-1",
                evse_id="CO*ICG*E0001*1",
                status=EVSEStatus.AVAILABLE,
                capabilities=_REMOTE,
                connectors=[
                    _connector(
                        "1",
                        ConnectorStandard.IEC_62196_T2_COMBO,
                        PowerType.DC,
                        920,
                        125,
                        60000,
                        "CO-DC",
                    ),
                    _connector(
                        "2", ConnectorStandard.CHADEMO, PowerType.DC, 500, 125, 50000, "CO-DC"
                    ),
                ],
            )
        ],
    )
    sao_paulo = Location(
        country_code="BR",
        party_id="ICG",
        id="SAO-PAULISTA",
        name="Eletroposto Paulista",
        address="Av. Paulista 1578",
        city="São Paulo",
        postal_code="01310-200",
        country="BRA",
        coordinates=GeoLocation(latitude="-23.5614000", longitude="-46.6559000"),
        parking_type=ParkingType.PARKING_GARAGE,
        time_zone="America/Sao_Paulo",
        evses=[
            EVSE(
                uid="SAO-PAU-1",
                evse_id="BR*ICG*E0001*1",
                status=EVSEStatus.AVAILABLE,
                capabilities=_REMOTE,
                connectors=[
                    _connector(
                        "1",
                        ConnectorStandard.IEC_62196_T2,
                        PowerType.AC_3_PHASE,
                        220,
                        32,
                        22000,
                        "BR-AC",
                    )
                ],
            )
        ],
    )
    stations = [
        Station(
            id="CL-ICG-0001",
            country_code="CL",
            party_id="ICG",
            vendor="ABB",
            model="Terra 184",
            ocpp_version=OcppVersion.V201,
            evses=[
                StationEvse(ocpp_evse_id=1, location_id="SCL-PROVIDENCIA", evse_uid="SCL-PROV-1"),
                StationEvse(ocpp_evse_id=2, location_id="SCL-PROVIDENCIA", evse_uid="SCL-PROV-2"),
            ],
        ),
        Station(
            id="CO-ICG-0001",
            country_code="CO",
            party_id="ICG",
            vendor="Wallbox",
            model="Supernova",
            ocpp_version=OcppVersion.V16,
            evses=[StationEvse(ocpp_evse_id=1, location_id="BOG-USAQUEN", evse_uid="BOG-USA-1")],
        ),
        Station(
            id="BR-ICG-0001",
            country_code="BR",
            party_id="ICG",
            vendor="WEG",
            model="WEMOB",
            ocpp_version=OcppVersion.V16,
            evses=[StationEvse(ocpp_evse_id=1, location_id="SAO-PAULISTA", evse_uid="SAO-PAU-1")],
        ),
    ]
    tokens = [
        Token(
            country_code="CL",
            party_id="ICG",
            uid="04A1B2C3D4",
            type=TokenType.RFID,
            contract_id="CL-ICG-C00000001-Q",
            issuer="Intercarga Chile",
            whitelist=Whitelist.ALLOWED,
        ),
        Token(
            country_code="BR",
            party_id="ICG",
            uid="BR0000000001",
            type=TokenType.APP_USER,
            contract_id="BR-ICG-C00000001-5",
            issuer="Intercarga Brasil",
            whitelist=Whitelist.ALWAYS,
        ),
    ]

    def energy(price: str, vat: str | None = None) -> PriceComponent:
        return PriceComponent(
            type=TariffDimension.ENERGY,
            price=Decimal(price),
            vat=None if vat is None else Decimal(vat),
            step_size=1,
        )

    tariffs = [
        Tariff(
            country_code="CL",
            party_id="ICG",
            id="CL-DC",
            currency="CLP",
            elements=[
                TariffElement(
                    price_components=[energy("290", "19")],
                    restrictions=TariffRestrictions(start_time="18:00", end_time="23:00"),
                ),
                TariffElement(price_components=[energy("250", "19")]),
            ],
        ),
        Tariff(
            country_code="CL",
            party_id="ICG",
            id="CL-AC",
            currency="CLP",
            elements=[TariffElement(price_components=[energy("190", "19")])],
        ),
        Tariff(
            country_code="CO",
            party_id="ICG",
            id="CO-DC",
            currency="COP",
            elements=[TariffElement(price_components=[energy("1450.00", "19")])],
        ),
        Tariff(
            country_code="BR",
            party_id="ICG",
            id="BR-AC",
            currency="BRL",
            elements=[
                TariffElement(
                    price_components=[
                        energy("1.95"),
                        PriceComponent(
                            type=TariffDimension.PARKING_TIME, price=Decimal("12.00"), step_size=60
                        ),
                    ]
                )
            ],
        ),
    ]
    return ExampleNetwork(parties, [santiago, bogota, sao_paulo], stations, tokens, tariffs)


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
