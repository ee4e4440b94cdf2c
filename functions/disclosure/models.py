import datetime as dt
from typing import Annotated

from pydantic import Field

from tenancy.spec import TextDocument

# Plain patterns rather than pydantic's URL types: this module is imported at cold start.
URI = r"^(mailto:|https://)\S+$"


class SecurityTxt(TextDocument):
    """RFC 9116 security.txt: where to report a vulnerability, and how."""

    contact: Annotated[
        list[Annotated[str, Field(pattern=URI)]], Field(alias="Contact", min_length=1)
    ]
    expires: Annotated[dt.datetime, Field(alias="Expires")]
    policy: Annotated[str, Field(alias="Policy", pattern=r"^https://\S+$")]
    preferred_languages: Annotated[str, Field(alias="Preferred-Languages")]
