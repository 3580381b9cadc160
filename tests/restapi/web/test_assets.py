"""Hashed asset names: content hashes, import rewriting as a hash chain, gzip, cycles refused."""

from __future__ import annotations

import gzip
import re

import pytest

from restapi.web.assets import MIN_GZIP, AssetCycle, build, hashed_name


def test_hashed_name_changes_with_content_and_keeps_the_extension() -> None:
    a, b = hashed_name("app.js", b"one"), hashed_name("app.js", b"two")
    assert a != b and re.fullmatch(r"app\.[0-9a-f]{10}\.js", a) and a.endswith(".js")


def test_relative_imports_point_at_hashed_names_and_a_change_renames_importers() -> None:
    sources = {"api.js": b"export const x = 1;\n", "ui.js": b'import { x } from "./api.js";\nexport { x };\n',
               "page.js": b"import { x } from './ui.js';\nimport('./api.js');\n", "app.css": b"body{}"}
    first = build(sources)
    page = first.files[first.url("page.js").rsplit("/", 1)[1]].body.decode()
    assert first.url("ui.js").rsplit("/", 1)[1] in page and first.url("api.js").rsplit("/", 1)[1] in page
    second = build({**sources, "api.js": b"export const x = 2;\n"})
    # api.js changed, so every module that (transitively) imports it is renamed too; the CSS is not.
    for name in ("api.js", "ui.js", "page.js"):
        assert first.url(name) != second.url(name)
    assert first.url("app.css") == second.url("app.css")
    assert first.version() != second.version()


def test_a_modules_graph_lists_everything_it_imports_directly_or_not() -> None:
    bundle = build({"api.js": b"export const x = 1;\n", "ui.js": b'import { x } from "./api.js";\n',
                    "live.js": b'import { x } from "./api.js";\n',
                    "board.js": b"import './ui.js';\nimport { y } from \"./live.js\";\n", "app.css": b"body{}"})
    assert bundle.graph("board.js") == ["api.js", "live.js", "ui.js"]
    assert bundle.graph("ui.js") == ["api.js"] and bundle.graph("api.js") == [] and bundle.graph("app.css") == []


def test_import_cycles_and_missing_modules_are_refused() -> None:
    with pytest.raises(AssetCycle):
        build({"a.js": b'import "./b.js";', "b.js": b'import "./a.js";'})
    with pytest.raises(KeyError):
        build({"a.js": b'import "./nope.js";'})


def test_large_text_assets_are_precompressed_and_tiny_ones_are_not() -> None:
    big = b"body { color: red; }\n" * 100
    bundle = build({"big.css": big, "tiny.css": b"a{}"})
    asset = bundle.files[bundle.url("big.css").rsplit("/", 1)[1]]
    assert asset.gz is not None and gzip.decompress(asset.gz) == big and len(asset.gz) < len(big)
    assert bundle.files[bundle.url("tiny.css").rsplit("/", 1)[1]].gz is None
    assert len(b"a{}") < MIN_GZIP
