"""Sphinx configuration of the TinyTorch tiers site (``nox -s docs``).

Pages under ``_generated/`` (one per tier and module, milestones, glossary, competency
matrix, API index) are written by the local extension ``_ext/tinytorch_docs.py`` from
the lessons, the tiers' metadata and the repository's own tools at the start of every
build, so the site cannot drift from the code. Nothing is fetched from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "TinyTorch tiers"
author = "TinyTorch tiers maintainers"
copyright = "TinyTorch tiers maintainers"

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "tinytorch_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "glossary.toml", "competency.toml"]
root_doc = "index"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: _ext/tinytorch_docs.py writes one automodule page per installed module.
# Document each object once, where it is defined (packages re-export through __all__).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
add_module_names = False

html_theme = "pydata_sphinx_theme"
html_title = "TinyTorch tiers"
html_static_path = ["_static"]
html_css_files = ["tinytorch.css"]
html_theme_options = {
    "navigation_depth": 3,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    # The milestones page gives its wide figures the whole width: no sidebars there.
    "secondary_sidebar_items": {"**": ["page-toc"], "_generated/milestones": []},
}
html_sidebars = {"index": [], "_generated/milestones": []}
html_last_updated_fmt = None
html_copy_source = False

# Offline and strict: no intersphinx, every warning is an error under -W.
nitpicky = False
