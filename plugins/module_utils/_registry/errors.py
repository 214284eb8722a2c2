# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Exceptions raised by the registry core.

Every error says what was attempted (method and URL, never with credentials),
what the registry answered, and what the user can do about it. The plugins
translate them: the module into ``fail_json``, the lookup into
``AnsibleLookupError``.
"""

from __future__ import annotations

import typing as t

# What a message shows of a URL a registry chose: enough to recognize it, never the megabytes a hostile one sends.
SHOWN_URL = 300


def shortened(text: str, limit: int = SHOWN_URL) -> str:
    """``text`` cut to ``limit`` characters, with "..." when cut."""
    return text if len(text) <= limit else text[:limit] + "..."


class RegistryError(Exception):
    """Base class of every error the core raises."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.hint = hint
        self.image: str | None = None
        super().__init__(self._render())

    def _render(self) -> str:
        text = self.message
        if self.method and self.url:
            text = f"{self.method} {shortened(self.url)}: {text}"
        if self.image:
            text = f"{self.image}: {text}"
        if self.hint:
            text = f"{text}; {self.hint}"
        return text

    def about(self, image: str) -> RegistryError:
        """Name the image the error concerns (once several are queried)."""
        self.image = image
        self.args = (self._render(),)
        return self

    def at(self, *, method: str | None = None, url: str | None = None, status: int | None = None) -> RegistryError:
        """Say which request failed, for an error raised where that was not known (a parser, say)."""
        self.method = method or self.method
        self.url = url or self.url
        self.status = status if status is not None else self.status
        self.args = (self._render(),)
        return self

    def amend(self, text: str) -> RegistryError:
        """Add to the message (``(after 3 attempts)``), before the hint."""
        self.message += text
        self.args = (self._render(),)
        return self

    def context(self) -> dict[str, t.Any]:
        """Structured details for a module result (no secrets in any of them)."""
        details: dict[str, t.Any] = {}
        for key in ("image", "method", "url", "status", "code"):
            value = getattr(self, key)
            if value is not None:
                details[key] = value
        return details


class InvalidReferenceError(RegistryError):
    """An image reference that cannot be parsed; raised before any request."""


class ConfigurationError(RegistryError):
    """An option value the core cannot work with (e.g. a missing CA file)."""


class CredentialHelperError(ConfigurationError):
    """A docker-credential-* helper is missing, failed, or printed something unreadable."""


class AuthenticationError(RegistryError):
    """The registry or its token server rejected the credentials, or needs some."""


class NotFoundError(RegistryError):
    """The repository does not exist, or the identity may not see it."""


class RateLimitedError(RegistryError):
    """The registry answered 429 Too Many Requests."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: t.Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class BudgetError(RateLimitedError):
    """A registry said fewer pulls remain than ``min_remaining``: the run stops before spending more of them.

    It concerns a registry, not an image, so it is raised once for the run and names no image.
    """

    def about(self, image: str) -> RegistryError:
        return self


class TLSError(RegistryError):
    """The TLS handshake failed, usually an unknown CA."""


class RegistryConnectionError(RegistryError):
    """The registry could not be reached (refused, DNS, timeout, reset)."""

    # A dropped connection is worth another try; a refusal or a timeout is not.
    retryable = False


class ProtocolError(RegistryError):
    """The registry answered something the protocol does not allow."""


class MultipleFailuresError(RegistryError):
    """Several images failed; the message names each, ``errors`` holds them."""

    def __init__(self, errors: list[RegistryError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} images failed: " + " | ".join(str(error) for error in errors))

    def context(self) -> dict[str, t.Any]:
        return {"errors": [{"msg": str(error), **error.context()} for error in self.errors]}
