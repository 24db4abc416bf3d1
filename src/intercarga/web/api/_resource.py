"""One generic set of admin endpoints (list, create, read, replace, delete) per aggregate.

Every resource of the admin API behaves the same way, so the behaviour is written once here and
each resource only declares its key, its filters and how it maps to the store. Endpoint
signatures are built with ``inspect.Signature`` so OpenAPI shows each resource's real path
parameters, filters and body schema.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from intercarga.domain import Location, Tariff, Token
from intercarga.domain.events import ObjectRemoved
from intercarga.errors import InvalidInputError
from intercarga.store import Store
from intercarga.store.repositories import Page, Repository

__all__ = ["MAX_LIMIT", "MAX_OFFSET", "Resource", "paging_headers", "resource_router"]

MAX_LIMIT = 1000
# OFFSET + LIMIT must fit the databases' signed 64-bit integers: past that SQLite raised an
# overflow (a 500) and PostgreSQL's driver dropped the connection.
MAX_OFFSET = 2**63 - 1 - MAX_LIMIT

T = TypeVar("T", bound=BaseModel)


def _identity(item: Any) -> Any:
    return item


@dataclass(frozen=True)
class Resource(Generic[T]):
    """How one aggregate is exposed: ``/{name}`` and ``/{name}/{key...}``."""

    name: str
    singular: str
    model: type[T]
    key: tuple[str, ...]
    repository: Callable[[Store], Repository[T]]
    filters: dict[str, str] = field(default_factory=dict)
    write_model: type[BaseModel] | None = None
    to_domain: Callable[[Any, T | None], Awaitable[T]] | None = None
    to_public: Callable[[Request, T], dict[str, Any]] | None = None
    # How an item read alone is shown, when it may ask further than a list's items do (a
    # station's connection at the node holding it); to_public when None.
    read_public: Callable[[Request, T], Awaitable[dict[str, Any]]] | None = None
    public_model: type[BaseModel] | None = None
    # Filters that need the whole object, not a column (e.g. "locations this car can use"):
    # query parameter names, and the function that keeps the matching items.
    item_filter_params: tuple[str, ...] = ()
    item_filter: Callable[[dict[str, str], list[T]], list[T]] | None = None
    # Whether the aggregate has a last_updated to filter on (updated_from / updated_to).
    tracks_updates: bool = True


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _public(resource: Resource[T], item: T, request: Request) -> dict[str, Any]:
    if resource.to_public is not None:
        return resource.to_public(request, item)
    return item.model_dump(mode="json")


def _check_key(resource: Resource[T], item: BaseModel, path: dict[str, str]) -> None:
    for name in resource.key:
        value = getattr(item, name)
        if str(value) != path[name]:
            raise InvalidInputError(
                f"is {value!r} in the body but {path[name]!r} in the path", name
            )


async def _to_domain(resource: Resource[T], body: BaseModel, existing: T | None) -> T:
    if resource.to_domain is not None:
        return await resource.to_domain(body, existing)
    return resource.model.model_validate(body.model_dump())


def _with_signature(
    function: Callable[..., Any], parameters: list[inspect.Parameter]
) -> Callable[..., Any]:
    function.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return function


def _param(name: str, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def paging_headers(
    request: Request, offset: int, shown: int, total: int, limit: int
) -> dict[str, str]:
    """``X-Total-Count``, ``X-Limit`` and, unless this page is the last, ``Link: rel=next``."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
    if offset + shown < total:
        query = dict(request.query_params)
        query.update(offset=str(offset + shown), limit=str(limit))
        headers["Link"] = f'<{request.url.replace(query=urlencode(query))}>; rel="next"'
    return headers


def resource_router(resource: Resource[T]) -> APIRouter:
    router = APIRouter(prefix=f"/{resource.name}", tags=[resource.name])
    body_model = resource.write_model or resource.model
    public_model = resource.public_model or resource.model
    key_path = "".join(f"/{{{name}}}" for name in resource.key)
    key_params = [_param(name, Annotated[str, Path()]) for name in resource.key]
    request_param = _param("request", Request)

    async def list_items(request: Request, **params: Any) -> JSONResponse:
        offset: int = params.pop("offset")
        limit: int = params.pop("limit")
        updated_from = params.pop("updated_from", None)
        updated_to = params.pop("updated_to", None)
        if not resource.tracks_updates:
            # Documented for every list once; a client still sending it gets told, not ignored.
            for name in ("updated_from", "updated_to"):
                if name in request.query_params:
                    raise InvalidInputError(f"{resource.name} have no last_updated", name)
        item_params = {
            name: value
            for name in resource.item_filter_params
            if (value := params.pop(name)) is not None
        }
        filters = {
            resource.filters[name]: value for name, value in params.items() if value is not None
        }
        repository = resource.repository(_store(request))
        if item_params and resource.item_filter is not None:
            everything = await repository.list(
                limit=None, filters=filters, updated_from=updated_from, updated_to=updated_to
            )
            kept = resource.item_filter(item_params, everything.items)
            page = Page(kept[offset : offset + limit], len(kept), offset, limit)
        else:
            page = await repository.list(
                offset=offset,
                limit=limit,
                filters=filters,
                updated_from=updated_from,
                updated_to=updated_to,
            )
        headers = paging_headers(request, offset, len(page.items), page.total, limit)
        body = {
            "items": [_public(resource, item, request) for item in page.items],
            "total": page.total,
            "offset": offset,
            "limit": limit,
        }
        return JSONResponse(body, headers=headers)

    list_params = [
        request_param,
        _param("offset", Annotated[int, Query(ge=0, le=MAX_OFFSET)]).replace(default=0),
        _param("limit", Annotated[int, Query(ge=1, le=MAX_LIMIT)]).replace(default=50),
        *(
            [
                _param(
                    "updated_from",
                    Annotated[datetime | None, Query(description="last_updated ≥ this instant")],
                ).replace(default=None),
                _param(
                    "updated_to",
                    Annotated[datetime | None, Query(description="last_updated < this instant")],
                ).replace(default=None),
            ]
            if resource.tracks_updates
            else []
        ),
        *[
            _param(name, Annotated[str | None, Query()]).replace(default=None)
            for name in (*resource.filters, *resource.item_filter_params)
        ],
    ]
    router.add_api_route(
        "",
        _with_signature(list_items, list_params),
        methods=["GET"],
        summary=f"List {resource.name}",
        description=f"Paginated; filters: {', '.join(resource.filters) or 'none'}. "
        "`X-Total-Count` and a `Link: rel=next` header come with every page.",
    )

    async def create_item(request: Request, body: BaseModel) -> JSONResponse:
        item = await _to_domain(resource, body, None)
        await resource.repository(_store(request)).create(item)
        location = "/".join(str(getattr(item, name)) for name in resource.key)
        return JSONResponse(
            _public(resource, item, request),
            status_code=201,
            headers={"Location": f"{request.url.path}/{location}"},
        )

    router.add_api_route(
        "",
        _with_signature(
            create_item, [request_param, _param("body", Annotated[body_model, Body()])]
        ),
        methods=["POST"],
        status_code=201,
        summary=f"Create a {resource.singular}",
        response_model=public_model,
        responses={409: {"description": "It exists already"}},
    )

    async def read_item(request: Request, **key: str) -> dict[str, Any]:
        item = await resource.repository(_store(request)).get(*(key[name] for name in resource.key))
        if resource.read_public is not None:
            return await resource.read_public(request, item)
        return _public(resource, item, request)

    router.add_api_route(
        key_path,
        _with_signature(read_item, [request_param, *key_params]),
        methods=["GET"],
        summary=f"Read a {resource.singular}",
        response_model=public_model,
    )

    async def replace_item(
        request: Request, response: Response, body: BaseModel, **key: str
    ) -> dict[str, Any]:
        _check_key(resource, body, key)
        repository = resource.repository(_store(request))
        existing = await repository.find(*(key[name] for name in resource.key))
        item = await _to_domain(resource, body, existing)
        created = await repository.put(item)
        response.status_code = 201 if created else 200
        return _public(resource, item, request)

    router.add_api_route(
        key_path,
        _with_signature(
            replace_item,
            [
                request_param,
                _param("response", Response),
                *key_params,
                _param("body", Annotated[body_model, Body()]),
            ],
        ),
        methods=["PUT"],
        summary=f"Create or replace a {resource.singular}",
        response_model=public_model,
    )

    async def delete_item(request: Request, **key: str) -> Response:
        repository = resource.repository(_store(request))
        values = [key[name] for name in resource.key]
        item = await repository.get(*values)
        await repository.delete(*values)
        if isinstance(item, Location | Tariff | Token):
            # Partners hold copies: the roaming layer tells them (OCPI has its own ways).
            await request.app.state.admin.bus.publish(ObjectRemoved(item))
        return Response(status_code=204)

    router.add_api_route(
        key_path,
        _with_signature(delete_item, [request_param, *key_params]),
        methods=["DELETE"],
        status_code=204,
        summary=f"Delete a {resource.singular}",
    )
    return router
