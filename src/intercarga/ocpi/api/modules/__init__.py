"""The OCPI functional modules' routers (Locations, Tariffs, Sessions, CDRs, Tokens, Commands,
ChargingProfiles, HubClientInfo).

Each module file gives the routers of its SENDER and RECEIVER interfaces, built from the narrow
services it uses; :func:`intercarga.ocpi.api.routers` mounts them. Routers only translate: OCPI
objects to domain objects (through :mod:`intercarga.ocpi.mapping`) and into the store, and back.
"""
