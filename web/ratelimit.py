"""Per-client rate limits on the public endpoints, with the `limits` library (moving window).

The default storage is per process; set KB_RATE_LIMIT_STORAGE=redis://… so that several web processes
share one count. Logged-in agents and admins are not limited on search and feedback. The client is
`request.client`: the connecting address, or the one a proxy named in KB_FORWARDED_ALLOW_IPS forwarded
(uvicorn rewrites it before the app sees the request; see web.app.server_options).
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, storage, strategies

from kb.db.events import visitor_address
from kb.settings import Settings


class RateLimiter:
    def __init__(self, settings: Settings):
        self.storage = storage.storage_from_string(settings.rate_limit_storage)
        self.window = strategies.MovingWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {
            "search": RateLimitItemPerMinute(settings.rate_limit_search),
            "feedback": RateLimitItemPerMinute(settings.rate_limit_feedback),
            "login": RateLimitItemPerMinute(settings.rate_limit_login),
            "login_account": RateLimitItemPerHour(settings.rate_limit_login_account),
        }

    def allow(self, bucket: str, key: str) -> bool:
        """Count one request against the bucket; False when it is over the limit."""
        return self.window.hit(self.items[bucket], bucket, key)

    def exhausted(self, bucket: str, key: str) -> bool:
        """Whether one more request would be over the limit, without counting one."""
        return not self.window.test(self.items[bucket], bucket, key)

    def refusal(self, bucket: str) -> HTTPException:
        """The 429 for a caller over the bucket's limit; Retry-After is the window, when it is surely free again."""
        item = self.items[bucket]
        seconds = item.get_expiry()
        return HTTPException(
            429,
            f"too many requests: at most {item.amount} per {'minute' if seconds == 60 else 'hour'}; try again later",
            headers={"Retry-After": str(seconds)},
        )


def limiter_of(request: Request) -> RateLimiter | None:
    return getattr(request.app.state.services, "limiter", None)


def limit(bucket: str):
    """A dependency that answers 429 with Retry-After when the caller is over the bucket's limit."""

    def dependency(request: Request) -> None:
        limiter = limiter_of(request)
        if limiter is None:
            return
        if bucket != "login":
            from web.auth import current_user

            if current_user(request) is not None:
                return
        # An IPv6 client usually holds a whole /64: one count for all of it.
        key = visitor_address(request.client.host) if request.client else "unknown"
        if not limiter.allow(bucket, key):
            raise limiter.refusal(bucket)

    return dependency
