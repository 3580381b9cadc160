"""The rolling deploy's upstreams file: nodes out of rotation are marked down, and nginx accepts it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT
from tests.deploy.frontdoor import FrontDoor, throwaway_cert


def _rolling() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rolling_deploy", ROOT / "deploy" / "rolling_deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["rolling_deploy"] = module
    spec.loader.exec_module(module)
    return module


def test_a_node_out_of_rotation_is_marked_down_and_nginx_accepts_the_file(tmp_path: Path) -> None:
    rd = _rolling()
    nodes = [rd.Node("restapi", "127.0.0.1", 18080), rd.Node("restapi", "127.0.0.1", 18090),
             rd.Node("pushd", "127.0.0.1", 18081)]
    text = rd.upstreams_text(nodes, frozenset({nodes[1]}))
    assert "server 127.0.0.1:18090 max_fails=1 fail_timeout=5s down;" in text
    assert "server 127.0.0.1:18080 max_fails=1 fail_timeout=5s;" in text
    assert "upstream wagerbabe_push {\n    least_conn;\n    server 127.0.0.1:18081" in text
    door = FrontDoor(tmp_path, 18443, 18444, throwaway_cert(tmp_path)[0])
    door.render([18080], [18081])
    (tmp_path / "upstreams.conf").write_text(text)
    door.check()  # nginx -t
