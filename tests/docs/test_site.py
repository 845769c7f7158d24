"""The documentation site builds strictly, covers the whole public API, and renders as a reader sees it.

The site is built once (``mkdocs build --strict``); every public name of ``amaml`` and its
packages must have an entry (an anchor) in the API reference. Then the home page, a guide and an
API page are opened in headless Chromium: their maths must be typeset by KaTeX and their code
highlighted. The same check on a site built without the maths extension finds no typeset maths,
so it can fail.
"""

import importlib
import inspect
import os
import re

import pytest
from docsite import CHROMIUM, ROOT, build, highlighted_code, katex_maths, rendered_dom, without_maths

import amaml

SUBPACKAGES = ("data", "distributed", "experiments", "losses", "models", "tasks", "train")
PACKAGES = ["amaml", *(f"amaml.{p}" for p in SUBPACKAGES)]
pytestmark = pytest.mark.xdist_group("docs-site")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The strictly built site: `make test` passes the one `make docs` just built (AMAML_SITE); else build it."""
    if os.environ.get("AMAML_SITE"):
        return ROOT / os.environ["AMAML_SITE"]
    out = tmp_path_factory.mktemp("site")
    done = build(out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def public_names(module):
    for name in getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]:
        if not inspect.ismodule(getattr(module, name)):
            yield name


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_has_an_entry_in_the_api_reference(site, package):
    module = importlib.import_module(package)
    page = site / "api" / f"{'core' if package == 'amaml' else package.split('.')[1]}.html"
    anchors = set(re.findall(r'id="([\w.]+)"', page.read_text()))
    missing = [name for name in public_names(module) if f"{package}.{name}" not in anchors]
    assert not missing, f"{package}: no API entry for {missing}"


def test_the_site_publishes_pages_and_assets_not_the_build_s_own_code(site):
    stray = sorted(str(p.relative_to(site)) for p in site.rglob("*.py"))
    assert not stray, f"build code copied into the site: {stray}"


def test_the_package_has_no_stray_public_names():
    """What ``import amaml`` exposes besides its subpackages is what ``__all__`` declares.

    (Subpackages such as ``amaml.cli`` become attributes when another test imports them.)"""

    def names(candidates):
        return {n for n in candidates if not n.startswith("_") and not inspect.ismodule(getattr(amaml, n))}

    assert names(dir(amaml)) == names(amaml.__all__)


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (`make browser` installs Debian's)")


@needs_chromium
@pytest.mark.parametrize("page", ["index.html", "concepts.html", "api/core.html"])
def test_pages_render_maths_and_code_in_a_browser(site, page):
    dom = rendered_dom(site / page)
    assert katex_maths(dom) >= 1, f"{page}: no formula typeset"
    assert highlighted_code(dom) >= 1, f"{page}: no highlighted code block"
    assert "katex-error" not in dom


@needs_chromium
def test_without_the_maths_extension_the_browser_check_fails(tmp_path):
    out = tmp_path / "site"
    done = build(out, without_maths(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert katex_maths(rendered_dom(out / "concepts.html")) == 0
