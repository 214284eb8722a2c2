"""The tagscope.registry test kit: a real Distribution registry on 127.0.0.1.

``python -m tests.kit up`` starts it and ``python -m tests.kit down`` stops it;
pytest, molecule and the demo use the same code (see ``kit.py``).

Supply chain (``supply_chain.py``, written from cosign's, BuildKit's and the OCI
distribution spec's formats): ``kit["supply_chain"]`` (``kit_supply_chain`` in
``vars.json``) holds

- ``public_key`` (cosign.pub, ECDSA P-256 PKIX PEM), ``public_key_pem`` (its
  text), ``other_public_key``, ``rsa_public_key`` (RSA-2048, PKCS#1 v1.5 SHA-256),
  ``ed25519_public_key`` (pure Ed25519): paths to PEM files in the kit's
  ``supply-chain/`` directory, with ``private_key`` (the kit key's PKCS#8 PEM,
  0600, only for tests that must refuse a private key) and ``dir``;
- ``images``: case -> ``host:port/signed/...:tag`` (anonymous pull on ``signed/``),
  ``digests``: case -> its digest, ``repositories``: ``signatures``
  (``signed/app``), ``attestations`` (``signed/attested``), ``dated``
  (``signed/dated``);
- signature cases (``signed/app``): ``signed`` (kit key), ``other_key``,
  ``two_keys`` (other key's layer, then the kit key's), ``replayed`` (a valid
  kit-key signature naming ``replayed_names``, the digest of ``signed``),
  ``tampered`` (payload changed after signing), ``two_signatures`` (a bad layer,
  then a good one), ``malformed`` (a signature that is not base64), ``unsigned``,
  ``rsa``, ``ed25519``, ``index_signed`` (an index signed by its own digest),
  ``fallback_signed`` (signature only in the referrers tag, cosign's OCI 1.1
  form); ``verifies_with``: case -> the key names (``kit``, ``other``, ``rsa``,
  ``ed25519``) with a signature that verifies and names the case's own digest;
- attestation cases (``signed/attested``): ``buildkit`` and ``buildkit_legacy``
  (indexes with BuildKit attestation manifests, SPDX and SLSA v0.2),
  ``cosign_att`` (``.att``: CycloneDX, SLSA v1, a vulnerability scan),
  ``cosign_sbom`` (``.sbom`` only), ``referrers_tag`` (SPDX and in-toto SLSA
  v0.2 in the ``sha256-<hex>`` referrers tag), ``no_attestations``;
  ``attestations``: case -> sorted types (``other``, ``provenance``, ``sbom``);
- dated cases (``signed/dated``): ``fresh`` (created a minute before the kit
  started), ``old`` (400 days before), ``epoch`` (1970-01-01T00:00:00Z),
  ``year_one`` (0001-01-01T00:00:00Z), ``no_created``; indexes
  ``labelled_index`` (revision/source labels and index annotations),
  ``annotated_index`` (index annotations only), ``mixed_index`` (linux/arm64
  labelled ``other_revision``); ``created``: case -> the config's ``created``
  (None when absent; for an index, its platform images'); ``platform_digests``:
  index case -> ``{"linux/amd64": ..., "linux/arm64/v8": ...}``;
- ``revision``, ``other_revision``, ``source``: the label and annotation values
  (``org.opencontainers.image.revision`` / ``.source``) every seeded image carries
  unless said otherwise.

Mirror: ``Kit.mirror_up()`` (the ``kit_mirror`` fixture) starts, on demand, a
pull-through mirror of the token registry (Distribution in proxy mode, its own
storage, asking its upstream as alice); ``kit["mirror_registry"]`` is its
``host:port``, and its access log ``mirror_registry.log``.

Distribution 2.8 has no referrers API (404): ``referrers.ReferrersRegistry`` is a
fault-server handler that answers ``GET /v2/<name>/referrers/<digest>``.
``supply_chain.seed_signed_fleet(kit)`` pushes, on demand, ``signed/r01..r20:1.0``
signed by the kit key (for the benchmark; the kit does not start with them).
"""
