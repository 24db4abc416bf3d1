"""PATCH bodies: partial OCPI objects, built from the whole object's class.

A PATCH names only the fields it changes, plus ``last_updated``, which the spec requires in every
PATCH ("missing last_updated field in a PATCH request" is its example of status 2001). Fields
that are present keep every limit of the whole object, and nested objects must be whole. Unknown
fields follow the version's rule. This module must never apply a patch to stored data; the
receivers do that by merging the body into the stored object and validating the result whole.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import BaseModel, Field, create_model

from intercarga.ocpi.models._types import OcpiModel

__all__ = ["patch_model"]

_PATCH_MODELS: dict[type[BaseModel], type[OcpiModel]] = {}


def patch_model(model: type[OcpiModel]) -> type[OcpiModel]:
    """The class of PATCH bodies for ``model`` (made once per class, then reused)."""
    made = _PATCH_MODELS.get(model)
    if made is not None:
        return made
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        if name == "last_updated":
            fields[name] = (annotation, Field())
        else:
            fields[name] = (annotation | None, Field(default=None))
    made = cast(
        "type[OcpiModel]",
        create_model(
            f"{model.__name__}Patch",
            __base__=_base_of(model),
            __module__=model.__module__,
            **fields,
        ),
    )
    _PATCH_MODELS[model] = made
    return made


def _base_of(model: type[OcpiModel]) -> type[OcpiModel]:
    # Keep the version's rule for undocumented fields, nothing else of the whole class.
    if model.ocpi_open:
        return cast("type[OcpiModel]", type("OpenPatch", (OcpiModel,), {"ocpi_open": True}))
    return OcpiModel
