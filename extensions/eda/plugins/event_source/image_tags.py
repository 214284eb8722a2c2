# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tagscope.registry.image_tags: an Event-Driven Ansible source that turns new, moved and removed image tags into
events.

Thin over the collection's core: the arguments are checked by the module's argument spec and ``RunOptions``,
``Watcher`` (module_utils/_registry/watch.py) polls and compares; this file runs the polls off the event loop, one
task per repository, backs off from failures and puts the events on the queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

try:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import EVENTS, unknown_names
except ImportError:
    # ansible-rulebook runs a source from its file (runpy) and installs no collection loader: import the core of
    # the collection this file belongs to, <path>/ansible_collections/tagscope/registry/extensions/eda/plugins/...
    _HERE = os.path.abspath(__file__).split(os.sep)
    if len(_HERE) < 9 or _HERE[-8] != "ansible_collections":
        raise
    sys.path.append(os.sep.join(_HERE[:-8]) or os.sep)
    from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import EVENTS, unknown_names

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import shared_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import RunOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import TokenCache
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import HAS_REQUESTS, make_session
from ansible_collections.tagscope.registry.plugins.module_utils._registry.watch import Watcher, retry_delay
from ansible_collections.tagscope.registry.plugins.module_utils._run import low_rate_limits

DOCUMENTATION = r"""
---
short_description: Watch container image tags; a new, moved or removed tag is an event
description:
  - Polls the tag lists of container images in their Docker/OCI registries and puts one event on the queue for
    each change, C({"image_tags": {"event", "image", "tag", "digest", "previous_digest", "pinned"}}).
  - The first poll records what exists and sends nothing (unless O(emit_existing)).
  - Tags that O(images) names (C(name:tag)) are read with a HEAD request on every poll, so their moves show; other
    tags are listed, and read once, when they are new.
  - Also takes the connection and credential options of the M(tagscope.registry.image_tags) module (O(username),
    O(password), O(token), O(auth_registry), O(auth_file), O(validate_certs), O(ca_path), O(timeout),
    O(concurrency), O(page_size), O(retries), O(retry_max_wait), O(http_registries), O(mirrors),
    O(min_remaining)) and its selection options
    (O(include), O(exclude), O(constraint), O(prereleases), O(digest_tags)), with the same names, aliases, defaults and
    TAGSCOPE_REGISTRY_* environment variables; see C(ansible-doc tagscope.registry.image_tags).
options:
  images:
    description:
      - Image references, V([host[:port]/]path[:tag][@digest]). A repository named several times is listed once.
      - A tag asks for its digest on every poll (reported as V(moved) when it changes); V(name:tag@digest) also
        reports, on the first poll, a tag that no longer names that digest.
    type: list
    elements: str
    required: true
    aliases: [image, name]
  interval:
    description:
      - Seconds between two polls of a repository. After failures the wait doubles, up to five minutes (or the
        interval when it is longer), and never ends before the registry's C(Retry-After).
    type: float
    default: 300
  emit_existing:
    description:
      - Send a V(new_tag) event for every tag that exists at the first poll.
    type: bool
    default: false
"""

EXAMPLES = r"""
---
- name: Deploy what CI pushes
  hosts: localhost
  sources:
    - tagscope.registry.image_tags:
        images:
          - ghcr.io/example/api
          - ghcr.io/example/api:stable
        constraint: ">=1,<2"
        interval: 120
  rules:
    - name: A new 1.x release or a moved stable tag
      condition: event.image_tags.event in ["new_tag", "moved"]
      action:
        run_playbook:
          name: deploy.yml
"""

SOURCE = "tagscope.registry.image_tags"
DEFAULT_INTERVAL = 300.0
logger = logging.getLogger(SOURCE)


class SourceArgumentError(ValueError):
    """An argument the source cannot work with; raised before any request."""


def argument_spec() -> dict[str, dict[str, t.Any]]:
    """The module's spec for the options the event source takes (the table's ``events`` face), and its own."""
    return {
        "images": {"type": "list", "elements": "str", "required": True, "aliases": ["image", "name"]},
        "interval": {"type": "float", "default": DEFAULT_INTERVAL},
        "emit_existing": {"type": "bool", "default": False},
        **shared_argument_spec(face=EVENTS),
    }


async def main(queue: asyncio.Queue[t.Any], args: dict[str, t.Any]) -> None:
    """Poll until cancelled; each change of a tag is one event on ``queue``."""
    params = _checked(args)
    if not HAS_REQUESTS:
        raise SourceArgumentError(f"{SOURCE} needs the Python package requests where ansible-rulebook runs")
    options = _options(params)
    session = make_session(pool_size=options.client.concurrency)
    try:
        try:
            watcher = Watcher(
                params["images"],
                options,
                session=session,
                cache=TokenCache(),
                emit_existing=params["emit_existing"],
            )
        except RegistryError as exc:
            raise SourceArgumentError(f"{SOURCE}: {exc}") from None
        await _watch(queue, watcher, params["interval"], options.rate_limit_warning)
    finally:
        session.close()


async def _watch(queue: asyncio.Queue[t.Any], watcher: Watcher, interval: float, rate_limit_warning: int) -> None:
    # Requests in flight to one registry stay within concurrency, as in a module run.
    slots: dict[str, asyncio.Semaphore] = {}
    for repository in watcher.repositories.values():
        slots.setdefault(repository.ref.api_host, asyncio.Semaphore(watcher.client.options.concurrency))
    warned: set[str] = set()

    async def follow(name: str) -> None:
        failures = 0
        # Whether the repository was missing at the last poll that succeeded (warned once, not at every poll).
        missing = False
        slot = slots[watcher.repositories[name].ref.api_host]
        while True:
            try:
                async with slot:
                    # The requests block: a thread keeps them off the event loop.
                    changes = await asyncio.to_thread(watcher.poll, name)
            except RegistryError as exc:
                failures += 1
                wait = retry_delay(interval, failures, exc)
                logger.error("%s: %s; polling goes on, next try in %g s", SOURCE, exc, wait)
            else:
                if failures:
                    logger.info("%s: %s answers again", SOURCE, name)
                failures = 0
                absent = watcher.absent.get(name)
                if absent is not None and not missing:
                    logger.warning("%s: %s; watching for its first push", SOURCE, absent)
                elif absent is None and missing:
                    logger.info("%s: %s is there now", SOURCE, name)
                missing = absent is not None
                wait = interval
                logger.debug("%s: %s polled, %d change(s)", SOURCE, name, len(changes))
                for change in changes:
                    await queue.put({"image_tags": change.as_dict()})
            for warning in low_rate_limits(watcher.client.rate_limits, rate_limit_warning):
                if warning not in warned:
                    warned.add(warning)
                    logger.warning("%s: %s", SOURCE, warning)
            await asyncio.sleep(wait)

    tasks = [asyncio.create_task(follow(name)) for name in watcher.repositories]
    try:
        await asyncio.gather(*tasks)
    finally:
        # Cancelled (or failed): no task outlives the source. A request already in its thread ends on its own,
        # within the timeout; its answer goes nowhere.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _checked(args: dict[str, t.Any]) -> dict[str, t.Any]:
    """The arguments, checked and converted by the module's rules; unknown ones refused by name."""
    # ansible-rulebook adds arguments of its own (eda_feedback_queue); none of ours starts with eda_.
    given = {key: value for key, value in args.items() if not key.startswith("eda_")}
    spec = argument_spec()
    known = set(spec) | {alias for entry in spec.values() for alias in entry.get("aliases", ())}
    unknown = sorted(set(given) - known)
    if unknown:
        raise SourceArgumentError(unknown_names("argument", unknown, spec, who=SOURCE))
    validated = ArgumentSpecValidator(spec).validate(given)
    if validated.error_messages:
        # The same masking as AnsibleModule: a secret never shows in the message.
        message = remove_values("; ".join(validated.error_messages), validated._no_log_values)
        raise SourceArgumentError(f"{SOURCE}: {message}")
    params = validated.validated_parameters
    if not params["images"]:
        raise SourceArgumentError(f"{SOURCE}: images is empty; name at least one image to watch")
    if params["interval"] <= 0:
        raise SourceArgumentError(f"{SOURCE}: interval must be more than 0 seconds, got {params['interval']:g}")
    return params


def _options(params: dict[str, t.Any]) -> RunOptions:
    try:
        return RunOptions.from_params(params)
    except RegistryError as exc:
        raise SourceArgumentError(f"{SOURCE}: {exc}") from None
