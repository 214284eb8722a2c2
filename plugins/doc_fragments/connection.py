# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options shared by the module and the lookup: how to reach registries and who to be. Each is declared in
    # plugins/module_utils/_registry/table.py; tests/unit/plugins/test_options_agree.py checks this text against it.
    DOCUMENTATION = r"""
options:
  username:
    description:
      - User name for the registry (for Harbor robot accounts, the full name such as V(robot$ci)).
      - Sent to the registry only as HTTP Basic credentials, to its token service or, for registries that
        answer with a Basic challenge (ECR, htpasswd), to the registry itself.
      - O(username), O(password) and O(token) belong to one registry and are never sent to another, the registry
        of the task's images when they are all on one, otherwise the one O(auth_registry) names. Images on other
        registries take their credentials from the docker or podman files (see O(auth_file)), or go anonymous.
      - Without any credentials the registry is asked anonymously.
      - The module falls back to E(TAGSCOPE_REGISTRY_USERNAME).
    type: str
  password:
    description:
      - Password or access token for O(username).
      - Never logged or returned.
      - The module falls back to E(TAGSCOPE_REGISTRY_PASSWORD).
    type: str
  token:
    description:
      - "A registry bearer token obtained beforehand, sent as C(Authorization: Bearer) to one registry only: the
        registry of the task's images when they are all on one, otherwise the one O(auth_registry) names. It is
        never sent to another registry, nor to a token service."
      - Takes precedence over O(username) and O(password). Never logged or returned.
      - The module falls back to E(TAGSCOPE_REGISTRY_TOKEN).
    type: str
  auth_registry:
    description:
      - The registry (host and port, such as V(ghcr.io) or V(registry.example.com:5000)) that O(username),
        O(password) and O(token) belong to. They are sent only for images on that registry.
      - Needed when explicit credentials are given and the images are on more than one registry; without it such a
        task fails before any request. It must be the registry of at least one image, or one of their O(mirrors).
      - V(docker.io), V(index.docker.io) and V(https://index.docker.io/v1/) all name Docker Hub.
      - The module falls back to E(TAGSCOPE_REGISTRY_AUTH_REGISTRY).
    type: str
  auth_file:
    description:
      - A docker C(config.json) or podman C(auth.json) to take credentials from, instead of the usual places.
      - Without O(username), O(password), O(token) and O(auth_file), credentials are looked up per registry the
        way docker, podman and skopeo do, in the first of these that has an entry for the image's registry,
        the file E(REGISTRY_AUTH_FILE) names, E(DOCKER_AUTH_CONFIG) (a whole C(config.json) in the variable),
        E(DOCKER_CONFIG)C(/config.json) or C(~/.docker/config.json), E(XDG_RUNTIME_DIR)C(/containers/auth.json)
        (C(/run/containers/$UID/auth.json) when E(XDG_RUNTIME_DIR) is unset, where C(sudo podman login) writes),
        then E(XDG_CONFIG_HOME)C(/containers/auth.json) (C(~/.config/containers/auth.json)). In a file,
        C(credHelpers) for the registry first, then C(credsStore), then C(auths), most specific key first.
        See the credentials guide in the collection's docs.
      - Credentials from a file are only ever sent for images of the registry they were stored for.
    type: path
    aliases:
      - authfile
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate.
      - Set O(ca_path) instead when the registry uses a private CA; V(false) is for registries you trust otherwise.
      - The module falls back to E(TAGSCOPE_REGISTRY_VALIDATE_CERTS).
    type: bool
    aliases:
      - tls_verify
    default: true
  ca_path:
    description:
      - PEM file (or hashed directory) of CA certificates that signed the registry's and its token service's
        certificates.
      - The module falls back to E(TAGSCOPE_REGISTRY_CA_PATH).
    type: path
    aliases:
      - ca_cert
  timeout:
    description:
      - Seconds to wait for a connection and for each answer, from the registry and from its token service.
      - A whole answer must arrive within twice this, so a server that trickles its reply cannot hold the task.
      - The module falls back to E(TAGSCOPE_REGISTRY_TIMEOUT).
    type: float
    default: 30
  concurrency:
    description:
      - How many requests may be in flight at once to one registry. The images of a task are asked concurrently,
        up to this many at a time per registry; results keep the order of the images.
      - V(1) asks one image after the other.
    type: int
    default: 8
  page_size:
    description:
      - How many tags to ask for per page (the V(n) parameter of the tag list API).
      - When unset, the registry chooses. Pages are followed to the end either way.
      - Registries cap it differently (Quay at 100, Distribution 3 and ECR at 1000); a larger value can be refused.
    type: int
  retries:
    description:
      - How many times to retry a request the registry answered with 429, 408, 500, 502, 503 or 504, or whose
        connection dropped. Waits follow C(Retry-After) when the registry sends it (in seconds or as a date),
        otherwise an exponential backoff with jitter (up to 0.5, 1, 2, 4 ... seconds, never over 10).
      - Authentication failures and other 4xx answers are never retried. V(0) disables retries.
    type: int
    default: 4
  retry_max_wait:
    description:
      - The most seconds to spend waiting between retries, over the whole task. A C(Retry-After) longer than
        what is left fails at once, saying when to try again.
    type: float
    default: 60
  http_registries:
    description:
      - Registries (V(host) or V(host:port), as in the image references) to speak to over plain HTTP instead of
        HTTPS, like docker's C(insecure-registries).
      - Credentials then travel unencrypted. A token service over plain HTTP is accepted only for these
        registries, and is only sent credentials when it is on the registry's own host.
    type: list
    elements: str
    default: []
  mirrors:
    description:
      - Pull-through mirrors to read images from instead of their registry, as a dictionary from a registry (as in
        image references; V(docker.io), V(index.docker.io) and V(registry-1.docker.io) all name Docker Hub) to
        an ordered list of mirror hosts, V(host[:port]) or V(host[:port]/path) for a mirror that serves the
        registry under a path (a Harbor proxy cache project), such as V(docker.io) mapped to
        V([mirror.example.com:5000]).
      - Unlike the docker daemon's C(registry-mirrors), which applies to Docker Hub only, any registry can be named.
      - Tag lists, manifests, blobs and referrers of the images on a named registry are asked of its first mirror
        that answers, then of the registry itself when every mirror fails (no connection, a timeout, TLS, 5xx or 429
        after the retries). A mirror that fails so is not asked again during the task, so a dead mirror costs one
        failed attempt, not one per image.
      - A mirror's 404 is not trusted, nor a digest a mirror names for the tag of a V(name:tag@digest) reference
        that differs from the one written; the next mirror or the registry is asked, and the registry's answer
        stands (C(stale_mirror) in the result). C(served_by) in each image's result names who answered.
      - A mirror is a registry of its own, with its own challenge, credentials (from the docker or podman files, for
        the mirror's host) and TLS (O(ca_path), O(validate_certs); list it in O(http_registries) for plain HTTP).
        O(username), O(password) and O(token) are never sent to a mirror, unless O(auth_registry) names it.
    type: dict
  min_remaining:
    description:
      - Stop when a registry says fewer pulls than this remain in its rate-limit window (C(RateLimit-Remaining),
        as Docker Hub sends on manifest replies), before sending it another request. The task fails once, naming
        the registry, the pulls left, the window and when it resets (when the registry says, C(RateLimit-Reset)).
      - Meant for a gate before a rollout, so that a fleet does not start pulling from a registry that will refuse
        it half way. Mirrors keep their own limits and are not counted.
      - Unset, a registry's budget is spent to the end (see O(rate_limit_warning)).
    type: int
"""

    # Where the lookup also reads the shared options from.
    PLUGINS = r"""
options:
  username:
    env:
      - name: TAGSCOPE_REGISTRY_USERNAME
    vars:
      - name: tagscope_registry_username
  password:
    env:
      - name: TAGSCOPE_REGISTRY_PASSWORD
    vars:
      - name: tagscope_registry_password
  token:
    env:
      - name: TAGSCOPE_REGISTRY_TOKEN
    vars:
      - name: tagscope_registry_token
  auth_registry:
    env:
      - name: TAGSCOPE_REGISTRY_AUTH_REGISTRY
    vars:
      - name: tagscope_registry_auth_registry
  auth_file:
    vars:
      - name: tagscope_registry_auth_file
  validate_certs:
    env:
      - name: TAGSCOPE_REGISTRY_VALIDATE_CERTS
    vars:
      - name: tagscope_registry_validate_certs
  ca_path:
    env:
      - name: TAGSCOPE_REGISTRY_CA_PATH
    vars:
      - name: tagscope_registry_ca_path
  timeout:
    env:
      - name: TAGSCOPE_REGISTRY_TIMEOUT
    vars:
      - name: tagscope_registry_timeout
  concurrency:
    vars:
      - name: tagscope_registry_concurrency
  page_size:
    vars:
      - name: tagscope_registry_page_size
  retries:
    vars:
      - name: tagscope_registry_retries
  retry_max_wait:
    vars:
      - name: tagscope_registry_retry_max_wait
  http_registries:
    vars:
      - name: tagscope_registry_http_registries
  mirrors:
    vars:
      - name: tagscope_registry_mirrors
  min_remaining:
    vars:
      - name: tagscope_registry_min_remaining
"""
