"""No URL fetch of any kind during render (issue 10 item 6).

A real HTTP server on 127.0.0.1 stands for a loopback-only service (the controller's own
/metrics, a sidecar): it records every request it gets, and it must never get one, whatever
field of whichever kustomization names it. Each case must also fail with a `RenderError`
naming the kustomization file and the field.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller import render
from controller.render import errors, kustomize, limits, paths

pytestmark = pytest.mark.integration

STOLEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stolen\n"


class Recorder:
    """A loopback HTTP server answering every GET with a manifest, recording each path."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.hits.append(self.path)
                body = STOLEN.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def k(doc: dict[str, Any]) -> str:
    return json.dumps(doc)


def builtin_cm_generator(url: str) -> dict[str, Any]:
    return {"apiVersion": "builtin", "kind": "ConfigMapGenerator", "metadata": {"name": "g"},
            "files": [f"{url}/metrics"]}


def cases(url: str) -> dict[str, tuple[dict[str, str], str]]:
    """name -> (files of the checkout, the field the error must name)."""
    m = f"{url}/metrics"
    base = {"k/cm.yaml": STOLEN.replace("stolen", "a")}
    plain: dict[str, tuple[dict[str, Any], str]] = {
        "configMapGenerator.files": ({"configMapGenerator": [{"name": "c", "files": [m]}]},
                                     "configMapGenerator[0].files[0]"),
        "configMapGenerator.files key=url": (
            {"configMapGenerator": [{"name": "c", "files": [f"metrics={m}"]}]},
            "configMapGenerator[0].files[0]"),
        "configMapGenerator.envs": ({"configMapGenerator": [{"name": "c", "envs": [m]}]},
                                    "configMapGenerator[0].envs[0]"),
        "secretGenerator.env": ({"secretGenerator": [{"name": "s", "env": m}]},
                                "secretGenerator[0].env"),
        "secretGenerator.files file://": (
            {"secretGenerator": [{"name": "s", "files": ["file:///etc/hostname"]}]},
            "secretGenerator[0].files[0]"),
        "patches.path": ({"resources": ["cm.yaml"], "patches": [{"path": m}]},
                         "patches[0].path"),
        "patchesStrategicMerge": ({"resources": ["cm.yaml"], "patchesStrategicMerge": [m]},
                                  "patchesStrategicMerge[0]"),
        "patchesJson6902.path": (
            {"resources": ["cm.yaml"], "patchesJson6902": [
                {"target": {"version": "v1", "kind": "ConfigMap", "name": "a"}, "path": m}]},
            "patchesJson6902[0].path"),
        "replacements.path": ({"resources": ["cm.yaml"], "replacements": [{"path": m}]},
                              "replacements[0].path"),
        "resources": ({"resources": [m]}, "resources[0]"),
        "resources git-style": ({"resources": ["github.com/org/repo//base?ref=v1"]},
                                "resources[0]"),
        "bases": ({"bases": [m]}, "bases[0]"),
        "components": ({"components": [m]}, "components[0]"),
        "generators": ({"generators": [m]}, "generators[0]"),
        "transformers": ({"resources": ["cm.yaml"], "transformers": [m]}, "transformers[0]"),
        "validators": ({"resources": ["cm.yaml"], "validators": [m]}, "validators[0]"),
        "openapi.path": ({"resources": ["cm.yaml"], "openapi": {"path": m}}, "openapi.path"),
        "crds": ({"resources": ["cm.yaml"], "crds": [m]}, "crds[0]"),
        "configurations": ({"resources": ["cm.yaml"], "configurations": [m]},
                           "configurations[0]"),
        "helmCharts": ({"helmCharts": [{"name": "x", "repo": url, "version": "1"}]},
                       "helmCharts"),
        "inline generator": (
            {"generators": [json.dumps(builtin_cm_generator(url), indent=1)]},
            "generators[0]"),
    }
    out = {name: ({**base, "k/kustomization.yaml": k(doc)}, field)
           for name, (doc, field) in plain.items()}
    out["generator config file"] = ({
        **base, "k/kustomization.yaml": k({"generators": ["gen.yaml"]}),
        "k/gen.yaml": json.dumps(builtin_cm_generator(url))}, "generators[0]")
    out["transformer config file"] = ({
        **base, "k/kustomization.yaml": k({"resources": ["cm.yaml"], "transformers": ["t.yaml"]}),
        "k/t.yaml": json.dumps({"apiVersion": "builtin", "kind": "PatchTransformer",
                                "metadata": {"name": "t"}, "path": m})}, "transformers[0]")
    out["generator directory"] = ({
        **base, "k/kustomization.yaml": k({"generators": ["gen"]}),
        "k/gen/kustomization.yaml": k({"resources": ["g.yaml"]}),
        "k/gen/g.yaml": json.dumps(builtin_cm_generator(url))}, "resources[0]")
    out["nested base"] = ({
        **base, "k/kustomization.yaml": k({"resources": ["../base"]}),
        "base/kustomization.yaml": k({"configMapGenerator": [{"name": "c", "files": [m]}]})},
        "configMapGenerator[0].files[0]")
    return out


CASE_NAMES = list(cases("http://x"))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_no_kustomize_field_can_make_the_render_fetch_a_url(
    tmp_path: Path, recorder: Recorder, case: str
) -> None:
    files, field = cases(recorder.url)[case]
    root = write(tmp_path / "repo", files)
    with pytest.raises(errors.RenderError) as caught:
        render.render(root, path="k")
    message = str(caught.value)
    assert recorder.hits == []
    assert field in message
    assert "kustomization.yaml" in message
    assert str(tmp_path) not in message


def test_a_plugin_that_is_not_builtin_is_refused(tmp_path: Path, recorder: Recorder) -> None:
    root = write(tmp_path / "repo", {
        "k/kustomization.yaml": k({"generators": ["gen.yaml"]}),
        "k/gen.yaml": json.dumps({"apiVersion": "someteam.example.com/v1", "kind": "Fetcher",
                                  "metadata": {"name": "f"}, "url": recorder.url})})
    with pytest.raises(errors.RenderError, match=r"generators\[0\].*not a builtin"):
        render.render(root, path="k")
    assert recorder.hits == []


def test_a_generators_directory_may_not_leave_the_checkout(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {
        "kustomization.yaml": k({"resources": ["g.yaml"]}),
        "g.yaml": json.dumps({"apiVersion": "builtin", "kind": "ConfigMapGenerator",
                              "metadata": {"name": "g"}, "literals": ["a=b"]})})
    root = write(tmp_path / "repo", {"k/kustomization.yaml": k({"generators": ["gen", "up"]})})
    (root / "k" / "gen").symlink_to(outside)
    with pytest.raises(errors.PathEscapeError, match=r"symlink: k/gen"):
        render.render(root, path="k")
    (root / "k" / "gen").unlink()
    (root / "k" / "kustomization.yaml").write_text(k({"generators": ["../../outside"]}))
    with pytest.raises(errors.PathEscapeError, match=r"generators\[0\]"):
        render.render(root, path="k")


def test_local_generators_transformers_and_literal_urls_still_render(tmp_path: Path) -> None:
    if shutil.which("kustomize") is None and shutil.which("kubectl") is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    root = write(tmp_path / "repo", {
        "k/kustomization.yaml": k({
            "resources": ["cm.yaml"], "generators": ["gen.yaml"],
            "configMapGenerator": [{"name": "links", "literals": ["home=https://example.com/x"],
                                    "files": ["conf=settings.ini"]}],
            "patches": [{"path": "patch.yaml"}]}),
        "k/cm.yaml": STOLEN.replace("stolen", "a"),
        "k/settings.ini": "mode=on\n",
        "k/patch.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                        "data: {patched: 'yes'}\n",
        "k/gen.yaml": json.dumps({"apiVersion": "builtin", "kind": "ConfigMapGenerator",
                                  "metadata": {"name": "generated"}, "literals": ["x=y"]}),
    })
    objects = render.render(root, path="k")
    by_name = {o["metadata"]["name"].rsplit("-", 1)[0] if o["metadata"]["name"] != "a"
               else "a": o for o in objects}
    assert by_name["links"]["data"] == {"home": "https://example.com/x", "conf": "mode=on\n"}
    assert by_name["generated"]["data"] == {"x": "y"}
    assert by_name["a"]["data"] == {"patched": "yes"}


def test_kustomize_itself_runs_without_network_even_past_the_checks(
    tmp_path: Path, recorder: Recorder
) -> None:
    """Defence in depth: call the runner directly, skipping `kustomization.check_tree`."""
    if not kustomize.network_sandbox():
        pytest.skip("no user namespaces here: the field checks are the only fence")
    root = write(tmp_path / "repo", {"k/kustomization.yaml": k(
        {"configMapGenerator": [{"name": "c", "files": [f"{recorder.url}/metrics"]}]})})
    real = paths.real_root(root)
    with pytest.raises(errors.RenderError, match="kustomize build failed"):
        kustomize._build(real, str(Path(real) / "k"), caps=limits.Limits())
    assert recorder.hits == []
