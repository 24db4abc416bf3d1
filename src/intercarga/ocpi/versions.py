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
    "MODULES",
    "SUPPORTED_VERSIONS",
    "ModuleRoute",
    "choose_version",
    "endpoints",
    "version_key",
    "versions",
]

SUPPORTED_VERSIONS: Final = ("2.3.0", "2.2.1", "2.1.1")


@dataclass(frozen=True, slots=True)
class ModuleRoute:
    """One interface we implement: ``identifier`` as ``interface`` for parties with ``role``."""

    identifier: str
    interface: str  # SENDER or RECEIVER
    role: str  # the party role that offers it: CPO or EMSP
    versions: tuple[str, ...] = SUPPORTED_VERSIONS

    def path(self, version: str) -> str:
        return f"/{self.role.lower()}/{version}/{self.identifier}"


# 2.1.1 has no interface roles in its version details, so one identifier can appear only once:
# a 2.1.1 connection gets the CPO side (pull locations, push tokens), what legacy eMSPs use.
_MODERN = ("2.3.0", "2.2.1")
MODULES: Final[tuple[ModuleRoute, ...]] = (
    ModuleRoute("locations", "SENDER", "CPO"),
    ModuleRoute("tariffs", "SENDER", "CPO", _MODERN),
    ModuleRoute("sessions", "SENDER", "CPO", _MODERN),
    ModuleRoute("cdrs", "SENDER", "CPO", _MODERN),
    ModuleRoute("tokens", "RECEIVER", "CPO"),
    ModuleRoute("locations", "RECEIVER", "EMSP", _MODERN),
    ModuleRoute("tariffs", "RECEIVER", "EMSP", _MODERN),
    ModuleRoute("sessions", "RECEIVER", "EMSP", _MODERN),
    ModuleRoute("cdrs", "RECEIVER", "EMSP", _MODERN),
    ModuleRoute("tokens", "SENDER", "EMSP", _MODERN),
)


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
    for module in MODULES:
        if module.role in present and version in module.versions:
            found.append(
                {
                    "identifier": module.identifier,
                    "role": module.interface,
                    "url": base_url + module.path(version),
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
