"""Editing the member register: the community's desk keeps each entry, members their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import audit
from ..access import Actor, require_admin
from ..db import insert_once
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..i18n import _
from ..models import Member, Role, utcnow
from ..validation import clean_text, coded_names
from . import repository as repo
from .models import AVAILABILITY, MAX_SKILL, MAX_SKILLS, MemberClass, MemberProfile

FIELDS = ("class_code", "post", "skills", "availability")
# What a member may change of their own entry; their class is the party organisation's to record.
OWN_FIELDS = ("post", "skills", "availability")


def create_class(session: Session, actor: Actor, code: object, name_zh: object, name_en: object, *,
                 now: datetime | None = None) -> MemberClass:
    """An admin adds a class of member (e.g. ``student``, 学生党员) beside the built-in four."""
    now = now or utcnow()
    require_admin(actor)
    code, name_zh, name_en = coded_names(code, name_zh, name_en, what=_("class"), limit=30)
    if code in repo.known_classes(session):
        raise Conflict(_("The class {code} exists already.", code=code), code="member_class_exists",
                       details={"field": "code"})
    row = MemberClass(code=code, name_zh=name_zh, name_en=name_en, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor, "member_class.create", f"member_class:{code}", now,
                 {"after": {"code": code, "name_zh": name_zh, "name_en": name_en}})
    return row


def update_profile(session: Session, actor: Actor, member_id: int, changes: dict[str, Any], *,
                   now: datetime | None = None) -> MemberProfile:
    """Change a member's entry: the member their own post, skills and availability; the staff and
    secretary of a community the member is registered with (and admins) every field."""
    now = now or utcnow()
    allowed = _may_edit(session, actor, member_id)
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise InvalidInput(_("Unknown field {field}.", field=unknown[0]), code="unknown_field",
                           details={"field": unknown[0]})
    barred = sorted(set(changes) - set(allowed))
    if barred:
        raise Forbidden(_("Your class is recorded by your community's party organisation."),
                        code="field_not_yours", details={"field": barred[0]})
    row = repo.profile(session, member_id, lock=True)
    if row is None:
        # The first edit of an entry: the member and the desk may both make it at once. One blank
        # row goes in, the other waits for it, and each then changes it under the row lock.
        insert_once(session, MemberProfile.__table__, "member_id", {
            "member_id": member_id, "class_code": None, "post": "", "skills": [], "availability": [],
            "updated_at": now, "updated_by": actor.account_id})
        row = repo.profile(session, member_id, lock=True)
    before = audit.snapshot(row, FIELDS)
    if "class_code" in changes:
        row.class_code = _class(session, changes["class_code"])
    if "post" in changes:
        row.post = clean_text(changes["post"], "post", limit=50, required=False)
    if "skills" in changes:
        row.skills = clean_skills(changes["skills"])
    if "availability" in changes:
        row.availability = _availability(changes["availability"])
    row.updated_at = now
    row.updated_by = actor.account_id
    session.flush()
    audit.record(session, actor, "member.profile", f"member:{member_id}", now,
                 {"before": before, "after": audit.snapshot(row, FIELDS)})
    return row


def _may_edit(session: Session, actor: Actor, member_id: int) -> tuple[str, ...]:
    """The fields ``actor`` may change of the member's entry; refuses the others."""
    if session.get(Member, member_id) is None:
        raise NotFound(_("Member {id} does not exist.", id=member_id), code="member_not_found")
    if actor.role == Role.admin:
        return FIELDS
    if actor.role == Role.member:
        if actor.member_id != member_id:
            raise Forbidden(_("Members change only their own entry."), code="not_your_entry")
        return OWN_FIELDS
    if actor.role in (Role.staff, Role.secretary) and actor.community_id is not None:
        if actor.community_id not in repo.registered_communities(session, member_id):
            raise Forbidden(_("This member is not registered with your community."), code="out_of_scope")
        return FIELDS
    raise Forbidden(_("The member register is kept by the community's staff and secretary."),
                    code="role_not_allowed")


def _class(session: Session, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in repo.known_classes(session):
        raise InvalidInput(_("Unknown member class {code}.", code=str(value)[:32]), code="unknown_member_class",
                           details={"field": "class_code"})
    return value


def clean_skills(value: object) -> list[str]:
    """Skill tags as the register keeps them: at most MAX_SKILLS, each at most MAX_SKILL long, trimmed,
    each once."""
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise InvalidInput(_("skills must be a list of short texts."), code="invalid_type", details={"field": "skills"})
    skills = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(skills) > MAX_SKILLS:
        raise InvalidInput(_("At most {n} skills.", n=MAX_SKILLS), code="too_many_skills", details={"field": "skills"})
    long = [s for s in skills if len(s) > MAX_SKILL]
    if long:
        raise InvalidInput(_("A skill is at most {n} characters.", n=MAX_SKILL), code="too_long",
                           details={"field": "skills"})
    return skills


def _availability(value: object) -> list[str]:
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise InvalidInput(_("availability must be a list."), code="invalid_type", details={"field": "availability"})
    unknown = sorted(set(value) - set(AVAILABILITY))
    if unknown:
        raise InvalidInput(_("Unknown availability {value}; choose from {choices}.", value=unknown[0][:32],
                             choices=", ".join(AVAILABILITY)), code="invalid_choice",
                           details={"field": "availability"})
    return [a for a in AVAILABILITY if a in value]
