"""Notifications: one per fact, for a user, an officer or a unit's supervisors, read or unread.

A platform piece under the domains: nothing here imports a domain; a domain tells facts with
``notify`` and the people domain supplies the unit an officer serves in (``UnitOfOfficer``).
"""

from openbwv.notifications.models import Notification, NotificationRead
from openbwv.notifications.service import (
    Mailbox,
    MailboxEntry,
    Notice,
    UnitOfOfficer,
    list_notifications,
    mailbox_for,
    mark_read,
    notify,
    officer_notifications,
    unread_count,
)

__all__ = [
    "Mailbox",
    "MailboxEntry",
    "Notice",
    "Notification",
    "NotificationRead",
    "UnitOfOfficer",
    "list_notifications",
    "mailbox_for",
    "mark_read",
    "notify",
    "officer_notifications",
    "unread_count",
]
