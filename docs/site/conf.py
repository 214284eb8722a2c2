# Copyright: tagscope.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sphinx configuration of the collection's HTML docs site (``make docs``).

Made from what ``antsibull-docs sphinx-init`` writes, less intersphinx: the build runs without network (CI and
the developers' machines reach package registries only), and an inventory that cannot be fetched is a warning,
which ``-W`` turns into a failed build. The few labels of the Ansible docs that antsibull-docs' pages refer to are
linked below instead, to the pages intersphinx would have found them on.
"""

from __future__ import annotations

import typing as t

from docutils import nodes

project = "tagscope.registry"
copyright = "tagscope.registry contributors"  # noqa: A001 - the name Sphinx reads
title = "tagscope.registry"
html_short_title = "tagscope.registry"
html_title = "tagscope.registry"

extensions = ["sphinx_antsibull_ext"]

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
# Every reference must resolve: a dangling one is a warning, and the build allows none.
nitpicky = True

ANSIBLE_DOCS = "https://docs.ansible.com/ansible/latest/"
# Label -> (page, title) in the Ansible docs, for the references antsibull-docs writes into its pages.
ANSIBLE_LABELS = {
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "action_plugins": ("plugins/action.html", "Action plugins"),
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
}


def _ansible_label(app: t.Any, env: t.Any, node: nodes.Element, contnode: nodes.Element) -> nodes.reference | None:
    """Resolve ``:ref:`` to a known label of the Ansible docs; anything else stays unresolved (and fails the
    build)."""
    if node.get("refdomain") != "std" or node.get("reftype") != "ref":
        return None
    found = ANSIBLE_LABELS.get(node.get("reftarget", ""))
    if found is None:
        return None
    page, label_title = found
    reference = nodes.reference("", "", internal=False, refuri=ANSIBLE_DOCS + page)
    # An explicit title (`text <label>`) is kept; a bare label shows the page's title, as intersphinx would.
    reference += contnode if node.get("refexplicit") else nodes.inline(label_title, label_title)
    return reference


def setup(app: t.Any) -> dict[str, t.Any]:
    app.connect("missing-reference", _ansible_label)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
