"""The access re-checks of every live socket of this process, coalesced (issue 17).

A push to a group reaches every subscriber's consumer at about the same moment, and each checks
again, before it forwards the push, that its user may still see what it carries (at most every
``CEA_WS_ACCESS_RECHECK_SECONDS``). Checked one by one, 200 desks following one customer cost
600 queries run one after the other on the consumers' database thread, and the last desk waited
for all of them. Here the checks asked while a batch runs wait for the next one, and a batch reads
its users, their teams and its customers in three queries, whatever its size; the verdicts are the
same as ``subscription_check``'s (the same refusals, from ``records.access`` and
``engagement.access``). Scopes other than a customer's are checked one by one within the batch.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from weakref import WeakKeyDictionary

from cea.accounts.models import User
from cea.accounts.selectors import active_user
from cea.common.consumer_db import consumer_db
from cea.common.errors import ApplicationError
from cea.common.roles import remember_team_ids
from engagement.context.models import ContextScope
from records.access import access_customer_read, row_id
from records.customers.models import Customer

Check = tuple[int, str, str]  # user id, scope, object id


def subscription_checks(checks: Iterable[Check], single) -> dict[Check, ApplicationError | None]:
    """Each check's refusal (``None``: allowed); ``single(user_id=…, scope=…, object_id=…)`` for the
    scopes not batched (``subscription_check``)."""
    checks = list(dict.fromkeys(checks))
    users = {user.pk: user for user in User.objects.filter(pk__in={c[0] for c in checks}, is_active=True)}
    team_ids: dict[int, list[int]] = defaultdict(list)
    for user_id, team_id in User.teams.through.objects.filter(user_id__in=users).values_list("user_id", "team_id"):
        team_ids[user_id].append(team_id)
    for user in users.values():
        remember_team_ids(user, team_ids[user.pk])
    customer_ids = {row_id(c[2]) for c in checks if c[1] == ContextScope.CUSTOMER} - {None}
    customers = Customer.objects.select_related("team", "merged_into").in_bulk(customer_ids)
    verdicts: dict[Check, ApplicationError | None] = {}
    for check in checks:
        user_id, scope, object_id = check
        try:
            if user_id not in users:
                active_user(user_id=user_id)  # raises the refusal of a user gone or deactivated
            if scope == ContextScope.CUSTOMER:
                access_customer_read(users[user_id], customers.get(row_id(object_id)), object_id)
            else:
                single(user_id=user_id, scope=scope, object_id=object_id)
        except ApplicationError as refusal:
            verdicts[check] = refusal
        else:
            verdicts[check] = None
    return verdicts


class Rechecks:
    """The checks of one event loop: asked one at a time, run in batches on the database thread."""

    def __init__(self, single) -> None:
        self.single = single
        self.waiting: dict[Check, list[asyncio.Future]] = {}
        self.running = False

    async def refusal(self, user_id: int, scope: str, object_id: str) -> ApplicationError | None:
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault((user_id, scope, object_id), []).append(future)
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.waiting:
                await asyncio.sleep(0)  # let the consumers handling the same push add their checks
                batch, self.waiting = self.waiting, {}
                try:
                    verdicts = await consumer_db(subscription_checks)(list(batch), self.single)
                except Exception as error:  # the database is down: each check fails as it would alone
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for check, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(verdicts[check])
        finally:
            self.running = False


_per_loop: WeakKeyDictionary[asyncio.AbstractEventLoop, Rechecks] = WeakKeyDictionary()


def rechecks(single) -> Rechecks:
    """This event loop's coalescer (a server has one loop; tests start several)."""
    loop = asyncio.get_running_loop()
    found = _per_loop.get(loop)
    if found is None:
        found = _per_loop[loop] = Rechecks(single)
    return found
