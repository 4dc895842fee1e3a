"""The web layer: help center pages and the JSON API."""

from web.app import create_app, run

__all__ = ["create_app", "run"]
