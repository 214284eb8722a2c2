# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: image_tags
short_description: The tags of container images, for templates
version_added: 0.1.0
description:
  - Returns the tags of the images named in the terms, asked from their registries with the same client as the
    M(tagscope.registry.image_tags) module (token flow, Basic challenges, every page of the tag list).
  - Runs on the controller.
author:
  - tagscope.registry contributors (@tagscope)
requirements:
  - requests
extends_documentation_fragment:
  - tagscope.registry.connection
  - tagscope.registry.connection.plugins
  - tagscope.registry.selection
options:
  _terms:
    description:
      - Image references, V([host[:port]/]path[:tag][@digest]).
      - A tag or digest in a reference is checked only with O(fail_on_missing) or O(wait_timeout), and so are
        O(platforms).
      - O(signed_by), O(require_attestations), O(require_labels), O(min_age) and O(max_age) always check, as if
        O(fail_on_missing=true); a relative key path is found like any file of the playbook.
      - With one term the result is that image's tags; with several, the tags of each image one after the other,
        in the order of the terms (use one call per image to keep them apart).
    type: list
    elements: str
    required: true
  latest:
    description:
      - Return only the newest version tag of each image (see O(constraint) and O(prereleases)), one entry per
        term, instead of the tag lists. An image without a matching version contributes nothing.
      - With C(lookup) (not C(query)) and one term this is a plain string.
    type: bool
    default: false
notes:
  - Use C(query) (or C(wantlist=true)) to get a list; C(lookup) joins the tags with commas.
  - Tags are returned in version order (see O(sort)), unless O(sort) says otherwise.
  - An option the lookup does not know (a misspelt V(contraint=)) fails, naming the options there are.
  - Calls in one process (the items of a loop, several calls in one template) share open connections, challenges
    and tokens (never tag lists); a wrong password never reuses a token a right one obtained.
  - "The C(tagscope_registry_*) variables are templated, so C(tagscope_registry_password: '{{ vault_password }}')
    works, vaulted values included."
seealso:
  - module: tagscope.registry.image_tags
    description: Also checks tags exist, returns digests and sets the C(image_tags) fact.
"""

EXAMPLES = r"""
---
- name: Tags of a public image
  ansible.builtin.debug:
    msg: "{{ query('tagscope.registry.image_tags', 'alpine') }}"

- name: Tags of a private image, with credentials and a private CA
  ansible.builtin.set_fact:
    app_tags: >-
      {{ query('tagscope.registry.image_tags', 'registry.example.com:5000/team/app',
               username=registry_user, password=registry_password,
               ca_path='/etc/pki/registry-ca.pem') }}

- name: Deploy only a tag that exists
  ansible.builtin.assert:
    that: "'1.4.2' in query('tagscope.registry.image_tags', 'ghcr.io/example/api')"

- name: The newest 1.x release, as a string
  ansible.builtin.set_fact:
    api_version: "{{ lookup('tagscope.registry.image_tags', 'ghcr.io/example/api', constraint='>=1,<2', latest=true) }}"

- name: The three newest v-prefixed tags
  ansible.builtin.debug:
    msg: "{{ query('tagscope.registry.image_tags', 'ghcr.io/example/api', include=['v.*'], reverse=true, limit=3) }}"

- name: Fail the template unless the tag exists (the error names the nearest tags)
  ansible.builtin.debug:
    msg: "{{ query('tagscope.registry.image_tags', 'ghcr.io/example/api:1.4.2', fail_on_missing=true) }}"

- name: Newest version of several images, one entry per image
  ansible.builtin.debug:
    msg: "{{ query('tagscope.registry.image_tags', 'ghcr.io/example/api', 'ghcr.io/example/web', latest=true) }}"
"""

RETURN = r"""
_raw:
  description:
    - The tags of the image (of each image, one after the other, with several terms), selected and ordered by the
      options.
    - With O(latest=true), the newest version tag of each image.
  type: list
  elements: str
  sample: [1.4.0, 1.4.1, 1.4.2, latest]
"""

import os
import typing as t

from ansible import constants
from ansible.errors import AnsibleLookupError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import (
    LOOKUP,
    POLICY,
    VARIABLE_PREFIX,
    names,
    unknown_names,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import SHARED_TOKENS
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import HAS_REQUESTS, shared_session
from ansible_collections.tagscope.registry.plugins.module_utils._run import run

display = Display()


class LookupModule(LookupBase):
    def run(self, terms: list[t.Any], variables: dict[str, t.Any] | None = None, **kwargs: t.Any) -> list[str]:
        self.set_options(var_options=self._templated(variables), direct=kwargs)
        definitions = constants.config.get_configuration_definitions("lookup", self._load_name) or {}
        aliases = {alias for option in definitions.values() for alias in option.get("aliases") or ()}
        unknown = sorted(set(kwargs) - set(self._options) - aliases)
        if unknown:
            known = [name for name in self._options if name != "_terms"]
            raise AnsibleLookupError(unknown_names("option", unknown, known, who="tagscope.registry.image_tags"))
        if not HAS_REQUESTS:
            raise AnsibleLookupError(missing_required_lib("requests"))
        if not terms:
            raise AnsibleLookupError(
                "tagscope.registry.image_tags needs at least one image reference, "
                "e.g. query('tagscope.registry.image_tags', 'alpine')"
            )
        params = {name: self.get_option(name) for name in names(face=LOOKUP)}
        # A tag in a term is checked when the caller gates on it: by failing on a missing tag, by waiting for it, or
        # by what the image must say about itself (signed_by, ...), which is never skipped silently.
        policy = any(params.get(name) not in (None, [], {}) for name in names(goes_to=POLICY))
        if policy:
            params["fail_on_missing"] = True
            # Key files are the playbook's files, as they are for the module.
            params["signed_by"] = [self._key_path(entry) for entry in params.get("signed_by") or []]
        gated = bool(params["fail_on_missing"] or params["wait_timeout"])
        outcome = run(terms, params, manifests=gated, cache=SHARED_TOKENS, session=shared_session())
        for warning in outcome.warnings:
            display.warning(warning)
        if outcome.error is not None:
            raise AnsibleLookupError(str(outcome.error)) from outcome.error
        if self.get_option("latest"):
            return [result.latest for result in outcome.results if result.latest is not None]
        return [tag for result in outcome.results for tag in result.tags or []]

    def _key_path(self, entry: t.Any) -> t.Any:
        if not isinstance(entry, str) or not entry.strip() or "-----BEGIN" in entry or self._loader is None:
            return entry
        return self._loader.path_dwim(os.path.expanduser(entry.strip()))

    def _templated(self, variables: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
        """This lookup's own variables (``tagscope_registry_*``), templated.

        The config system reads variables as they are written: ``tagscope_registry_password: "{{ vault_pw }}"``
        would otherwise arrive as the text ``{{ vault_pw }}``. Other variables are left alone.
        """
        if not variables or self._templar is None:
            return variables
        templated = dict(variables)
        for name in variables:
            if name.startswith(VARIABLE_PREFIX):
                templated[name] = self._templar.template(variables[name])
        return templated
