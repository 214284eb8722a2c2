# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs the image_tags module, then merges its ``image_tags`` fact with the host's.

A module can only replace a fact; merging needs the host's current value,
which only the controller has. The module does the registry work wherever the
task runs; this action adds the earlier tasks' images back.
"""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase

FACT = "image_tags"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        result.update(
            self._execute_module(
                module_name="tagscope.registry.image_tags", module_args=self._task.args, task_vars=task_vars
            )
        )
        new = result.get("ansible_facts", {}).get(FACT)
        # Through ansible_facts: the top-level variable is gone when fact injection is off (INJECT_FACTS_AS_VARS).
        facts = (task_vars or {}).get("ansible_facts")
        earlier = facts.get(FACT) if isinstance(facts, dict) else None
        if isinstance(new, dict) and isinstance(earlier, dict):
            result["ansible_facts"][FACT] = {**earlier, **new}
        return result
