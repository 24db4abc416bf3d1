"""Which OCPI versions and modules this deployment offers, where they live, and version choice.

URL layout (all under ``{public_url}/ocpi``): ``/versions``; ``/{version}`` for the version
details; ``/{version}/credentials``; a CPO party's interfaces under ``/cpo/{version}/{module}``
and an eMSP party's under ``/emsp/{version}/{module}`` (the layout the spec's examples use).
:data:`MODULES` is the one table of what is implemented; version details are derived from it and
from the roles of the configured parties, so nothing is announced that does not answer.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from intercarga.ocpi.envelope import OcpiError, StatusCode

__all__ = [
    "HUB_ROUTED",
    "MODERN",
    "MODULES",
    "SUPPORTED_VERSIONS",
    "ModuleRoute",
    "choose_version",
    "endpoints",
    "require_version",
    "version_key",
    "versions",
]

SUPPORTED_VERSIONS: Final = ("2.3.0", "2.2.1", "2.1.1")


@dataclass(frozen=True, slots=True)
class ModuleRoute:
    """One interface we implement: ``identifier`` as ``interface`` for parties with ``role``."""

    identifier: str
    interface: str  # SENDER or RECEIVER
    role: str  # the party role that offers it: CPO, EMSP, NAP or HUB
    versions: tuple[str, ...] = SUPPORTED_VERSIONS

    def path(self, version: str) -> str:
        if self.role == "HUB":
            # A hub offers both interfaces of a module: they are told apart by the path.
            return f"/hub/{version}/{self.interface.lower()}/{self.identifier}"
        return f"/{self.role.lower()}/{version}/{self.identifier}"


# 2.1.1 has no interface roles in its version details, so one identifier can appear only once:
# a 2.1.1 connection gets the CPO side (pull locations, push tokens), what legacy eMSPs use.
MODERN: Final = ("2.3.0", "2.2.1")
# The modules a hub routes, both interfaces of each.
HUB_ROUTED: Final = (
    "locations",
    "tariffs",
    "sessions",
    "cdrs",
    "tokens",
    "commands",
    "chargingprofiles",
)
MODULES: Final[tuple[ModuleRoute, ...]] = (
    ModuleRoute("locations", "SENDER", "CPO"),
    ModuleRoute("tariffs", "SENDER", "CPO", MODERN),
    ModuleRoute("sessions", "SENDER", "CPO", MODERN),
    ModuleRoute("cdrs", "SENDER", "CPO", MODERN),
    ModuleRoute("tokens", "RECEIVER", "CPO"),
    ModuleRoute("commands", "RECEIVER", "CPO", MODERN),
    ModuleRoute("chargingprofiles", "RECEIVER", "CPO", MODERN),
    ModuleRoute("locations", "RECEIVER", "EMSP", MODERN),
    ModuleRoute("tariffs", "RECEIVER", "EMSP", MODERN),
    ModuleRoute("sessions", "RECEIVER", "EMSP", MODERN),
    ModuleRoute("cdrs", "RECEIVER", "EMSP", MODERN),
    ModuleRoute("tokens", "SENDER", "EMSP", MODERN),
    ModuleRoute("commands", "SENDER", "EMSP", MODERN),
    ModuleRoute("chargingprofiles", "SENDER", "EMSP", MODERN),
    # The national access point receives what CPOs publish, and nothing else.
    ModuleRoute("locations", "RECEIVER", "NAP", MODERN),
    ModuleRoute("tariffs", "RECEIVER", "NAP", MODERN),
    *(
        ModuleRoute(module, interface, "HUB", MODERN)
        for module in HUB_ROUTED
        for interface in ("SENDER", "RECEIVER")
    ),
    ModuleRoute("hubclientinfo", "SENDER", "HUB", MODERN),
)
# Parties of these roles learn from their hubs which parties the hubs reach.
_CLIENT_INFO_ROLES = frozenset({"CPO", "EMSP", "NAP"})


def version_key(version: str) -> tuple[int, ...]:
    """``"2.2.1"`` → (2, 2, 1), so versions compare as numbers; junk sorts first."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)


def versions(base_url: str, offered: Sequence[str]) -> list[dict[str, str]]:
    """The versions endpoint's data: every offered version we support, newest first."""
    chosen = sorted((v for v in offered if v in SUPPORTED_VERSIONS), key=version_key, reverse=True)
    return [{"version": v, "url": f"{base_url}/{v}"} for v in chosen]


def endpoints(base_url: str, version: str, roles: Iterable[str]) -> list[dict[str, str]]:
    """The version details' endpoints for parties with ``roles`` (CPO, EMSP, …)."""
    present = set(roles)
    found: list[dict[str, str]] = [
        {"identifier": "credentials", "role": "SENDER", "url": f"{base_url}/{version}/credentials"}
    ]
    seen = set()
    for module in MODULES:
        if module.role in present and version in module.versions:
            if (module.identifier, module.interface) in seen:
                continue  # e.g. an eMSP and a NAP party: one locations RECEIVER serves both
            seen.add((module.identifier, module.interface))
            found.append(
                {
                    "identifier": module.identifier,
                    "role": module.interface,
                    "url": base_url + module.path(version),
                }
            )
    if present & _CLIENT_INFO_ROLES and version in MODERN:
        found.append(
            {
                "identifier": "hubclientinfo",
                "role": "RECEIVER",
                "url": f"{base_url}/{version}/hubclientinfo",
            }
        )
    if version == "2.1.1":
        for item in found:
            del item["role"]
    return found


def choose_version(ours: Iterable[str], theirs: Iterable[str]) -> str:
    """The highest version both sides speak; OCPI 3002 when there is none."""
    mutual = set(ours) & set(theirs) & set(SUPPORTED_VERSIONS)
    if not mutual:
        raise OcpiError(
            StatusCode.UNSUPPORTED_VERSION,
            f"no mutual OCPI version (ours: {', '.join(sorted(set(ours)))};"
            f" theirs: {', '.join(sorted(set(theirs))) or 'none'})",
        )
    return max(mutual, key=version_key)


def require_version(module: str, version: str, versions: tuple[str, ...] = MODERN) -> None:
    """404 (OCPI 3xxx) when ``module`` is not offered in ``version``."""
    if version not in versions or version not in SUPPORTED_VERSIONS:
        raise OcpiError(
            StatusCode.UNSUPPORTED_VERSION, f"{module} is not offered in OCPI {version}", 404
        )
