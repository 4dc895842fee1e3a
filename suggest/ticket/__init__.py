"""A support ticket (subject + messages, en/ru/uk) turned into the searches used to suggest help-center articles:
each message cleaned (cleaning, quotes, greeting, signature), split into questions, weighted into queries."""

from suggest.ticket.cleaning import clean_message
from suggest.ticket.queries import Message, TicketQuery, ticket_queries
from suggest.ticket.questions import asked_alone, split_questions

__all__ = ["Message", "TicketQuery", "asked_alone", "clean_message", "split_questions", "ticket_queries"]
