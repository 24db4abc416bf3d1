"""What the admin API serves from: the services the composition root hands to the HTTP app.

Built in ``app.py`` and passed to :func:`intercarga.web.http.create_http_app`; the API's routes
read it from the app's state. It must never be built anywhere else, nor hold settings (only values taken from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intercarga.bus import EventBus
from intercarga.csms import CsmsService
from intercarga.ocpp.server import StationLinks
from intercarga.registry import Registry
from intercarga.store import Store

__all__ = ["AdminServices"]


@dataclass(frozen=True)
class AdminServices:
    """The store the resources read and write, the bus deletions are published on, the live
    OCPP links (connection views), the CSMS service (commands, registration), the folder of
    the assessment's country files (None: the package's own) and the access point's registry,
    whose data quality rules the assessment counts (None: data quality is not measured)."""

    store: Store
    bus: EventBus
    links: StationLinks
    csms: CsmsService
    assessment_data: Path | None = None
    registry: Registry | None = None
