"""The console for the System of Engagement: each part registers its models in its own admin module."""

from engagement.adapters import admin as adapters_admin
from engagement.adapters.mailboxes import admin as mailboxes_admin
from engagement.backoffice import admin as backoffice_admin
from engagement.canned import admin as canned_admin
from engagement.idv import admin as idv_admin
from engagement.outbound import admin as outbound_admin
from engagement.recommendations import admin as recommendations_admin
from engagement.routing import admin as routing_admin
from engagement.selfservice import admin as selfservice_admin
from engagement.webchat import admin as webchat_admin
from engagement.wfm.planning import admin as wfm_planning_admin
from engagement.wfm.scheduling import admin as wfm_roster_admin

__all__ = [
    "adapters_admin",
    "backoffice_admin",
    "canned_admin",
    "idv_admin",
    "mailboxes_admin",
    "outbound_admin",
    "recommendations_admin",
    "routing_admin",
    "selfservice_admin",
    "webchat_admin",
    "wfm_planning_admin",
    "wfm_roster_admin",
]
