"""A real nginx front door for tests: a throwaway certificate, the rendered deploy config, the process."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devtools.certs import throwaway_cert
from tests.conftest import ROOT

__all__ = ["FrontDoor", "throwaway_cert", "upstreams"]

NGINX = "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx" / "wagerbabe.conf.template"
NAMES = ("SERVER_NAME", "HTTP_PORT", "HTTPS_PORT", "REDIRECT_PORT", "CERT", "KEY", "UPSTREAMS")
VARIABLES = " ".join("${WB_" + name + "}" for name in NAMES)




def upstreams(rest: list[int], push: list[int]) -> str:
    """An upstreams file like deploy/nginx/upstreams.conf.example for these ports."""
    r = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in rest)
    w = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in push)
    return (f"upstream wagerbabe_rest {{\n{r}    keepalive 32;\n}}\n"
            f"upstream wagerbabe_push {{\n    least_conn;\n{w}}}\n")


@dataclass
class FrontDoor:
    """nginx running the rendered front-door config under ``folder``."""

    folder: Path
    http_port: int
    https_port: int
    cert: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def render(self, rest: list[int], push: list[int]) -> None:
        """Write the upstreams and the site config (envsubst, as in production) and the nginx.conf."""
        ups = self.folder / "upstreams.conf"
        ups.write_text(upstreams(rest, push))
        key = self.folder / "front.key"
        env = {**os.environ, "WB_SERVER_NAME": "localhost 127.0.0.1", "WB_HTTP_PORT": str(self.http_port),
               "WB_HTTPS_PORT": str(self.https_port), "WB_REDIRECT_PORT": f":{self.https_port}",
               "WB_CERT": str(self.cert), "WB_KEY": str(key), "WB_UPSTREAMS": str(ups)}
        site = subprocess.run(["envsubst", VARIABLES], input=TEMPLATE.read_text(), env=env, capture_output=True,
                              text=True, check=True).stdout
        (self.folder / "wagerbabe.conf").write_text(site)
        temp = self.folder / "temp"
        temp.mkdir(exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} warn;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  include /etc/nginx/mime.types;\n  access_log {self.folder / 'access.log'};\n"
            f"  client_body_temp_path {temp}/body;\n  proxy_temp_path {temp}/proxy;\n"
            f"  fastcgi_temp_path {temp}/fastcgi;\n  uwsgi_temp_path {temp}/uwsgi;\n  scgi_temp_path {temp}/scgi;\n"
            f"  include {self.folder / 'wagerbabe.conf'};\n}}\n")

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"), "-e",
                str(self.folder / "error.log"), *extra]

    def check(self) -> None:
        """``nginx -t`` on the rendered config."""
        out = subprocess.run(self.command("-t"), capture_output=True, text=True)
        assert out.returncode == 0, out.stderr

    def start(self) -> None:
        self.check()
        self.proc = subprocess.Popen(self.command("-g", "daemon off;"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

    def reload(self) -> None:
        """Re-read the config (as ``nginx -s reload``): new workers, old ones finish their requests."""
        self.check()
        subprocess.run(self.command("-s", "reload"), check=True, capture_output=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
