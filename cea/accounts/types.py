"""The names services use for who acts: a signed-in user, the anonymous user of a request, or the system.

``Actor`` is what every write takes as ``actor``: ``request.user`` (a ``User`` or an
``AnonymousUser``, whom the access checks refuse) or ``None`` for the system (a load, a sweep, a
channel). ``AnyUser`` is a request's user, for reads that always have one.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser

from cea.accounts.models import User

AnyUser: TypeAlias = User | AnonymousUser
Actor: TypeAlias = User | AnonymousUser | None
