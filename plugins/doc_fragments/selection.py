# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options that choose, order and gate on tags, shared by the module and the lookup. Each is declared in
    # plugins/module_utils/_registry/table.py; tests/unit/plugins/test_options_agree.py checks this text against it.
    DOCUMENTATION = r"""
options:
  include:
    description:
      - Keep only tags that match one of these regular expressions (Python C(re) syntax).
      - Anchored at both ends, as if written C(^...$), so V(1[.]4[.].*) keeps V(1.4.0) but not V(11.4.0).
      - A list of patterns, or a single pattern as a string (which is never split at commas, so
        V(v?[0-9]{1,2}\\..*) is one pattern).
    type: raw
  exclude:
    description:
      - Drop tags that match one of these regular expressions; anchored like O(include).
      - A list of patterns, or a single pattern as a string, like O(include).
    type: raw
  constraint:
    description:
      - Keep only version tags within this range, written as comma-separated clauses that must all hold,
        such as V(>=1.2,<2) or V(!=1.4.0,>=1). Operators are V(>=), V(<=), V(>), V(<), V(==) and V(!=);
        a bare version means V(==).
      - Tags that are not versions (V(latest), V(sha-1a2b3c4)) never match a constraint.
      - Versions compare as described in O(sort); V(1.4) equals V(1.4.0). Variants do not count, so V(>=3.19)
        keeps V(3.19) and V(3.19-alpine); a clause that names a variant (V(>=3.19-alpine)) keeps that variant only.
      - A clause that names a prerelease (V(>=1.2.3-alpha.1)) admits prereleases, as in Python's version
        specifiers.
      - As in Python's version specifiers, V(<2) also excludes the prereleases of V(2) (V(2.0.0-rc.1)),
        so that V(>=1,<2) means the 1.x series.
    type: str
  prereleases:
    description:
      - Whether prerelease versions (V(2.0.0-rc.1), V(1.2.0-beta.2)) can match O(constraint) and be the
        C(latest) tag.
      - When V(false), prereleases are still listed unless O(constraint) is set, but never chosen as C(latest).
    type: bool
    default: false
  sort:
    description:
      - V(version) puts version tags first, in version order, then the other tags in lexical order.
        A version is an optional V(v), dot-separated numbers of any count (V(3), V(1.10), V(1.2.3.4)), then
        optionally a prerelease, a variant and build metadata, read the way Renovate's docker versioning reads
        Docker tags. Numbers compare as numbers (V(1.10) after V(1.9)); a prerelease ranks before its release.
      - A prerelease is glued to the numbers (V(3.7.0b1), V(2.0rc1)) or follows a V(-) and starts with a prerelease
        word (V(alpha), V(beta), V(rc), V(pre), V(preview), V(dev), V(snapshot), V(canary), V(nightly), V(next),
        V(a), V(b), V(c), V(m), V(ea), V(cr), any case, such as V(1.0.0-rc.1), V(2.0.0-beta), V(1.2.3-M1)) or is all
        numbers (V(1.0.0-0.3.7)).
      - Any other suffix after V(-) is a variant (V(3.19-alpine), V(1.25-bookworm), V(3.12.1-r1)), each a stable
        release of that variant. Versions of different variants are not compared for C(latest); at equal numbers
        the plain tag sorts first.
      - Build metadata after V(_) (or V(+)), such as V(1.10.0_build.7), marks a rebuild, equal to its release in
        O(constraint), sorted after it, builds ordered by their numbers.
      - V(lexical) sorts all tags as strings.
      - V(none) keeps the registry's order.
    type: str
    default: version
    choices: [version, lexical, none]
  reverse:
    description:
      - Reverse the order, so that with O(sort=version) the newest version comes first
        (the other tags still follow, in lexical order).
    type: bool
    default: false
  limit:
    description:
      - Keep only the first this many tags, after sorting. With O(reverse=true), the newest.
    type: int
  digest_tags:
    description:
      - Keep tags that name a digest, V(sha256-<64 hex>) with or without V(.sig), V(.att) or V(.sbom), where cosign
        keeps an image's signature, attestations and SBOM, and the OCI referrers tag schema its referrers.
      - When V(false), they are left out of the tags, of C(latest), of the nearest tags and of every selection, as
        Flux, C(crane ls -O) and C(oras repo tags --exclude-digest-tags) leave them out.
    type: bool
    default: false
  fail_on_missing:
    description:
      - "Fail when a tag or digest named in a reference does not exist, with a message naming the image,
        the missing tag and the nearest existing tags, such as
        C(1.4.2 not found in ghcr.io/org/app; nearest: 1.4.1, 1.5.0)."
      - When V(false), a missing tag is reported (C(exists=false)) without failing, for C(when) conditions.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for missing tags or digests to appear, polling every O(wait_interval) seconds.
        For pipelines where the push and the deploy race.
      - A tag still missing when the time is up fails the task, whatever O(fail_on_missing) says.
      - V(0) checks once, without waiting.
    type: float
    default: 0
  wait_interval:
    description:
      - Seconds between two checks while waiting (see O(wait_timeout)).
    type: float
    default: 10
  platforms:
    description:
      - Platforms, V(os/architecture[/variant]) such as V(linux/amd64) or V(linux/arm64), that every reference with
        a tag or digest must offer. A reference that lacks one counts as missing, like a tag that was never pushed
        (see O(fail_on_missing)), and the result lists the platforms it has.
      - For an image index or manifest list, the platforms it lists (attestation entries, V(unknown/unknown), are
        not platforms); for a single image, the platform its config names.
      - Matched as docker does, V(linux/arm64/v8) and V(linux/arm64) are the same, V(aarch64) is V(arm64),
        V(x86_64) is V(amd64), and V(amd64) microarchitecture levels are ignored.
      - Costs requests. Existence alone is one C(HEAD) request, which Docker Hub does not count against its pull
        limit; with O(platforms) the manifest is fetched with C(GET) (which Docker Hub counts) and, for a single
        image, its config blob too.
    type: list
    elements: str
  allow_moved:
    description:
      - "For a reference that names both a tag and a digest (V(ghcr.io/org/app:1.4.2@sha256:...), the 1.4.2 that
        was approved), both halves are checked: the tag must still name that digest."
      - When V(false) (the default) and the tag now names another digest, the image is missing like a tag that was
        never pushed (C(exists=false), C(moved=true), C(pinned) unset; see O(fail_on_missing)), and the failure
        says C(1.4.2 in ghcr.io/org/app moved) and names the digest the tag names now and the one the reference
        expects.
      - When V(true), a moved tag counts as there and is reported (C(exists=true), C(moved=true), C(digest) and
        C(pinned) name what the tag names now, C(expected_digest) the digest written), for playbooks that redeploy.
      - A moved tag costs one more C(HEAD) request, which tells whether the written digest is still in the
        repository (C(digest_exists)).
    type: bool
    default: false
  signed_by:
    description:
      - Public keys (PEM text, or the path of a PEM file) as C(cosign generate-key-pair) writes them (ECDSA P-256,
        also P-384, P-521, RSA and Ed25519). Every reference with a tag or digest must carry a cosign signature
        that verifies with one of them and whose payload names the image's own digest.
      - "Read from cosign's tag C(sha256-<hex>.sig), then from the OCI referrers API or its tag schema when the tag
        holds none that verifies. An image fails the gate like a missing tag (see O(fail_on_missing)), saying why:
        C(no signature found), C(signed, but not by any of the given keys), C(the signature names another digest)
        (a replayed signature), C(the signature does not verify)."
      - A path is read on the controller when the task runs there, and shipped as text otherwise.
      - Keyless (Fulcio certificate and Rekor) verification is not supported; a certificate or a private key given
        here is refused.
      - Needs the Python package C(cryptography) where the task runs (the controller has it with ansible-core).
      - Costs at most three requests per image beyond the existence check (the signature manifest, its payload, a
        referrers probe); Docker Hub counts the manifest C(GET) as a pull.
    type: list
    elements: str
  require_attestations:
    description:
      - Attestations every reference with a tag or digest must carry, found in any of the four places they live
        (BuildKit attestation manifests in an index, cosign's C(.att) and C(.sbom) tags, the OCI referrers API and
        its tag schema). An image without one fails the gate like a missing tag, naming what is missing.
      - Only their presence is checked, not their signatures.
    type: list
    elements: str
    choices: [sbom, provenance]
  require_labels:
    description:
      - Image labels every reference with a tag or digest must carry, label to exact value, such as
        C(org.opencontainers.image.revision) set to the commit being deployed.
      - For an index, every platform image (those in O(platforms) when set) must match. A mismatch fails the gate
        like a missing tag, naming the label, the value expected and the value found.
    type: dict
  min_age:
    description:
      - The soak time. An image created less than this long ago (from its config's C(created)) fails the gate.
      - A duration, V(90m), V(12h), V(7d), V(2w), or a number of seconds.
      - A C(created) of the Unix epoch or year 1, as reproducible builds write, is unknown and fails an age bound,
        saying so.
    type: raw
  max_age:
    description:
      - The oldest image to accept. One created longer ago than this fails the gate (a stale rebuild).
      - Written like O(min_age).
    type: raw
  rate_limit_warning:
    description:
      - Warn (once per registry) when a registry says fewer pulls than this remain in its window
        (C(RateLimit-Remaining), as Docker Hub sends on manifest requests). V(0) never warns.
      - The module returns the figures as C(rate_limits) whenever a registry sends them; they cost no extra
        request.
    type: int
    default: 10
"""
