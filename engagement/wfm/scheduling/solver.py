"""The weekly schedule solver: which agents work which shift on which day, and on which planning queue,
so that the agents on contacts cover each interval's requirement (OR-Tools CP-SAT).

Pure: plain dataclasses in, plain dataclasses out; no database. ``engagement.wfm.scheduling.services``
reads the rows and writes the answer. The model (docs/wfm.md, "Scheduling"):

- Time is a grid of 15-minute slots over the week (UTC-aligned; a 30-minute interval is two slots
  needing the same agents).
- Per agent and local day, a boolean per *candidate* shift: a template at one of its allowed starts
  that fits the agent's contract window and weekdays and overlaps none of their approved time off.
  At most one a day. Breaks sit at the template's offsets (``after_minutes``); afterwards each
  break is moved within its ``spread_minutes`` to where it costs the least cover.
- Hard: at most ``max_days`` days and ``max_minutes`` a week, ``min_rest_hours`` between shifts on
  consecutive days, time off. Soft: the contract's minimum hours (a shortfall is penalised and
  noted), under-staffing (weighted ``UNDER_WEIGHT``) and over-staffing (``OVER_WEIGHT``).
- Agents with the same set of queues form a *profile*; per profile and slot an integer number of
  its working agents is put on each of its queues (all of them: an agent on contacts is on some
  queue). That is exact (agents of a profile are interchangeable within a slot) and keeps the model
  small; which agent takes which queue is decided afterwards, keeping each on one queue as long as
  the counts allow.
- Never infeasible: no shift at all satisfies every hard constraint; demand no candidate can cover
  is reported unmet (``coverable=False``). A greedy schedule is the hint, and the answer if CP-SAT
  finds nothing better within the time limit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from ortools.sat.python import cp_model

SLOT_MINUTES = 15
SLOT = dt.timedelta(minutes=SLOT_MINUTES)
SCALE = 10  # requirements in tenths of an agent
UNDER_WEIGHT = 10  # an agent short for a slot costs ten times an agent too many
OVER_WEIGHT = 1
SHORTFALL_WEIGHT = 200  # a slot below a contract's minimum hours, per slot (above under-staffing)
UNMET_EPSILON = 0.05
WHOLE_WEEK_CANDIDATES = 4000  # above this, the week is solved two days at a time
WINDOW_SECONDS = 8.0
ANSWER_SHARE = 0.08  # of the time limit, kept for making the answer after the search
WINDOWS = tuple(frozenset(pair) for pair in ((0, 1), (2, 3), (4, 5), (5, 6), (1, 2), (3, 4), (6, 0)))


@dataclass(frozen=True)
class Contract:
    """What an agent may be scheduled for (local times; ``weekdays`` 0 Monday … 6 Sunday, empty: any)."""

    min_minutes: int = 0
    max_minutes: int = 40 * 60
    max_days: int = 5
    weekdays: frozenset[int] = frozenset()
    earliest_start: dt.time = dt.time(7)
    latest_end: dt.time = dt.time(22)  # 00:00 means midnight at the end of the day
    min_rest_hours: int = 11


@dataclass(frozen=True)
class Agent:
    id: int
    contract: Contract
    queues: frozenset[int]  # planning queues the agent may work (team and skill)
    time_off: tuple[tuple[dt.datetime, dt.datetime], ...] = ()  # approved, aware
    name: str = ""


@dataclass(frozen=True)
class Break:
    kind: str  # "break" | "lunch"
    minutes: int
    after_minutes: int
    spread_minutes: int = 0


@dataclass(frozen=True)
class Template:
    id: int
    length_minutes: int
    earliest_start: dt.time
    latest_start: dt.time
    start_step_minutes: int = 30
    breaks: tuple[Break, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Queue:
    id: int
    interval_minutes: int
    required: dict[dt.datetime, float]  # interval start (aware) → agents to schedule on contacts
    name: str = ""


@dataclass(frozen=True)
class Problem:
    week_start: dt.date  # the Monday, local
    time_zone: str
    agents: tuple[Agent, ...]
    templates: tuple[Template, ...]
    queues: tuple[Queue, ...]
    time_limit_seconds: float = 60
    num_workers: int = 2
    random_seed: int = 0


@dataclass(frozen=True)
class Activity:
    kind: str  # "work" | "break" | "lunch"
    starts_at: dt.datetime
    ends_at: dt.datetime
    queue_id: int | None = None


@dataclass(frozen=True)
class PlannedShift:
    agent_id: int
    template_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    activities: tuple[Activity, ...]


@dataclass(frozen=True)
class Unmet:
    queue_id: int
    interval_start: dt.datetime
    agents: float  # required minus scheduled
    coverable: bool  # False: no candidate shift of any agent able to work the queue reaches it


@dataclass
class Solution:
    status: str  # optimal | feasible | greedy (CP-SAT found nothing better in time) | empty
    solve_seconds: float
    shifts: list[PlannedShift]
    coverage: dict[tuple[int, dt.datetime], tuple[float, float]]  # (queue, interval) → (required, scheduled)
    unmet: list[Unmet]
    notes: list[str] = field(default_factory=list)
    objective: float | None = None

    interval_minutes: dict[int, int] = field(default_factory=dict)  # queue → its interval's minutes

    @property
    def under_agent_minutes(self) -> float:
        """Agent-minutes of requirement not covered."""
        return sum(
            max(need - have, 0.0) * self.interval_minutes.get(key[0], SLOT_MINUTES)
            for key, (need, have) in self.coverage.items()
        )

    @property
    def over_agent_minutes(self) -> float:
        """Agent-minutes scheduled above the requirement."""
        return sum(
            max(have - need, 0.0) * self.interval_minutes.get(key[0], SLOT_MINUTES)
            for key, (need, have) in self.coverage.items()
        )

    @property
    def coverage_percent(self) -> float:
        """The share of required agent-minutes covered, 0–100 (100 with no requirement)."""
        required = sum(
            need * self.interval_minutes.get(key[0], SLOT_MINUTES) for key, (need, _) in self.coverage.items()
        )
        return 100.0 if not required else round(100.0 * (1 - self.under_agent_minutes / required), 2)


# --- The grid and the candidates -------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One possible shift of one agent: a template at a start, its slots and its break slots."""

    agent: int  # index in problem.agents
    day: int
    template: int  # index in problem.templates
    start: int  # first slot
    end: int  # slot after the last
    breaks: tuple[tuple[int, int, str], ...]  # (first slot, slot after, kind)

    @property
    def minutes(self) -> int:
        return (self.end - self.start) * SLOT_MINUTES

    def work_slots(self) -> list[int]:
        on_break = {slot for first, after, _ in self.breaks for slot in range(first, after)}
        return [slot for slot in range(self.start, self.end) if slot not in on_break]


class Grid:
    """The week's 15-minute slots from local midnight on Monday, in UTC."""

    def __init__(self, week_start: dt.date, time_zone: str) -> None:
        self.zone = ZoneInfo(time_zone)
        self.origin = dt.datetime.combine(week_start, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
        end = dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
        self.size = int((end - self.origin) / SLOT)
        self.week_start = week_start

    def slot(self, moment: dt.datetime) -> int:
        return int((moment.astimezone(dt.UTC) - self.origin) // SLOT)

    def moment(self, slot: int) -> dt.datetime:
        return self.origin + slot * SLOT

    def local(self, day: int, at: dt.time) -> dt.datetime:
        return dt.datetime.combine(self.week_start + dt.timedelta(days=day), at, tzinfo=self.zone).astimezone(dt.UTC)

    def day_end(self, day: int, latest_end: dt.time) -> dt.datetime:
        if latest_end == dt.time():
            return self.local(day + 1, dt.time())
        return self.local(day, latest_end)


def _starts(template: Template, contract: Contract, grid: Grid, day: int) -> list[dt.datetime]:
    first = max(grid.local(day, template.earliest_start), grid.local(day, contract.earliest_start))
    last = grid.local(day, template.latest_start)
    step = dt.timedelta(minutes=template.start_step_minutes)
    anchor = grid.local(day, template.earliest_start)
    moment = anchor + -((anchor - first) // step) * step if first > anchor else anchor
    starts = []
    while moment <= last:
        starts.append(moment)
        moment += step
    return starts


def _breaks(template: Template, start: int, end: int) -> tuple[tuple[int, int, str], ...]:
    placed = []
    for one in template.breaks:
        first = start + round(one.after_minutes / SLOT_MINUTES)
        after = first + max(1, round(one.minutes / SLOT_MINUTES))
        if start < first and after <= end:
            placed.append((first, after, one.kind))
    return tuple(placed)


def candidates_of(problem: Problem, grid: Grid, index: int) -> list[Candidate]:
    """Every shift agent ``index`` may work this week (contract window, weekdays, time off)."""
    agent = problem.agents[index]
    contract = agent.contract
    found = []
    for day in range(7):
        if contract.weekdays and day not in contract.weekdays:
            continue
        day_end = grid.day_end(day, contract.latest_end)
        for template_index, template in enumerate(problem.templates):
            if template.length_minutes > contract.max_minutes:
                continue
            length = dt.timedelta(minutes=template.length_minutes)
            for start in _starts(template, contract, grid, day):
                end = start + length
                if end > day_end or any(off_start < end and start < off_end for off_start, off_end in agent.time_off):
                    continue
                first, after = grid.slot(start), grid.slot(end)
                if after > grid.size or after <= first:
                    continue
                found.append(Candidate(index, day, template_index, first, after, _breaks(template, first, after)))
    return found


def requirement_matrix(problem: Problem, grid: Grid) -> np.ndarray:
    """Agents required per queue (row, in problem.queues order) and slot."""
    need = np.zeros((len(problem.queues), grid.size))
    for row, queue in enumerate(problem.queues):
        per = max(1, queue.interval_minutes // SLOT_MINUTES)
        for start, agents in queue.required.items():
            first = grid.slot(start)
            for slot in range(max(first, 0), min(first + per, grid.size)):
                need[row, slot] = agents
    return need


# --- Greedy: the hint, the fallback and the benchmark's floor ---------------------------------------


@dataclass
class Plan:
    """Chosen candidates and, per slot, each working agent's queue (row index)."""

    chosen: list[Candidate]
    queue_of: dict[tuple[int, int], int]  # (agent index, slot) → queue row


def _rest_ok(candidate: Candidate, taken: dict[int, Candidate], rest_slots: int) -> bool:
    before, after = taken.get(candidate.day - 1), taken.get(candidate.day + 1)
    if before is not None and candidate.start - before.end < rest_slots:
        return False
    return not (after is not None and after.start - candidate.end < rest_slots)


def greedy_plan(problem: Problem, grid: Grid, candidates: list[list[Candidate]], need: np.ndarray) -> Plan:
    """Agent by agent (those with fewest options first), the candidate covering most remaining
    requirement, until the contract's days or hours are used or nothing is gained (and the minimum
    hours are met); each slot on the queue with the most remaining requirement."""
    residual = need.copy()
    rows = {queue.id: row for row, queue in enumerate(problem.queues)}
    chosen: list[Candidate] = []
    queue_of: dict[tuple[int, int], int] = {}
    order = sorted(range(len(problem.agents)), key=lambda index: (len(candidates[index]), index))
    for index in order:
        agent, options = problem.agents[index], candidates[index]
        skills = [rows[queue] for queue in sorted(agent.queues) if queue in rows]
        if not skills or not options:
            continue
        masks = np.zeros((len(options), grid.size))
        for number, option in enumerate(options):
            masks[number, option.work_slots()] = 1.0
        taken: dict[int, Candidate] = {}
        minutes = 0
        rest = agent.contract.min_rest_hours * 60 // SLOT_MINUTES
        while len(taken) < agent.contract.max_days:
            gain = masks @ np.clip(residual[skills].max(axis=0), 0.0, 1.0)
            best, best_gain = None, 0.0 if minutes >= agent.contract.min_minutes else -1.0
            for number in np.argsort(-gain, kind="stable"):
                option = options[number]
                if option.day in taken or minutes + option.minutes > agent.contract.max_minutes:
                    continue
                if _rest_ok(option, taken, rest):
                    if gain[number] > best_gain:
                        best, best_gain = option, float(gain[number])
                    break
            if best is None:
                break
            taken[best.day] = best
            minutes += best.minutes
            chosen.append(best)
            for slot in best.work_slots():
                row = max(skills, key=lambda skill: residual[skill, slot])
                queue_of[(index, slot)] = row
                residual[row, slot] -= 1.0
    return Plan(chosen, queue_of)


# --- CP-SAT ------------------------------------------------------------------------------------------


class _Model:
    """The CP-SAT model of the week, or of some of its days (``days``) with every agent's shifts on the
    other days fixed (``fixed``): their hours and days count against the contract, and no candidate
    may break the rest after or before them. A window's objective is the week's restricted to its days,
    so improving a window improves the week."""

    def __init__(
        self,
        problem: Problem,
        grid: Grid,
        candidates: list[list[Candidate]],
        need: np.ndarray,
        *,
        days: frozenset[int] = frozenset(range(7)),
        fixed: dict[int, list[Candidate]] | None = None,
    ) -> None:
        self.problem, self.grid, self.need = problem, grid, need
        self.days, self.fixed = days, fixed or {}
        self.model = cp_model.CpModel()
        rows = {queue.id: row for row, queue in enumerate(problem.queues)}
        self.candidates: dict[int, list[Candidate]] = {}
        self.profile_of: dict[int, tuple[int, ...]] = {}
        for index, agent in enumerate(problem.agents):
            profile = tuple(sorted(rows[queue] for queue in agent.queues if queue in rows))
            options = [option for option in candidates[index] if option.day in days and self._rests(option)]
            if profile and options:
                self.profile_of[index], self.candidates[index] = profile, options
        self.profiles = sorted(set(self.profile_of.values()))
        self.slots = [
            slot
            for day in sorted(days)
            for slot in range(grid.slot(grid.local(day, dt.time())), grid.slot(grid.local(day + 1, dt.time())))
        ]
        self.x: dict[Candidate, cp_model.IntVar] = {}
        self.assign: dict[tuple[int, int, int], cp_model.IntVar] = {}  # (profile, queue row, slot)
        self.under: dict[tuple[int, int], cp_model.IntVar] = {}
        self.over: dict[tuple[int, int], cp_model.IntVar] = {}
        self.shortfall: dict[int, cp_model.IntVar] = {}
        self.works: dict[tuple[int, int], cp_model.IntVar] = {}  # (agent index, day)

    def _rests(self, option: Candidate) -> bool:
        fixed = {other.day: other for other in self.fixed.get(option.agent, ())}
        return _rest_ok(option, fixed, self.problem.agents[option.agent].contract.min_rest_hours * 4)

    def _fixed_slots(self, index: int) -> int:
        return sum(option.end - option.start for option in self.fixed.get(index, ()))

    def build(self) -> None:
        self._shifts()
        self._cover()

    def _shifts(self) -> None:
        model = self.model
        for index, options in self.candidates.items():
            contract = self.problem.agents[index].contract
            by_day: dict[int, list[Candidate]] = defaultdict(list)
            for option in options:
                self.x[option] = model.new_bool_var(f"x{index}_{option.day}_{option.template}_{option.start}")
                by_day[option.day].append(option)
            for day, day_options in by_day.items():
                works = model.new_bool_var(f"d{index}_{day}")
                self.works[(index, day)] = works
                model.add(sum(self.x[option] for option in day_options) == works)
            fixed_days = len(self.fixed.get(index, ()))
            model.add(sum(self.works[(index, day)] for day in by_day) <= contract.max_days - fixed_days)
            slots = self._fixed_slots(index) + sum(self.x[option] * (option.end - option.start) for option in options)
            model.add(slots * SLOT_MINUTES <= contract.max_minutes)
            if contract.min_minutes:
                short = model.new_int_var(0, contract.min_minutes // SLOT_MINUTES + 1, f"short{index}")
                model.add(short * SLOT_MINUTES >= contract.min_minutes - slots * SLOT_MINUTES)
                self.shortfall[index] = short
            rest = contract.min_rest_hours * 60 // SLOT_MINUTES
            for option in options:
                clash = [other for other in by_day.get(option.day + 1, ()) if other.start - option.end < rest]
                if clash:
                    model.add(self.x[option] + sum(self.x[other] for other in clash) <= 1)

    def _working(self) -> dict[tuple[tuple[int, ...], int], list]:
        """Per profile and slot, the candidates that would have an agent on contacts then."""
        working: dict[tuple[tuple[int, ...], int], list] = defaultdict(list)
        for option, chosen in self.x.items():
            profile = self.profile_of[option.agent]
            for slot in option.work_slots():
                working[(profile, slot)].append(chosen)
        return working

    def _cover(self) -> None:
        # Each slot's agents on contacts are summed from the candidates directly (no running count
        # from slot to slot): a neighbourhood that changes one shift then touches only its own slots.
        model, working = self.model, self._working()
        on_queue: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
        for number, profile in enumerate(self.profiles):
            size_of = sum(1 for index in self.profile_of if self.profile_of[index] == profile)
            for slot in self.slots:
                chosen = working.get((profile, slot))
                if not chosen:
                    continue
                if len(profile) == 1:
                    share = model.new_int_var(0, size_of, f"z{number}_{profile[0]}_{slot}")
                    model.add(share == sum(chosen))
                    self.assign[(number, profile[0], slot)] = share
                    on_queue[(profile[0], slot)].append(share)
                    continue
                shares = []
                for row in profile:
                    share = model.new_int_var(0, size_of, f"z{number}_{row}_{slot}")
                    self.assign[(number, row, slot)] = share
                    shares.append(share)
                    on_queue[(row, slot)].append(share)
                model.add(sum(shares) == sum(chosen))
        for row in range(len(self.problem.queues)):
            for slot in self.slots:
                required = round(float(self.need[row, slot]) * SCALE)
                if not required and not on_queue.get((row, slot)):
                    continue
                under = model.new_int_var(0, required, f"u{row}_{slot}")
                over = model.new_int_var(0, SCALE * len(self.problem.agents), f"o{row}_{slot}")
                model.add(SCALE * sum(on_queue.get((row, slot), [])) - required == over - under)
                self.under[(row, slot)], self.over[(row, slot)] = under, over
        model.minimize(
            UNDER_WEIGHT * sum(self.under.values())
            + OVER_WEIGHT * sum(self.over.values())
            + SHORTFALL_WEIGHT * SCALE * sum(self.shortfall.values())
        )

    def hint(self, plan: Plan) -> None:
        """The incumbent ``plan`` (restricted to the model's days) as a complete hint."""
        chosen = {option for option in plan.chosen if option in self.x}
        for option, var in self.x.items():
            self.model.add_hint(var, option in chosen)
        counts: dict[tuple[int, int, int], int] = defaultdict(int)
        number_of = {profile: number for number, profile in enumerate(self.profiles)}
        for (index, slot), row in plan.queue_of.items():
            if index in self.profile_of:
                counts[(number_of[self.profile_of[index]], row, slot)] += 1
        for key, var in self.assign.items():
            self.model.add_hint(var, counts.get(key, 0))
        on_day = {(option.agent, option.day) for option in chosen}
        for day_key, var in self.works.items():
            self.model.add_hint(var, day_key in on_day)
        staffed: dict[tuple[int, int], int] = defaultdict(int)
        for (_, row, slot), count in counts.items():
            staffed[(row, slot)] += count
        for cell, var in self.under.items():
            gap = SCALE * staffed.get(cell, 0) - round(float(self.need[cell]) * SCALE)
            self.model.add_hint(var, max(-gap, 0))
            self.model.add_hint(self.over[cell], max(gap, 0))
        slots: dict[int, int] = defaultdict(int)
        for option in chosen:
            slots[option.agent] += option.end - option.start
        for index, var in self.shortfall.items():
            minutes = (slots[index] + self._fixed_slots(index)) * SLOT_MINUTES
            missing = self.problem.agents[index].contract.min_minutes - minutes
            self.model.add_hint(var, max(0, -(-missing // SLOT_MINUTES)))

    def plan(self, solver: cp_model.CpSolver, incumbent: Plan | None = None) -> Plan:
        """The solved days' shifts and queues, with ``incumbent``'s on the other days."""
        chosen = [option for option, var in self.x.items() if solver.boolean_value(var)]
        counts = {key: solver.value(var) for key, var in self.assign.items()}
        queue_of = _assign_queues(chosen, self.profile_of, self.profiles, counts)
        if incumbent is not None:
            chosen += [option for option in incumbent.chosen if option.day not in self.days]
            free = set(self.slots)
            queue_of.update({key: row for key, row in incumbent.queue_of.items() if key[1] not in free})
        return Plan(chosen, queue_of)


def _assign_queues(
    chosen: list[Candidate],
    profile_of: dict[int, tuple[int, ...]],
    profiles: list[tuple[int, ...]],
    counts: dict[tuple[int, int, int], int],
) -> dict[tuple[int, int], int]:
    """Which working agent takes which queue in each slot, given how many of each profile each queue
    gets: an agent stays on their queue of the slot before while that queue has room."""
    working: dict[tuple[int, int], list[int]] = defaultdict(list)  # (profile number, slot) → agents
    number_of = {profile: number for number, profile in enumerate(profiles)}
    for option in chosen:
        for slot in option.work_slots():
            working[(number_of[profile_of[option.agent]], slot)].append(option.agent)
    queue_of: dict[tuple[int, int], int] = {}
    for (number, slot), agents in sorted(working.items(), key=lambda item: item[0][1]):
        room = {row: counts.get((number, row, slot), 0) for row in profiles[number]}
        waiting = []
        for agent in sorted(agents):
            previous = queue_of.get((agent, slot - 1))
            if previous is not None and room.get(previous, 0) > 0:
                queue_of[(agent, slot)] = previous
                room[previous] -= 1
            else:
                waiting.append(agent)
        for agent in waiting:
            row = max(room, key=lambda queue: (room[queue], -queue))
            queue_of[(agent, slot)] = row
            room[row] -= 1
    return queue_of


# --- Breaks, the answer and what it could not do -----------------------------------------------------


def _spread_slots(template: Template, option: Candidate, first: int) -> int:
    """The spread (in slots) of the template's break placed at slot ``first`` of ``option``."""
    offset = (first - option.start) * SLOT_MINUTES
    for one in template.breaks:
        if round(one.after_minutes / SLOT_MINUTES) * SLOT_MINUTES == offset:
            return one.spread_minutes // SLOT_MINUTES
    return 0


def _best_start(option: Candidate, first: int, length: int, spread: int, taken: set[int], spare_of) -> int:
    """The start within ``spread`` of ``first`` where the break costs least cover (ties: nearest)."""
    best, best_spare = first, None
    for shift in sorted(range(-spread, spread + 1), key=abs):
        start = first + shift
        slots = range(start, start + length)
        if start <= option.start or start + length >= option.end or taken.intersection(slots):
            continue
        spare = spare_of(slots)
        if best_spare is None or spare > best_spare + 1e-9:
            best, best_spare = start, spare
    return best


def _stagger_breaks(problem: Problem, plan: Plan, need: np.ndarray) -> list[Candidate]:
    """Move each break within its template's spread to where the agent's queue has the most cover to
    spare (ties: the template's offset); the slots it leaves are work on that queue."""
    staffed = np.zeros_like(need)
    for (_, slot), row in plan.queue_of.items():
        staffed[row, slot] += 1.0
    moved = []
    for option in plan.chosen:
        template = problem.templates[option.template]
        placed = list(option.breaks)
        for number, (first, after, kind) in enumerate(option.breaks):
            spread = _spread_slots(template, option, first)
            row = plan.queue_of.get((option.agent, first - 1), plan.queue_of.get((option.agent, after), -1))
            if not spread or row < 0:
                continue
            taken = {slot for index, (a, b, _) in enumerate(placed) if index != number for slot in range(a, b)}
            length = after - first
            best = _best_start(
                option,
                first,
                length,
                spread,
                taken,
                lambda slots, row=row: float(sum(staffed[row, s] - need[row, s] for s in slots)),
            )
            if best == first:
                continue
            for slot in range(first, after):
                staffed[row, slot] += 1.0
                plan.queue_of[(option.agent, slot)] = row
            for slot in range(best, best + length):
                left = plan.queue_of.pop((option.agent, slot), None)
                if left is not None:
                    staffed[left, slot] -= 1.0
            placed[number] = (best, best + length, kind)
        moved.append(
            Candidate(option.agent, option.day, option.template, option.start, option.end, tuple(sorted(placed)))
        )
    plan.chosen = moved
    return moved


def _activities(option: Candidate, plan: Plan, problem: Problem, grid: Grid) -> tuple[Activity, ...]:
    labels: list[tuple[str, int | None]] = []
    on_break = {slot: kind for first, after, kind in option.breaks for slot in range(first, after)}
    for slot in range(option.start, option.end):
        if slot in on_break:
            labels.append((on_break[slot], None))
        else:
            row = plan.queue_of.get((option.agent, slot))
            labels.append(("work", problem.queues[row].id if row is not None else None))
    activities, begin = [], 0
    for position in range(1, len(labels) + 1):
        if position == len(labels) or labels[position] != labels[begin]:
            kind, queue = labels[begin]
            activities.append(
                Activity(kind, grid.moment(option.start + begin), grid.moment(option.start + position), queue)
            )
            begin = position
    return tuple(activities)


def _coverage(
    problem: Problem, grid: Grid, plan: Plan, need: np.ndarray, coverable: np.ndarray
) -> tuple[dict[tuple[int, dt.datetime], tuple[float, float]], list[Unmet]]:
    staffed = np.zeros_like(need)
    for (_, slot), row in plan.queue_of.items():
        staffed[row, slot] += 1.0
    coverage, unmet = {}, []
    for row, queue in enumerate(problem.queues):
        per = max(1, queue.interval_minutes // SLOT_MINUTES)
        for first in range(0, grid.size, per):
            slots = range(first, min(first + per, grid.size))
            required = float(need[row, first])
            scheduled = round(float(np.mean(staffed[row, slots.start : slots.stop])), 4)
            if required or scheduled:
                coverage[(queue.id, grid.moment(first))] = (required, scheduled)
            if required - scheduled > UNMET_EPSILON:
                can = bool(coverable[row, slots.start : slots.stop].any())
                unmet.append(Unmet(queue.id, grid.moment(first), round(required - scheduled, 4), can))
    return coverage, unmet


def _coverable(problem: Problem, grid: Grid, candidates: list[list[Candidate]]) -> np.ndarray:
    rows = {queue.id: row for row, queue in enumerate(problem.queues)}
    reach = np.zeros((len(problem.queues), grid.size), dtype=bool)
    for index, agent in enumerate(problem.agents):
        skills = [rows[queue] for queue in agent.queues if queue in rows]
        for option in candidates[index]:
            for row in skills:
                reach[row, option.start : option.end] = True
    return reach


def _notes(problem: Problem, grid: Grid, plan: Plan, candidates: list[list[Candidate]], unmet: list[Unmet]) -> list:
    notes = []
    rows = {queue.id for queue in problem.queues}
    worked: dict[int, int] = defaultdict(int)
    for option in plan.chosen:
        worked[option.agent] += option.minutes
    for index, agent in enumerate(problem.agents):
        label = agent.name or f"agent {agent.id}"
        if not agent.queues & rows:
            notes.append(f"{label} may work none of the team's planning queues: not scheduled.")
        elif not candidates[index]:
            notes.append(f"{label}: no shift template fits their contract and time off this week.")
        if worked[index] < agent.contract.min_minutes:
            notes.append(
                f"{label} is scheduled {worked[index] / 60:g} h, below their contract's minimum of"
                f" {agent.contract.min_minutes / 60:g} h (time off, windows or templates leave no room)."
            )
    names = {queue.id: queue.name or f"queue {queue.id}" for queue in problem.queues}
    for queue_id in sorted({item.queue_id for item in unmet if not item.coverable}):
        hours = sum(
            item.agents * problem.queues[[queue.id for queue in problem.queues].index(queue_id)].interval_minutes
            for item in unmet
            if item.queue_id == queue_id and not item.coverable
        )
        notes.append(f"{names[queue_id]}: {hours / 60:.1f} agent-hours of demand no shift can cover.")
    return notes


def _answer(
    problem: Problem, grid: Grid, plan: Plan, candidates: list[list[Candidate]], need: np.ndarray
) -> tuple[list[PlannedShift], dict, list[Unmet], list[str]]:
    _stagger_breaks(problem, plan, need)
    shifts = [
        PlannedShift(
            problem.agents[option.agent].id,
            problem.templates[option.template].id,
            grid.moment(option.start),
            grid.moment(option.end),
            _activities(option, plan, problem, grid),
        )
        for option in sorted(plan.chosen, key=lambda item: (item.agent, item.start))
    ]
    coverage, unmet = _coverage(problem, grid, plan, need, _coverable(problem, grid, candidates))
    return shifts, coverage, unmet, _notes(problem, grid, plan, candidates, unmet)


def _cost(problem: Problem, coverage: dict, plan: Plan) -> float:
    """The objective of a finished schedule: under- and over-staffed agent-minutes, contract shortfall."""
    minutes = {queue.id: queue.interval_minutes for queue in problem.queues}
    cost = 0.0
    for (queue_id, _), (need, have) in coverage.items():
        cost += (UNDER_WEIGHT * max(need - have, 0.0) + OVER_WEIGHT * max(have - need, 0.0)) * minutes[queue_id]
    worked: dict[int, int] = defaultdict(int)
    for option in plan.chosen:
        worked[option.agent] += option.minutes
    for index, agent in enumerate(problem.agents):
        cost += SHORTFALL_WEIGHT * max(agent.contract.min_minutes - worked[index], 0)
    return cost


def _status(code: object) -> str:
    return "optimal" if code == cp_model.OPTIMAL else "feasible" if code == cp_model.FEASIBLE else "greedy"


def _solver(problem: Problem, seconds: float, log: bool, *, presolve: bool = True) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.5, seconds)
    solver.parameters.num_workers = problem.num_workers
    solver.parameters.random_seed = problem.random_seed
    solver.parameters.log_search_progress = log
    # CP-SAT's full presolve of a week's model takes most of a minute (measured: 51 s for 200 agents);
    # one light pass for the whole week, none for a window (the hint gives the search its start).
    solver.parameters.cp_model_presolve = presolve
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    return solver


def _whole_week(problem, grid, candidates, need, plan, deadline, log) -> tuple[Plan, str, float | None]:
    built = _Model(problem, grid, candidates, need)
    built.build()
    built.hint(plan)
    solver = _solver(problem, deadline - time.perf_counter(), log)
    code = solver.solve(built.model)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return built.plan(solver), _status(code), solver.objective_value
    return plan, "greedy", None


def _by_windows(problem, grid, candidates, need, plan, deadline, log) -> tuple[Plan, str, float | None]:
    """Large neighbourhood search by days: two days at a time re-solved with the rest of the week fixed,
    round the week until the deadline (each window starts from the incumbent, so none makes it worse)."""
    status, building = "greedy", 1.0
    for number, days in enumerate(itertools.cycle(WINDOWS)):
        remaining = deadline - time.perf_counter()
        # Stop when the next window would not get a few seconds of search after being built.
        if remaining < building + 2.0 or number >= 4 * len(WINDOWS):
            break
        began = time.perf_counter()
        fixed: dict[int, list[Candidate]] = defaultdict(list)
        for option in plan.chosen:
            if option.day not in days:
                fixed[option.agent].append(option)
        built = _Model(problem, grid, candidates, need, days=days, fixed=fixed)
        built.build()
        built.hint(plan)
        building = time.perf_counter() - began
        solver = _solver(problem, min(deadline - time.perf_counter(), WINDOW_SECONDS), log, presolve=False)
        if solver.solve(built.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            plan, status = built.plan(solver, plan), "feasible"
    return plan, status, None


def solve(problem: Problem, *, use_cp_sat: bool = True, log: bool = False) -> Solution:
    """The week's schedule for ``problem`` (``use_cp_sat=False``: the greedy schedule alone).

    A problem of at most ``WHOLE_WEEK_CANDIDATES`` candidate shifts is one CP-SAT model; a larger one is
    improved from the greedy schedule two days at a time (``_by_windows``)."""
    began = time.perf_counter()
    # The answer (breaks, activities, coverage) is made after the search: keep it inside the limit.
    deadline = began + problem.time_limit_seconds * (1 - ANSWER_SHARE)
    grid = Grid(problem.week_start, problem.time_zone)
    candidates = [candidates_of(problem, grid, index) for index in range(len(problem.agents))]
    need = requirement_matrix(problem, grid)
    plan = greedy_plan(problem, grid, candidates, need)
    status, objective = ("greedy" if any(candidates) else "empty"), None
    greedy = Plan(list(plan.chosen), dict(plan.queue_of))
    if use_cp_sat and any(candidates):
        search = _whole_week if sum(map(len, candidates)) <= WHOLE_WEEK_CANDIDATES else _by_windows
        plan, status, objective = search(problem, grid, candidates, need, plan, deadline, log)
    shifts, coverage, unmet, notes = _answer(problem, grid, plan, candidates, need)
    if status == "feasible":
        # The breaks staggered afterwards may favour the greedy schedule; keep whichever costs less.
        floor = _answer(problem, grid, greedy, candidates, need)
        if _cost(problem, floor[1], greedy) < _cost(problem, coverage, plan):
            shifts, coverage, unmet, notes = floor
            status = "greedy"
            notes.insert(0, "The solver's schedule was no better than the greedy one within the time limit.")
    elif status == "greedy" and use_cp_sat:
        notes.insert(0, "The solver found no schedule within the time limit: this is the greedy one.")
    minutes = {queue.id: queue.interval_minutes for queue in problem.queues}
    return Solution(status, round(time.perf_counter() - began, 3), shifts, coverage, unmet, notes, objective, minutes)
