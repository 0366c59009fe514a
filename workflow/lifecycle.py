"""The request lifecycle (DESIGN.md §3): every state, every trigger, and who may fire it.

One module-level ``transitions`` Machine holds the graph. It never owns a model: a request row is
passed to ``MACHINE.events[trigger].trigger(row)``, which moves ``row.status``. Who may fire a
trigger is data in :data:`TRANSITIONS`; the rules that depend on the request (is this the
reporter? is this member registered here?) live in :mod:`workflow.commands.handling`.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine

from .i18n import Text, _
from .models import Status

S = Status

# Who may fire a trigger. Kinds are relative to the request:
#   router / sweeper   the system (routing actor, deadline sweeper)
#   staff              staff of the request's community
#   street_officer     an officer of the request's street office
#   member             a member registered with the request's community
#   claimer            the member holding the request's live claim
#   evaluator          the reporting resident; the secretary when no resident reported it
KINDS = ("router", "sweeper", "staff", "street_officer", "member", "claimer", "evaluator")


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[Status, ...]
    dest: Status
    who: frozenset[str]


def _t(trigger: str, sources: str, dest: Status, who: str) -> Transition:
    return Transition(
        trigger, tuple(Status(s) for s in sources.split()), dest, frozenset(who.split())
    )


TRANSITIONS: tuple[Transition, ...] = (
    _t("route_to_community", "submitted", S.community, "router staff"),
    _t("publish_task", "submitted community", S.open_task, "router staff"),
    _t("escalate", "submitted community open_task", S.street, "router staff sweeper"),
    _t("return_to_community", "street", S.community, "street_officer"),
    _t("claim", "open_task", S.claimed, "member"),
    _t("release", "claimed", S.open_task, "claimer"),
    _t("withdraw", "open_task", S.community, "staff sweeper"),
    _t("report_result", "claimed", S.verifying, "claimer"),
    _t("send_back", "verifying", S.claimed, "staff"),
    _t("verify", "verifying", S.resolved, "staff"),
    _t("resolve", "community", S.resolved, "staff"),
    _t("resolve", "street", S.resolved, "street_officer"),
    _t("evaluate", "resolved", S.closed, "evaluator"),
    _t("reopen", "resolved", S.submitted, "evaluator"),
    _t("expire", "resolved", S.closed, "sweeper"),
    _t("reject", "submitted community", S.rejected, "staff"),
    _t("merge", "submitted community", S.merged, "staff"),
)

TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t.trigger for t in TRANSITIONS))
TERMINAL: frozenset[Status] = frozenset({S.closed, S.rejected, S.merged})

MACHINE = Machine(
    model=None,
    states=Status,
    transitions=[{"trigger": t.trigger, "source": list(t.sources), "dest": t.dest} for t in TRANSITIONS],
    initial=S.submitted,
    auto_transitions=False,
    model_attribute="status",
    ignore_invalid_triggers=False,
)


def transition_for(trigger: str, status: Status) -> Transition | None:
    """The row of the table that ``trigger`` takes from ``status``, if any."""
    for t in TRANSITIONS:
        if t.trigger == trigger and status in t.sources:
            return t
    return None


_WHO_MAY: dict[str, frozenset[str]] = {
    trigger: frozenset().union(*(t.who for t in TRANSITIONS if t.trigger == trigger)) for trigger in TRIGGERS
}


def who_may(trigger: str) -> frozenset[str]:
    """Every kind of actor that may fire ``trigger`` from some state."""
    return _WHO_MAY.get(trigger, frozenset())


def available_triggers(status: Status) -> list[str]:
    return [t.trigger for t in TRANSITIONS if status in t.sources]


def move(row, trigger: str) -> None:
    """Move ``row.status`` through the machine. Callers have checked the table already; a
    refusal here means the table and the machine disagree, which is a bug, not a user error."""
    if not MACHINE.events[trigger].trigger(row):  # pragma: no cover - guarded by transition_for
        raise RuntimeError(f"machine refused {trigger} from {row.status}")


STATUS_LABELS: dict[Status, Text] = {
    S.submitted: _("Received"),
    S.community: _("Community handling"),
    S.street: _("Street office handling"),
    S.open_task: _("Open task"),
    S.claimed: _("Claimed"),
    S.verifying: _("Awaiting verification"),
    S.resolved: _("Resolved"),
    S.closed: _("Closed"),
    S.rejected: _("Not accepted"),
    S.merged: _("Merged"),
}

TRIGGER_LABELS: dict[str, Text] = {
    "route_to_community": _("Route to community"),
    "publish_task": _("Publish as task"),
    "escalate": _("Escalate to street office"),
    "return_to_community": _("Return to community"),
    "claim": _("Claim"),
    "release": _("Release"),
    "withdraw": _("Withdraw task"),
    "report_result": _("Report result"),
    "send_back": _("Send back"),
    "verify": _("Verify"),
    "resolve": _("Resolve"),
    "evaluate": _("Evaluate"),
    "reopen": _("Reopen"),
    "expire": _("Close without evaluation"),
    "reject": _("Reject"),
    "merge": _("Merge as duplicate"),
}

# Labels for event rows: every trigger, plus the submission that opens the history.
EVENT_LABELS: dict[str, Text] = {
    "submit": _("Submitted"),
    "co_evaluate": _("Evaluation by a linked resident"),
    **TRIGGER_LABELS,
    # The street office's acts that leave the status as it is (workflow.commands.street).
    "whistle": _("Whistle departments"),
    "department_response": _("Department reported in"),
    "supervise": _("Supervision mark"),
}


# --- the later lifecycles ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One row of a smaller lifecycle's table (suggestions, meetings, and those to come): the same
    kind of row as :class:`Transition`, over that lifecycle's own states."""

    trigger: str
    sources: tuple
    dest: object
    who: frozenset[str]


class Table:
    """A lifecycle as a table of steps, with its own ``transitions`` machine that owns no model, as
    the request's above: ``move`` sets ``row.status`` through it. Who may fire a step is data in the
    table; the rules that depend on the row (is this the author? the community's desk?) live in
    the domain's commands."""

    def __init__(self, states: type, rows: tuple[tuple[str, str, object, str], ...], initial) -> None:
        self.states = states
        self.steps = tuple(Step(trigger, tuple(states(s) for s in sources.split()), dest, frozenset(who.split()))
                           for trigger, sources, dest, who in rows)
        self.triggers = tuple(dict.fromkeys(s.trigger for s in self.steps))
        self.machine = Machine(model=None, states=states, initial=initial, auto_transitions=False,
                               model_attribute="status", ignore_invalid_triggers=False,
                               transitions=[{"trigger": s.trigger, "source": list(s.sources), "dest": s.dest}
                                            for s in self.steps])

    def step_for(self, trigger: str, status) -> Step | None:
        for step in self.steps:
            if step.trigger == trigger and status in step.sources:
                return step
        return None

    def available(self, status) -> list[str]:
        return [s.trigger for s in self.steps if status in s.sources]

    def move(self, row, trigger: str) -> None:
        if not self.machine.events[trigger].trigger(row):  # pragma: no cover - guarded by step_for
            raise RuntimeError(f"machine refused {trigger} from {row.status}")
