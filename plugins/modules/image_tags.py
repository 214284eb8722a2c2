#!/usr/bin/python
# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_tags
short_description: List the tags of container images and check that a tag exists
version_added: 0.1.0
description:
  - Asks a container registry (Docker Hub, GHCR, Quay, ECR, Harbor, GitLab, a self-hosted Distribution registry, ...)
    for the tags of one or more images, following every page of the tag list.
  - For a reference that names a tag or a digest, also reports whether that manifest exists and its digest, the
    same digest C(docker pull) prints.
  - Speaks the registry token flow itself (Bearer challenges with anonymous or credentialed tokens) and Basic
    challenges; tokens are cached and reused for all images and pages of one task.
  - Sets the fact C(image_tags), a dictionary from the normalized image name (such as V(docker.io/library/alpine))
    to its list of tags.
  - Read-only; it never changes anything and always reports C(changed=false).
author:
  - tagscope.registry contributors (@tagscope)
requirements:
  - requests
extends_documentation_fragment:
  - tagscope.registry.connection
attributes:
  check_mode:
    support: full
    description: Runs normally in check mode; it only reads.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  facts:
    support: full
    description: Sets C(image_tags).
options:
  images:
    description:
      - Image references, V([host[:port]/]path[:tag][@digest]).
      - Without a host the image is on Docker Hub, and a one-part name gets the V(library/) prefix
        (V(alpine) is V(docker.io/library/alpine)).
      - A reference with a tag or digest also asks whether it exists; see RV(images[].exists).
      - Every reference is checked before any request is sent.
    type: list
    elements: str
    required: true
    aliases:
      - image
notes:
  - Tags are returned in the order the registry lists them.
  - A registry that answers C(401) for a repository even with a fresh token (Docker Hub does this for repositories
    that do not exist or are private) is reported as "not found or access denied".
seealso:
  - plugin: tagscope.registry.image_tags
    plugin_type: lookup
    description: The same query from a template or C(vars).
  - name: Distribution token authentication
    description: The token flow this module speaks.
    link: https://distribution.github.io/distribution/spec/auth/token/
"""

EXAMPLES = r"""
---
- name: List the tags of a public image
  tagscope.registry.image_tags:
    image: alpine
  register: alpine

- name: Check that the tag to deploy was pushed, with its digest
  tagscope.registry.image_tags:
    images:
      - ghcr.io/example/api:1.4.2
    username: "{{ ghcr_user }}"
    password: "{{ ghcr_token }}"
  register: api

- name: Refuse to deploy a tag that does not exist
  ansible.builtin.assert:
    that: api.images[0].exists
    fail_msg: "ghcr.io/example/api:1.4.2 was never pushed"

- name: A private registry with its own CA; tags land in the image_tags fact
  tagscope.registry.image_tags:
    images:
      - registry.example.com:5000/team/app
    ca_path: /etc/pki/registry-ca.pem

- name: Use the fact
  ansible.builtin.debug:
    msg: "{{ image_tags['registry.example.com:5000/team/app'] }}"
"""

RETURN = r"""
images:
  description: One entry per reference in O(images), in the same order.
  returned: success
  type: list
  elements: dict
  contains:
    reference:
      description: The reference as given.
      type: str
      sample: ghcr.io/example/api:1.4.2
    name:
      description: The normalized image name, without tag or digest; the key of the C(image_tags) fact.
      type: str
      sample: ghcr.io/example/api
    registry:
      description: The registry host (and port); V(docker.io) for Docker Hub.
      type: str
      sample: ghcr.io
    repository:
      description: The repository path in the registry.
      type: str
      sample: example/api
    tag:
      description: The tag named in the reference, or V(null).
      type: str
      sample: 1.4.2
    tags:
      description: Every tag of the repository, in the registry's order.
      type: list
      elements: str
      sample: [1.4.0, 1.4.1, 1.4.2, latest]
    exists:
      description:
        - Whether the tag or digest named in the reference exists.
        - V(null) for a reference without tag or digest.
      type: bool
      sample: true
    digest:
      description:
        - Digest of the manifest (or manifest list / OCI index) the tag or digest names, from C(Docker-Content-Digest).
        - V(null) when it does not exist or the reference names neither.
      type: str
      sample: sha256:54f686500a0129d292433df057efbb0fe45a9f026a7f742afeef0820758d468b
ansible_facts:
  description: Facts set for the host.
  returned: success
  type: dict
  contains:
    image_tags:
      description: Normalized image name to its list of tags.
      type: dict
      sample:
        ghcr.io/example/api: [1.4.0, 1.4.1, 1.4.2, latest]
status:
  description: HTTP status of the request that failed.
  returned: failure, when the registry answered
  type: int
  sample: 401
code:
  description: The registry's error code for the request that failed.
  returned: failure, when the registry gave one
  type: str
  sample: NAME_UNKNOWN
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import client_options, module_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images


def main() -> None:
    module = AnsibleModule(argument_spec=module_argument_spec(), supports_check_mode=True)
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    try:
        results = query_images(module.params["images"], client_options(module.params))
    except RegistryError as exc:
        module.fail_json(msg=str(exc), **exc.context())
    module.exit_json(
        changed=False,
        images=[result.as_dict() for result in results],
        ansible_facts={"image_tags": {result.ref.name: result.tags for result in results}},
    )


if __name__ == "__main__":
    main()
