"""What the issuer's OAuth models share (each family of models is a module of its own, so a
handler builds only the models it uses at import)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

#: No control characters: Postgres text cannot hold NUL, and no email, client id, URI or
#: state needs one. Refused as invalid input before anything reaches the database.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class OmitsAbsent(BaseModel):
    """A response whose absent members are left out rather than sent as null (OAuth and
    OpenID Connect clients read a null as a value)."""

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}
