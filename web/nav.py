"""Navigation by role: which pages each kind of user sees in the menu, and where they land."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.i18n import Text, _


@dataclass(frozen=True)
class Link:
    href: str
    label: Text


NAV: dict[str, list[Link]] = {
    "resident": [Link("/report", _("Report a problem")), Link("/my/requests", _("My requests")),
                 Link("/my/suggestions", _("Suggestions")), Link("/volunteer/join", _("Volunteer"))],
    # A volunteer is a resident who also takes tasks.
    "volunteer": [Link("/member/tasks", _("Task board")), Link("/member/claims", _("My tasks")),
                  Link("/volunteer/time-bank", _("Time bank")), Link("/member/record", _("My record")),
                  Link("/report", _("Report a problem")), Link("/my/requests", _("My requests")),
                  Link("/my/suggestions", _("Suggestions")), Link("/member/check-in", _("Check in")),
                  Link("/member/registrations", _("Registration"))],
    "member": [Link("/member/tasks", _("Task board")), Link("/member/claims", _("My tasks")),
               Link("/member/households", _("My households")), Link("/member/visit", _("Log a visit")),
               Link("/member/record", _("My record")), Link("/member/profile", _("My skills")),
               Link("/member/showing", _("What residents see")), Link("/my/suggestions", _("Suggestions")),
               Link("/member/check-in", _("Check in")), Link("/member/registrations", _("Registration"))],
    "staff": [Link("/desk", _("Queue")), Link("/desk/inspection", _("Log an inspection")),
              Link("/desk/rounds", _("Rounds")), Link("/desk/households", _("Households")),
              Link("/desk/members", _("Members")), Link("/desk/volunteers", _("Volunteers")),
              Link("/desk/suggestions", _("Suggestions and meetings")), Link("/desk/activities", _("Party life")),
              Link("/coverage", _("Visit coverage"))],
    "street_officer": [Link("/street", _("Escalated queue")), Link("/street/supervision", _("Supervision marks")),
                       Link("/coverage", _("Visit coverage")), Link("/desk/members", _("Members"))],
    "secretary": [Link("/dashboard", _("Dashboard")), Link("/coverage", _("Visit coverage")),
                  Link("/rankings", _("Rankings")),
                  Link("/assessment", _("Member assessment")), Link("/desk/members", _("Members")),
                  Link("/desk/volunteers", _("Volunteers")), Link("/desk/suggestions", _("Suggestions and meetings")),
                  Link("/desk/activities", _("Party life")), Link("/desk/targets", _("Annual targets")),
                  Link("/desk", _("Queue")),
                  Link("/street/supervision", _("Supervision marks"))],
    "admin": [Link("/dashboard", _("Dashboard")), Link("/desk", _("Queue")), Link("/street", _("Escalated queue")),
              Link("/coverage", _("Visit coverage")), Link("/desk/households", _("Households")),
              Link("/desk/members", _("Members"))],
}
HOME = {"resident": "/my/requests", "member": "/member/tasks", "volunteer": "/member/tasks", "staff": "/desk",
        "street_officer": "/street",
        "secretary": "/dashboard", "admin": "/dashboard"}


def navigation(user) -> list[Link]:
    return NAV.get(user.role, []) if user is not None else []


def home_of(role: str) -> str:
    return HOME.get(role, "/")
