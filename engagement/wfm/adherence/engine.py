"""Adherence, pure: an agent's scheduled activities against their presence, as in/out segments and figures.

No database, no clock: the callers (``live.py``, ``services.py``) read the rows and pass ``now``.

- **What presence means** (``activity_of``): available, busy and after-contact work are *work*
  (contacts); away with the reason break, lunch, training, meeting or coaching is that activity;
  away for any other reason is *away* (matches nothing scheduled); offline, or no presence known, is *off*.
- **Segments** (``segments``): the window cut at every change of either side; each piece says what
  was scheduled (an activity kind, or *off* outside every shift), what the agent did, and whether
  they were in adherence. Time with nothing scheduled is *not measured*: it is neither in nor out.
- **Adherence** = seconds in the scheduled activity ÷ seconds scheduled (every activity of a shift,
  breaks included). **Conformance** = seconds worked ÷ seconds scheduled to work, where *scheduled
  to work* is the shift without its breaks and lunch, and *worked* is time on contacts whenever it
  falls (before or after the shift too, so conformance can pass 100 %) plus time in a training,
  meeting or coaching while that is what is scheduled. An unscheduled absence (away on work time,
  lunch taken early) counts as neither.
- **Exceptions** (``out_runs``): stretches of scheduled time out of adherence, adjacent pieces
  joined (an agent offline through the end of a work block and their break is out once).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

OFF = "off"
WORK = "work"
AWAY = "away"
BREAKS = ("break", "lunch")
SCHEDULED_ABSENCES = ("training", "meeting", "coaching")
AWAY_ACTIVITIES = (*BREAKS, *SCHEDULED_ABSENCES)
WORKING_PRESENCES = ("available", "busy", "after_contact")

IN = "in"
OUT = "out"
NOT_SCHEDULED = "not_scheduled"


def activity_of(presence: str, reason: str = "") -> str:
    """The activity a presence (and away reason code) stands for: ``work``, a break/lunch/training/
    meeting/coaching, ``away`` (an away reason no schedule asks for) or ``off``."""
    if presence in WORKING_PRESENCES:
        return WORK
    if presence == "away":
        return reason if reason in AWAY_ACTIVITIES else AWAY
    return OFF


def share(part: float, whole: float) -> float | None:
    """``part`` ÷ ``whole``, or ``None`` when there is no whole (nothing scheduled: not measured)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Scheduled:
    """One scheduled activity: its kind (``work``, ``break`` …) and its time; ``shift_id`` of its shift."""

    kind: str
    start: datetime
    end: datetime
    shift_id: int | None = None


@dataclass(frozen=True)
class PresenceSpan:
    """One presence period as routing recorded it; ``end`` ``None``: it lasts still."""

    presence: str
    start: datetime
    end: datetime | None = None
    reason: str = ""

    @property
    def activity(self) -> str:
        return activity_of(self.presence, self.reason)

    @property
    def label(self) -> str:
        return f"{self.presence}:{self.reason}" if self.reason else self.presence


@dataclass(frozen=True)
class Segment:
    """A piece of time in which neither the schedule nor the presence changed."""

    start: datetime
    end: datetime
    scheduled: str
    actual: str
    actual_label: str
    shift_id: int | None = None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def status(self) -> str:
        if self.scheduled == OFF:
            return NOT_SCHEDULED
        return IN if self.actual == self.scheduled else OUT

    @property
    def worked(self) -> bool:
        return self.actual == WORK or (self.actual in SCHEDULED_ABSENCES and self.actual == self.scheduled)


@dataclass(frozen=True)
class Figures:
    """A window's seconds: scheduled, in adherence, scheduled to work, worked (``None`` percentages: not measured)."""

    scheduled_seconds: float = 0.0
    in_adherence_seconds: float = 0.0
    scheduled_work_seconds: float = 0.0
    worked_seconds: float = 0.0

    @property
    def adherence(self) -> float | None:
        return share(self.in_adherence_seconds, self.scheduled_seconds)

    @property
    def conformance(self) -> float | None:
        return share(self.worked_seconds, self.scheduled_work_seconds)


@dataclass(frozen=True)
class OutRun:
    """A stretch of scheduled time out of adherence: what was scheduled and done when it began."""

    start: datetime
    end: datetime
    scheduled: str
    actual: str
    shift_id: int | None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def _clip(start: datetime, end: datetime, window: tuple[datetime, datetime]) -> tuple[datetime, datetime] | None:
    lower, upper = max(start.astimezone(UTC), window[0]), min(end.astimezone(UTC), window[1])
    return (lower, upper) if lower < upper else None


def _at(items: Sequence[tuple[datetime, datetime, object]], moment: datetime) -> object | None:
    """The item whose [start, end) holds ``moment`` (the last one if they overlap)."""
    found = None
    for start, end, item in items:
        if start <= moment < end:
            found = item
    return found


def segments(
    scheduled: Iterable[Scheduled], presence: Iterable[PresenceSpan], *, start: datetime, end: datetime
) -> list[Segment]:
    """The window [``start``, ``end``) cut where the schedule or the presence changes.

    Scheduled activities and presence spans are clipped to the window; an open presence span lasts
    to ``end`` (the caller passes ``now`` or earlier as ``end``: the future is not measured). Where no
    presence is known the agent is ``off``; outside every activity nothing is scheduled (``off``).
    Overlapping activities (an edit in progress) resolve to the later-starting one. The segments'
    times are in UTC.
    """
    # In UTC: Python subtracts two times of one zone by their wall clocks (wrong across a clock change).
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    window = (start, end)
    plan = []
    for item in sorted(scheduled, key=lambda activity: activity.start):
        clipped = _clip(item.start, item.end, window)
        if clipped:
            plan.append((*clipped, item))
    spans = []
    for span in sorted(presence, key=lambda period: period.start):
        clipped = _clip(span.start, span.end or end, window)
        if clipped:
            spans.append((*clipped, span))
    cuts = sorted({start, end, *(t for s, e, _ in plan for t in (s, e)), *(t for s, e, _ in spans for t in (s, e))})
    pieces: list[Segment] = []
    for lower, upper in pairwise(cuts):
        activity = _at(plan, lower)
        doing = _at(spans, lower)
        piece = Segment(
            start=lower,
            end=upper,
            scheduled=activity.kind if isinstance(activity, Scheduled) else OFF,
            actual=doing.activity if isinstance(doing, PresenceSpan) else OFF,
            actual_label=doing.label if isinstance(doing, PresenceSpan) else OFF,
            shift_id=activity.shift_id if isinstance(activity, Scheduled) else None,
        )
        if pieces and _same(pieces[-1], piece):
            pieces[-1] = Segment(
                pieces[-1].start, upper, piece.scheduled, piece.actual, piece.actual_label, piece.shift_id
            )
        else:
            pieces.append(piece)
    return pieces


def _same(left: Segment, right: Segment) -> bool:
    return (left.scheduled, left.actual_label, left.shift_id) == (right.scheduled, right.actual_label, right.shift_id)


def figures(pieces: Iterable[Segment]) -> Figures:
    """Adherence and conformance seconds of the segments (see the module's docstring)."""
    scheduled = in_adherence = scheduled_work = worked = 0.0
    for piece in pieces:
        if piece.scheduled != OFF:
            scheduled += piece.seconds
            in_adherence += piece.seconds if piece.status == IN else 0.0
            scheduled_work += piece.seconds if piece.scheduled not in BREAKS else 0.0
        worked += piece.seconds if piece.worked else 0.0
    return Figures(scheduled, in_adherence, scheduled_work, worked)


def out_runs(pieces: Sequence[Segment], *, minimum: timedelta = timedelta(0)) -> list[OutRun]:
    """The stretches of scheduled time out of adherence lasting at least ``minimum``: adjacent out
    segments joined, each named by what was scheduled and done as it began."""
    runs: list[OutRun] = []
    current: OutRun | None = None
    for piece in pieces:
        if piece.status != OUT:
            current = None
            continue
        if current is not None and current.end == piece.start:
            current = OutRun(current.start, piece.end, current.scheduled, current.actual, current.shift_id)
            runs[-1] = current
        else:
            current = OutRun(piece.start, piece.end, piece.scheduled, piece.actual_label, piece.shift_id)
            runs.append(current)
    return [run for run in runs if run.end - run.start >= minimum]


@dataclass(frozen=True)
class LiveState:
    """Where an agent stands at ``now``: scheduled activity, actual presence, in/out/not scheduled, since when."""

    scheduled: str
    actual: str
    actual_label: str
    status: str
    since: datetime | None
    shift_id: int | None
    today: Figures


def live_state(pieces: Sequence[Segment], *, now: datetime, day_start: datetime) -> LiveState:
    """The state at the end of ``pieces`` (which end at ``now``): the last segment's, and ``since``, when
    that status began (an out status: when the current out run began, through changes of activity).
    ``today``: the figures of the segments from ``day_start`` on."""
    today = figures(_from(pieces, day_start))
    if not pieces:
        return LiveState(OFF, OFF, OFF, NOT_SCHEDULED, None, None, today)
    last = pieces[-1]
    since = last.start
    for piece in reversed(pieces[:-1]):
        if piece.end != since or piece.status != last.status:
            break
        if last.status != OUT and (piece.scheduled, piece.actual) != (last.scheduled, last.actual):
            break
        since = piece.start
    return LiveState(last.scheduled, last.actual, last.actual_label, last.status, since, last.shift_id, today)


def _from(pieces: Iterable[Segment], moment: datetime) -> list[Segment]:
    return [
        Segment(max(piece.start, moment), piece.end, piece.scheduled, piece.actual, piece.actual_label, piece.shift_id)
        for piece in pieces
        if piece.end > moment
    ]
