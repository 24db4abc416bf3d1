"""The admin API under ``/api/v1``: bearer-token protected CRUD over the domain aggregates."""

from intercarga.web.api.resources import RESOURCES, admin_router

__all__ = ["RESOURCES", "admin_router"]
