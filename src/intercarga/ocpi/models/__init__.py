"""OCPI objects per version: :mod:`.v211` (read from legacy partners), :mod:`.v221`, :mod:`.v230`.

Each version module holds every object and enum of its spec; :func:`parse` validates under the
version's rule for undocumented fields and :func:`dump` writes the JSON value back. Nothing here
does I/O or knows the domain.
"""

from intercarga.ocpi.models import v211, v221, v230
from intercarga.ocpi.models._types import dump, format_datetime, parse, parse_datetime
from intercarga.ocpi.models.patch import patch_model

__all__ = [
    "dump",
    "format_datetime",
    "parse",
    "parse_datetime",
    "patch_model",
    "v211",
    "v221",
    "v230",
]
