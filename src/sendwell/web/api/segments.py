"""/api/v1/segments: create, import, add/remove members, show, export, delete, create from a campaign's status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import StreamingResponse

from sendwell import campaigns, exports, segments
from sendwell.model import Segment, SegmentShown
from sendwell.web.api.common import Limit, Offset, upload_name
from sendwell.web.api.schemas import (
    Addresses,
    Deleted,
    ReportOut,
    SegmentCreated,
    SegmentFromCampaign,
    SegmentIn,
    SegmentPublic,
)
from sendwell.web.csvout import csv_response
from sendwell.web.errors import blame
from sendwell.web.state import EngineDep

router = APIRouter(prefix="/segments", tags=["segments"])
SegmentRef = str  # a segment's id or its name (an id wins)


@router.get("", response_model=list[Segment])
def list_segments(engine: EngineDep) -> list[Segment]:
    return segments.list_segments(engine)


@router.post("", response_model=SegmentCreated, status_code=201)
def create(body: SegmentIn, engine: EngineDep) -> dict[str, Any]:
    sid = segments.create(engine, body.name, body.description, public=body.public)
    return {"id": sid, "name": body.name.strip(), "members": 0}


@router.post("/from-campaign", response_model=SegmentCreated, status_code=201)
def create_from_campaign(body: SegmentFromCampaign, engine: EngineDep) -> dict[str, Any]:
    """A new segment of the recipients of a campaign in the given statuses (e.g. every `error`)."""
    camp = campaigns.get_campaign(engine, body.campaign)
    n = segments.create_from_campaign(engine, body.name, camp.id, body.statuses, body.description)
    name = body.name.strip()
    return {"id": segments.show(engine, name, limit=1).id, "name": name, "members": n}


@router.get("/{segment}", response_model=SegmentShown)
def show(segment: SegmentRef, limit: Limit = 100, offset: Offset = 0, *, engine: EngineDep) -> SegmentShown:
    """The segment, its member count, one page of members and the campaigns using it."""
    return segments.show(engine, segments.name_of(engine, segment), limit=limit, offset=offset)


@router.put("/{segment}/public", response_model=SegmentPublic)
def set_public(segment: SegmentRef, body: SegmentPublic, engine: EngineDep) -> dict[str, bool]:
    """List the segment on the preference page behind the unsubscribe link (members may leave it), or not."""
    from sendwell.forms import preferences

    preferences.set_public(engine, segments.name_of(engine, segment), body.public)
    return {"public": body.public}


@router.post("/{segment}/import", response_model=ReportOut)
def import_members(segment: SegmentRef, file: UploadFile = File(...), *, engine: EngineDep) -> dict[str, Any]:
    """Add every address of an uploaded CSV or list; bad lines are reported."""
    name = segments.name_of(engine, segment)
    with blame("file"):
        return segments.import_members(engine, name, file.file, source_name=upload_name(file)).as_dict()


@router.post("/{segment}/members", response_model=ReportOut)
def add_members(segment: SegmentRef, body: Addresses, engine: EngineDep) -> dict[str, Any]:
    return segments.add(engine, segments.name_of(engine, segment), body.addresses).as_dict()


@router.post("/{segment}/members/remove", response_model=ReportOut)
def remove_members(segment: SegmentRef, body: Addresses, engine: EngineDep) -> dict[str, Any]:
    """Remove members; `imported` counts the ones removed."""
    return segments.remove(engine, segments.name_of(engine, segment), body.addresses).as_dict()


@router.get("/{segment}/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export(segment: SegmentRef, engine: EngineDep) -> StreamingResponse:
    return csv_response(exports.segment(engine, segments.name_of(engine, segment)))


@router.delete("/{segment}", response_model=Deleted)
def delete(segment: SegmentRef, engine: EngineDep) -> dict[str, int]:
    segments.delete(engine, segments.name_of(engine, segment))
    return {"deleted": 1}
