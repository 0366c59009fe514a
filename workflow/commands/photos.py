"""Photos: stored on disk by content hash, attached to a request when it is submitted or handled, or
to a household visit."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import imagemeta
from ..access import Actor, can_view
from ..errors import InvalidInput, NotFound
from ..i18n import _
from ..models import Photo, PhotoStage, Request, Role
from ..visits.models import Visit

MAX_PHOTOS = 9
SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"RIFF": "image/webp",  # checked further below
}


def sniff(data: bytes) -> str | None:
    """The image type by its first bytes; what the client claims is not trusted."""
    for magic, kind in SIGNATURES.items():
        if data.startswith(magic):
            if kind == "image/webp" and data[8:12] != b"WEBP":
                return None
            return kind
    return None


def store(session: Session, actor: Actor, data: bytes, media_dir: str, max_bytes: int) -> Photo:
    if not data:
        raise InvalidInput(_("The photo is empty."), code="photo_empty")
    if len(data) > max_bytes:
        raise InvalidInput(
            _("The photo is larger than {limit} MB.", limit=max_bytes // (1024 * 1024) or 1),
            code="photo_too_large",
        )
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput(_("Only JPEG, PNG and WebP photos are accepted."), code="photo_type")
    try:
        # Where and with what it was taken stays on the phone (workflow.imagemeta).
        data = imagemeta.clean(data, content_type)
    except imagemeta.Unreadable:
        raise InvalidInput(_("The photo could not be read. Send it as the camera saved it (JPEG, PNG or WebP)."),
                           code="photo_unreadable") from None
    digest = hashlib.sha256(data).hexdigest()
    path = photo_path(media_dir, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary file of its own, then an atomic rename: two identical uploads at once both
        # end with the complete file.
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".upload-", delete=False) as tmp:
            tmp.write(data)
        os.replace(tmp.name, path)
    photo = Photo(uploader_id=actor.account_id, sha256=digest, content_type=content_type, size=len(data))
    session.add(photo)
    session.flush()
    return photo


def photo_path(media_dir: str, digest: str) -> Path:
    return Path(media_dir) / digest[:2] / digest


def _own_unattached(session: Session, actor: Actor, photo_ids: object) -> list[Photo]:
    """The actor's own uploads not yet attached anywhere, by id; any other id is refused."""
    if not isinstance(photo_ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in photo_ids):
        raise InvalidInput(_("photo_ids must be a list of photo ids."), code="invalid_type",
                           details={"field": "photo_ids"})
    ids = list(dict.fromkeys(photo_ids))
    if len(ids) > MAX_PHOTOS:
        raise InvalidInput(_("At most {n} photos.", n=MAX_PHOTOS), code="too_many_photos")
    if not ids:
        return []
    photos = session.scalars(select(Photo).where(Photo.id.in_(ids))).all()
    usable = {p.id: p for p in photos
              if p.uploader_id == actor.account_id and p.request_id is None and p.visit_id is None}
    missing = [i for i in ids if i not in usable]
    if missing:
        raise InvalidInput(
            _("Photos {ids} are not yours to attach, or are already attached.", ids=", ".join(map(str, missing))),
            code="invalid_photo", details={"photo_ids": missing},
        )
    return [usable[i] for i in ids]


def attach(session: Session, actor: Actor, photo_ids: list, request_id: int, stage: str) -> list[int]:
    """Attach the actor's own unattached uploads to a request. Returns the ids attached."""
    photos = _own_unattached(session, actor, photo_ids)
    for photo in photos:
        photo.request_id = request_id
        photo.stage = PhotoStage(stage)
    return [p.id for p in photos]


def attach_to_visit(session: Session, actor: Actor, photo_ids: object, visit_id: int) -> list[int]:
    """Attach the visitor's own unattached uploads to their household visit."""
    photos = _own_unattached(session, actor, photo_ids)
    for photo in photos:
        photo.visit_id = visit_id
    return [p.id for p in photos]


def may_see_visit_photos(actor: Actor, visit: Visit) -> bool:
    """A visit's photos may show the inside of a home: its visitor, the community's own staff and
    secretary, and administrators see them; nobody else."""
    return (actor.account_id == visit.visitor_id or actor.role == Role.admin
            or (actor.role in (Role.staff, Role.secretary) and actor.community_id == visit.community_id))


def visible_photo(session: Session, actor: Actor, photo_id: int) -> Photo:
    """A photo, for its uploader, anyone who may see the request it belongs to, or those who see
    the visit's (``may_see_visit_photos``)."""
    photo = session.get(Photo, photo_id)
    if photo is not None and (
        photo.uploader_id == actor.account_id
        or (photo.request_id is not None and can_view(session, actor, session.get(Request, photo.request_id)))
        or (photo.visit_id is not None and may_see_visit_photos(actor, session.get(Visit, photo.visit_id)))
    ):
        return photo
    raise NotFound(_("Photo {id} does not exist.", id=photo_id), code="photo_not_found")
