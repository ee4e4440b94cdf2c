import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Shift(BaseModel):
    id: uuid.UUID
    status: Literal["open", "closed"]
    opened_at: dt.datetime
    opened_by: uuid.UUID
    closed_at: dt.datetime | None
    closed_by: uuid.UUID | None
    reopened_at: dt.datetime | None
    reopened_by: uuid.UUID | None
    reopen_count: int


class ShiftList(BaseModel):
    shifts: list[Shift]


class ShiftListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(default=30, ge=1, le=200)
