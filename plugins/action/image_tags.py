# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the image_tags module, then merges its ``image_tags`` fact with the host's.

Where the task runs on the controller (``delegate_to: localhost``, ``connection: local``) without ``become`` or
``async``, the query runs right here, in the controller's worker, instead of shipping the module to a new Python
process: the same argument checks, result, check mode and ``no_log`` as the module, without the cost of a process
per task, and a loop's items share open connections and tokens. Anywhere else, the module runs where the task
runs, as usual.

A module can only replace a fact; merging needs the host's current facts, which only the controller has.
"""

from __future__ import annotations

import os
import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import module_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.signatures import private_keys
from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import MODULE, OPTIONS
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import SHARED_TOKENS
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import HAS_REQUESTS, shared_session
from ansible_collections.tagscope.registry.plugins.module_utils._run import image_tags

FACT = "image_tags"
MODULE_NAME = "tagscope.registry.image_tags"
LOCAL = frozenset({"local", "ansible.builtin.local"})
IN_CONTROLLER = "tagscope_registry_in_controller"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        here = self._on_controller(task_vars or {})
        try:
            args = self._keys_from_controller(dict(self._task.args), here=here)
        except (OSError, UnicodeDecodeError) as exc:
            where = getattr(exc, "filename", None) or "a signed_by file"
            return {
                **result,
                "failed": True,
                "msg": f"signed_by: cannot read {where!r} on the controller ({getattr(exc, 'strerror', None) or exc}); "
                "give the path of a PEM public key on the controller, or the PEM text itself",
            }
        if here:
            result.update(self._run_here(args))
        else:
            wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
            result.update(
                self._execute_module(
                    module_name=MODULE_NAME, module_args=args, task_vars=task_vars, wrap_async=wrap_async
                )
            )
            if wrap_async or self._task.async_val:
                # The job goes on in the background; async_status returns its facts.
                return result
            # What ansible-core's own normal action does: the module's temporary directory goes.
            self._remove_tmp_path(self._connection._shell.tmpdir)
        new = result.get("ansible_facts", {}).get(FACT)
        # Through ansible_facts: the top-level variable is gone when fact injection is off (INJECT_FACTS_AS_VARS).
        facts = (task_vars or {}).get("ansible_facts")
        earlier = facts.get(FACT) if isinstance(facts, dict) else None
        merge = boolean(self._templar.template(self._task.args.get("merge_facts", True)), strict=False)
        if merge and isinstance(new, dict) and isinstance(earlier, dict):
            result["ansible_facts"][FACT] = {**earlier, **new}
        return result

    def _on_controller(self, task_vars: dict[str, t.Any]) -> bool:
        """The task would run the module on this machine, as this user, synchronously; and the user did not set
        ``tagscope_registry_in_controller: false`` (for a module process with ansible_python_interpreter)."""
        wanted = self._templar.template(task_vars.get(IN_CONTROLLER, True))
        return (
            HAS_REQUESTS
            and boolean(wanted, strict=False)
            and self._connection.transport in LOCAL
            and not self._play_context.become
            and not self._task.async_val
        )

    def _keys_from_controller(self, args: dict[str, t.Any], *, here: bool) -> dict[str, t.Any]:
        """``signed_by`` paths are files on the controller, as playbooks expect of keys they ship: resolved like any
        playbook file here, and read here when the module runs on another host."""
        keys = args.get("signed_by")
        if not isinstance(keys, list):
            return args
        return {**args, "signed_by": [self._key(entry, here=here) for entry in keys]}

    def _key(self, entry: t.Any, *, here: bool) -> t.Any:
        if not isinstance(entry, str) or not entry.strip() or "-----BEGIN" in entry:
            return entry
        path = self._loader.path_dwim(os.path.expanduser(entry.strip()))
        if here:
            return path
        with open(path, encoding="utf-8") as handle:
            return handle.read()

    def _run_here(self, args: dict[str, t.Any]) -> dict[str, t.Any]:
        task_environment: dict[str, str] = {}
        self._compute_environment_string(task_environment)
        # What the module process would see: the controller's environment with the task's environment: on top.
        # The core reads credential files through it; never os.environ, which other workers share.
        environ = {**os.environ, **{key: str(value) for key, value in task_environment.items()}}
        args = _with_environment_fallbacks(args, task_environment)
        validated = ArgumentSpecValidator(module_argument_spec()).validate(args)
        # What AnsibleModule masks, from the same validator, and a private key pasted where a public one belongs.
        no_log = validated._no_log_values | set(private_keys(args.get("signed_by")))
        params = validated.validated_parameters
        if validated.error_messages:
            error = validated.errors[0]
            message = validated.errors.msg
            if isinstance(error, UnsupportedError):
                message = f"Unsupported parameters for ({MODULE_NAME}) module: {message}"
            return remove_values({"failed": True, "msg": message, "invocation": {"module_args": params}}, no_log)
        # A worker runs one task for one host, all of a loop's items included: they share connections and tokens.
        result = image_tags(params, environ=environ, cache=SHARED_TOKENS, session=shared_session())
        result["invocation"] = {"module_args": params}
        return remove_values(result, no_log)


def _with_environment_fallbacks(args: dict[str, t.Any], environment: dict[str, str]) -> dict[str, t.Any]:
    """``args`` with the options the task's ``environment:`` sets (TAGSCOPE_REGISTRY_*), where the task does not
    set them itself: what env_fallback finds in a module process. The validator's own env_fallback then reads the
    controller's environment for the rest."""
    for option in OPTIONS:
        given = {option.name, *option.aliases} & set(args)
        if MODULE in option.faces and option.env_name in environment and not given:
            args[option.name] = environment[option.env_name]
    return args
