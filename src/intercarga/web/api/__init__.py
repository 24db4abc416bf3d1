"""The admin API under ``/api/v1``: bearer-token protected CRUD over the domain aggregates."""

from intercarga.web.api._resource import MAX_LIMIT, MAX_OFFSET
from intercarga.web.api.resources import RESOURCES, admin_router

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "RESOURCES", "admin_router"]
