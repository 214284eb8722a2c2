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
  - python >= 3.7 where the task runs (Python 3.6 is not supported, the module fails to compile there)
  - requests
extends_documentation_fragment:
  - tagscope.registry.connection
  - tagscope.registry.selection
attributes:
  action:
    support: full
    description:
      - An action plugin merges the C(image_tags) fact with the host's, and runs the query in the controller when the
        task runs there.
  action_group:
    support: full
    description: Use C(group/tagscope.registry.registry) in C(module_defaults) to set options for every task.
    membership:
      - tagscope.registry.registry
  async:
    support: full
    description: Supports C(async) and C(poll); facts come back with the job's result.
  check_mode:
    support: full
    description:
      - Read-only, so check mode runs the same queries and returns the same result as a real run, failures included;
        a gate tells the truth in C(--check).
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  facts:
    support: full
    description: Sets C(image_tags).
  idempotent:
    support: full
    description: Read-only; it never changes anything, so running it again changes nothing.
  platform:
    support: full
    platforms: posix
    description: Runs wherever Python and C(requests) do; on the controller for C(delegate_to=localhost).
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
      - name
  inspect:
    description:
      - Read what each image that a reference names (with a tag or digest) says about itself, and return it per image
        in RV(images[].created), C(labels), C(revision), C(source),
        C(platform_digests) and C(attestations).
      - Implied by O(require_attestations), O(require_labels), O(min_age) and O(max_age) for what they need.
      - "Costs requests: a C(GET) of the manifest (which Docker Hub counts as a pull), of each platform image's
        manifest and config for an index (only the platforms in O(platforms) when set), and of the attestation
        manifests, cosign tags and referrers."
    type: bool
    default: false
  merge_facts:
    description:
      - V(true) merges this task's images into the C(image_tags) fact that earlier tasks set for the host.
      - V(false) starts afresh, the fact then holds this task's images only. Use it instead of
        C(ansible.builtin.set_fact), which would outrank every later task's facts and freeze C(image_tags).
    type: bool
    default: true
  list_tags:
    description:
      - List the tags of each image.
      - Set to V(false) when only existence matters; a tagged reference then costs one C(HEAD) request,
        RV(images[].tags) is V(null) and the C(image_tags) fact is left alone for those images.
    type: bool
    default: true
notes:
  - "On a play over many hosts, gate with O(fail_on_missing=true), C(delegate_to: localhost), C(run_once: true) and
    C(any_errors_fatal: true): the registry is asked once, every host gets the result and the facts, and a missing
    tag stops the play for every host (see the examples), or use the C(tagscope.registry.tag_gate) role, which
    does this for you."
  - The images of a task are asked concurrently (see O(concurrency)), with one token request for all the
    repositories of a registry; N images on one registry cost N + 2 requests cold.
  - "Where the task runs on the controller (C(delegate_to: localhost) or C(connection: local)), without C(become)
    or C(async), the query runs in the controller's worker instead of a module process: same checks, results,
    check mode and C(no_log), faster, and the items of a loop share connections and tokens. Set the variable
    C(tagscope_registry_in_controller: false) to run the module process anyway (for example with another
    C(ansible_python_interpreter))."
  - The C(image_tags) fact is merged with the one earlier tasks set for the host, image by image,
    so a second task adds its images instead of replacing the first task's.
  - The fact and RV(images[].tags) hold the tags after O(include), O(exclude), O(constraint), O(sort) and O(limit).
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
    msg: "{{ ansible_facts.image_tags['registry.example.com:5000/team/app'] }}"

- name: On a fleet, ask once from the controller; a missing tag stops every host of the play
  tagscope.registry.image_tags:
    images:
      - ghcr.io/example/api:{{ release }}
      - ghcr.io/example/web:{{ release }}
    fail_on_missing: true
  delegate_to: localhost
  run_once: true          # one query; its result and facts go to every host of the batch
  any_errors_fatal: true  # a failure stops the play for every host, whichever host ran it

- name: Fail unless the tag exists, naming the nearest tags that do (one HEAD request, no listing)
  tagscope.registry.image_tags:
    image: ghcr.io/example/api:1.4.2
    list_tags: false
    fail_on_missing: true

- name: Report without failing, for a when condition
  tagscope.registry.image_tags:
    image: ghcr.io/example/api:1.4.2
    list_tags: false
  register: candidate

- name: Deploy only when it was pushed
  ansible.builtin.debug:
    msg: "deploying {{ candidate.images[0].digest }}"
  when: candidate.images[0].exists

- name: Wait up to 10 minutes for CI to push the tag, checking every 15 seconds
  tagscope.registry.image_tags:
    image: ghcr.io/example/api:{{ release }}
    list_tags: false
    wait_timeout: 600
    wait_interval: 15

- name: Refuse a tag pushed for one architecture only, then deploy exactly what was gated
  tagscope.registry.image_tags:
    image: ghcr.io/example/api:{{ release }}
    platforms: [linux/amd64, linux/arm64]
    fail_on_missing: true
  register: gated

- name: Deploy the pinned reference (registry/repository:tag@sha256:...)
  ansible.builtin.debug:
    msg: "{{ gated.images[0].pinned }} offers {{ gated.images[0].platforms | join(', ') }}"

- name: How many pulls the registry still allows (Docker Hub sends it on manifest replies; no extra request)
  tagscope.registry.image_tags:
    image: docker.io/library/redis:7.2
    list_tags: false
    rate_limit_warning: 20  # warn when fewer than 20 remain
  register: redis

- name: Show the headroom (empty when the registry sends no rate-limit headers)
  ansible.builtin.debug:
    msg: "{{ redis.rate_limits }}"

- name: Read Docker Hub through a pull-through mirror, and stop before the rollout if fewer than 20 pulls remain
  tagscope.registry.image_tags:
    images: [docker.io/library/redis:7.2, docker.io/library/alpine:3.19]
    list_tags: false
    mirrors:
      docker.io: [mirror.example.com:5000]   # then the registry itself, when the mirror fails
    min_remaining: 20
  register: hub

- name: Who answered (the mirror, or docker.io after a fallback)
  ansible.builtin.debug:
    msg: "{{ hub.images | map(attribute='served_by') | list }}"

- name: Does a digest exist?
  tagscope.registry.image_tags:
    image: ghcr.io/example/api@sha256:54f686500a0129d292433df057efbb0fe45a9f026a7f742afeef0820758d468b

- name: The newest 1.x release (prereleases and non-version tags left out)
  tagscope.registry.image_tags:
    image: ghcr.io/example/api
    constraint: ">=1,<2"
  register: api_1x

- name: Use it
  ansible.builtin.debug:
    msg: "newest 1.x is {{ api_1x.images[0].latest }}"

- name: The five newest release tags that start with v, newest first
  tagscope.registry.image_tags:
    image: ghcr.io/example/api
    include: ['v[0-9].*']
    exclude: ['.*-rc.*']
    reverse: true
    limit: 5

- name: Start the image_tags fact afresh with this task's images
  tagscope.registry.image_tags:
    images: [ghcr.io/example/api]
    merge_facts: false

- name: Options for every registry task of a block, from module_defaults
  module_defaults:
    group/tagscope.registry.registry:
      ca_path: /etc/pki/registry-ca.pem
      timeout: 20
  block:
    - name: Uses the defaults above
      tagscope.registry.image_tags:
        image: registry.example.com:5000/team/app

- name: Several images in one task, one session, tokens shared per registry
  tagscope.registry.image_tags:
    images:
      - ghcr.io/example/api:1.4.2
      - ghcr.io/example/web:1.4.2
      - docker.io/library/redis
    fail_on_missing: true
"""

RETURN = r"""
images:
  description:
    - One entry per reference in O(images), in the same order.
    - Also returned when the task fails because a required tag or platform is missing (O(fail_on_missing),
      O(wait_timeout)), so that a C(failed_when) or a C(rescue) can read what was found.
  returned: success, and failure for missing tags or platforms
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
      description:
        - Every tag of the repository (all pages), after O(include), O(exclude), O(constraint), O(sort) and O(limit).
        - V(null) with O(list_tags=false).
      type: list
      elements: str
      sample: [1.4.0, 1.4.1, 1.4.2, latest]
    exists:
      description:
        - Whether the tag or digest named in the reference exists.
        - For a reference with both, V(name:tag@digest), whether the tag still names that digest; a tag that moved
          counts only with O(allow_moved=true) (see RV(images[].moved)).
        - V(null) for a reference without tag or digest.
      type: bool
      sample: true
    moved:
      description:
        - For a reference V(name:tag@digest), whether the tag now names another digest than the one written.
          RV(images[].digest) is then what the tag names now, RV(images[].expected_digest) the digest written.
        - V(null) for a reference without both a tag and a digest, or when the manifests were not checked.
      type: bool
      sample: false
    expected_digest:
      description: For a reference V(name:tag@digest), the digest written in it; V(null) otherwise.
      type: str
      sample: sha256:54f686500a0129d292433df057efbb0fe45a9f026a7f742afeef0820758d468b
    digest_exists:
      description:
        - For a reference V(name:tag@digest), whether the digest written is still in the repository (whatever its
          tag names now).
      type: bool
      returned: for a reference with both a tag and a digest, when checked
      sample: true
    served_by:
      description:
        - Who answered the check of the tag or digest (or, for a reference without one, the tag list) - the
          image's registry, as in RV(images[].registry), or one of its O(mirrors), as written there.
        - V(null) when nothing was asked of the image.
      type: str
      sample: mirror.example.com:5000
    stale_mirror:
      description:
        - For an image on a registry with O(mirrors), whether a mirror named another digest for the tag of a
          V(name:tag@digest) reference than the registry does. The registry's answer is then the one reported
          (RV(images[].served_by) is the registry), so a stale cache never pairs the tag with a digest the registry
          does not name.
      type: bool
      returned: for an image on a registry with mirrors, when its tag or digest was checked
      sample: false
    latest:
      description:
        - The highest version among the tags left after O(include), O(exclude) and O(constraint)
          (before O(limit)); prereleases only with O(prereleases=true).
        - V(null) when no tag is a version, or with O(list_tags=false).
      type: str
      sample: 1.5.0
    nearest:
      description: For a missing tag, the existing version tags just below and above it (or similar names).
      type: list
      elements: str
      returned: when the tag named in the reference does not exist
      sample: [1.4.1, 1.5.0]
    pinned:
      description:
        - The reference pinned to the digest that exists now, V(registry/repository:tag@sha256:...), the form docker,
          podman and Kubernetes pull exactly; deploy it to get what was gated.
        - Only ever a tag with the digest that tag names now. For a moved V(name:tag@digest), set only with
          O(allow_moved=true), and then with the tag's new digest.
        - V(null) for an image with RV(images[].problems) (not signed by O(signed_by), lacking an attestation, a
          label or the age asked for), whether or not the task fails; it is not the image to deploy.
        - V(null) when the reference names neither tag nor digest, or it does not exist.
      type: str
      sample: ghcr.io/example/api:1.4.2@sha256:54f686500a0129d292433df057efbb0fe45a9f026a7f742afeef0820758d468b
    platforms:
      description: With O(platforms), the platforms the tag or digest offers, such as V(linux/amd64).
      type: list
      elements: str
      sample: [linux/amd64, linux/arm64]
    missing_platforms:
      description: With O(platforms), the required platforms the tag or digest lacks (empty when it has them all).
      type: list
      elements: str
      returned: with O(platforms), for a reference that exists
      sample: [linux/arm64]
    digest:
      description:
        - Digest of the manifest (or manifest list / OCI index) the tag or digest names, from C(Docker-Content-Digest).
          For V(name:tag@digest), the digest the tag names now.
        - V(null) when it does not exist or the reference names neither.
      type: str
      sample: sha256:54f686500a0129d292433df057efbb0fe45a9f026a7f742afeef0820758d468b
    created:
      description:
        - When the image was built, from its config's C(created) (ISO 8601). For an index, a dictionary from each
          platform (those in O(platforms) when set) to its image's C(created).
      type: raw
      returned: with O(inspect), O(require_labels), O(min_age) or O(max_age), for an image that exists
      sample: "2026-11-30T08:12:44Z"
    labels:
      description:
        - The image config's labels. For an index, a dictionary from each platform to its image's labels, and under
          V(index) the index's own C(org.opencontainers.image.*) annotations where it has any.
      type: dict
      returned: with O(inspect), O(require_labels), O(min_age) or O(max_age), for an image that exists
      sample: {org.opencontainers.image.revision: 4f2c1e9, org.opencontainers.image.source: https://github.com/example/api}
    revision:
      description:
        - C(org.opencontainers.image.revision), from the index's annotation or the label all its images agree on.
      type: str
      returned: with O(inspect), for an image that exists
      sample: 4f2c1e9
    source:
      description: C(org.opencontainers.image.source), found like RV(images[].revision).
      type: str
      returned: with O(inspect), for an image that exists
      sample: https://github.com/example/api
    platform_digests:
      description:
        - For an index, the digest of each platform image, the digest a node of that platform actually runs (not the
          index digest in RV(images[].digest)). V(null) for a single image.
      type: dict
      returned: with O(inspect), for an image that exists
      sample: {linux/amd64: "sha256:0b5f...", linux/arm64: "sha256:9c41..."}
    attestations:
      description:
        - The attestations found, from BuildKit attestation manifests in an index, cosign's C(.att) and C(.sbom) tags,
          the OCI referrers API or its tag schema. Each has C(type) (V(sbom), V(provenance) or V(other)),
          C(media_type), C(predicate_type) (when it says) and C(where) it was found.
      type: list
      elements: dict
      returned: with O(inspect) or O(require_attestations), for an image that exists
      sample: [{type: sbom, media_type: application/vnd.in-toto+json, predicate_type: "https://spdx.dev/Document",
                where: index (BuildKit attestation manifest)}]
    signatures:
      description:
        - The cosign signatures found, each with C(verified) (by a key of O(signed_by), naming this image's digest),
          C(key) (the file or fingerprint of the key that verified it), C(where) it was found and the C(reason).
      type: list
      elements: dict
      returned: with O(signed_by), for an image that exists
      sample: [{verified: true, key: /etc/cosign/cosign.pub, where: "tag sha256-54f6....sig", reason: verified}]
    problems:
      description:
        - Why the image fails O(signed_by), O(require_attestations), O(require_labels), O(min_age) or O(max_age),
          one line each; empty when it passes. An image with problems counts as missing (see O(fail_on_missing)).
      type: list
      elements: str
      returned: with any of those options, for an image that exists
      sample: ["no signature found", "no provenance attestation found"]
rate_limits:
  description:
    - What registries said of their pull limits (C(RateLimit-Limit) and C(RateLimit-Remaining) on manifest replies,
      as Docker Hub sends them), by registry. Empty when no registry sent them.
  returned: always
  type: dict
  sample:
    docker.io: {limit: 100, remaining: 76, window: 21600}
missing:
  description: The references whose tag or digest is missing, when O(fail_on_missing) or O(wait_timeout) failed.
  returned: failure, for missing tags
  type: list
  elements: str
  sample: [ghcr.io/example/api:1.4.2]
ansible_facts:
  description: Facts set for the host.
  returned: success
  type: dict
  contains:
    image_tags:
      description: Normalized image name to its list of tags, merged with the fact of earlier tasks.
      type: dict
      sample:
        ghcr.io/example/api: [1.4.0, 1.4.1, 1.4.2, latest]
image:
  description: The reference the failure concerns, when one image failed.
  returned: failure, for one image
  type: str
  sample: ghcr.io/example/api:1.4.2
method:
  description: HTTP method of the request that failed.
  returned: failure, when a request failed
  type: str
  sample: GET
url:
  description: URL of the request that failed, without its query (which may carry account hints).
  returned: failure, when a request failed
  type: str
  sample: https://ghcr.io/v2/example/api/tags/list
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
errors:
  description: When several images failed, one entry per image with its C(msg), C(image), C(method), C(url),
    C(status) and C(code).
  returned: failure, for several images
  type: list
  elements: dict
  sample: [{msg: "ghcr.io/example/web: GET https://ghcr.io/v2/example/web/tags/list: 404 NAME_UNKNOWN", status: 404}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import module_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.signatures import private_keys
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
)
from ansible_collections.tagscope.registry.plugins.module_utils._run import image_tags


def main() -> None:
    module = AnsibleModule(argument_spec=module_argument_spec(), supports_check_mode=True)
    module.no_log_values.update(private_keys(module.params.get("signed_by")))
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    result = image_tags(module.params)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
