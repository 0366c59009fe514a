"""Photo upload and download."""

from __future__ import annotations

from fastapi import APIRouter, Depends, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel

from workflow.commands import photos
from workflow.errors import NotFound
from workflow.i18n import _

from .. import schemas as s
from ..context import Ctx, get_auth_ctx

router = APIRouter(tags=["photos"], responses={401: {"model": s.ErrorOut}})


class PhotoOut(BaseModel):
    id: int
    content_type: str
    size: int


@router.post("/photos", response_model=PhotoOut, status_code=201, responses={422: {"model": s.ErrorOut}})
def upload(file: UploadFile, ctx: Ctx = Depends(get_auth_ctx)):
    """Upload one JPEG, PNG or WebP photo (multipart field `file`); attach it by id when submitting a
    request or reporting a result."""
    data = file.file.read(ctx.settings.max_photo_bytes + 1)
    with ctx.transaction() as tx:
        photo = photos.store(tx.session, tx.actor, data, ctx.settings.media_dir, ctx.settings.max_photo_bytes)
        return PhotoOut(id=photo.id, content_type=photo.content_type, size=photo.size)


@router.get("/photos/{photo_id}", response_class=FileResponse, responses={404: {"model": s.ErrorOut}})
def download(photo_id: s.PhotoId, ctx: Ctx = Depends(get_auth_ctx)):
    """A photo, to its uploader or to anyone who may see the request it belongs to."""
    with ctx.transaction() as tx:
        photo = photos.visible_photo(tx.session, tx.actor, photo_id)
        path = photos.photo_path(ctx.settings.media_dir, photo.sha256)
        if not path.exists():
            raise NotFound(_("The photo file is missing on the server."), code="photo_missing")
        return FileResponse(path, media_type=photo.content_type)
