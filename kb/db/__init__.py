"""The database: one schema (schema.py), its limits and checks, the event log's writes (events.py) and reads
(event_reads.py), the dashboard's aggregates (dashboard.py), logins (accounts.py), and agents' suggestions,
feedback and replies and the contact form's deflections (tickets.py)."""

from kb.db.accounts import AccountError, Accounts, Session, User
from kb.db.dashboard import Dashboard
from kb.db.engine import database_url
from kb.db.event_reads import SearchEvent
from kb.db.events import EventLog
from kb.db.tickets import Feedback, Reply, TicketLog

__all__ = [
    "AccountError",
    "Accounts",
    "Dashboard",
    "EventLog",
    "Feedback",
    "Reply",
    "SearchEvent",
    "Session",
    "TicketLog",
    "User",
    "database_url",
]
