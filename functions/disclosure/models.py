import datetime as dt
from typing import Annotated

from pydantic import AnyUrl, Field

from tenancy.spec import TextDocument


class SecurityTxt(TextDocument):
    """RFC 9116 security.txt: where to report a vulnerability, and how."""

    contact: Annotated[list[str], Field(alias="Contact", min_length=1)]
    expires: Annotated[dt.datetime, Field(alias="Expires")]
    policy: Annotated[AnyUrl, Field(alias="Policy")]
    preferred_languages: Annotated[str, Field(alias="Preferred-Languages")]
