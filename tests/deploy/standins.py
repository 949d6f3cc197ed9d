"""Stand-in images, built locally under the names the compose file and the Dockerfile use.

No image registry is reachable where the smoke test runs. For each image that
docker-compose.yml and the Dockerfile reference (and that the stack does not build itself),
`provide()` builds a stand-in from `standins/` (see its README) and tags it with that exact
name. Every image is first built under an internal tag made from a hash of everything that
goes into it (its build files, its base's tag, its build arguments, the machine's CA
certificates for the Python image), so a repeat run finds it and only re-tags it.

Bases are Debian minbase trees made by debootstrap and loaded with `docker import`.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.deploy.docker_engine import apt_install, run

STANDINS = Path(__file__).with_name("standins")
TAG_PREFIX = "bank-webhook-ledger-standin"
MACHINE_CERTIFICATES = Path("/usr/local/share/ca-certificates")
DEBIAN_MIRROR = os.environ.get("STANDIN_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DEBOOTSTRAP_TIMEOUT_SECONDS = 900
BUILD_TIMEOUT_SECONDS = 1200
# What goes into a base image; a change here makes new bases.
BASE_RECIPE = {
    "debootstrap": ["--variant=minbase"],
    "remove": ["var/cache/apt/archives/*.deb", "var/lib/apt/lists/*", "var/log/*.log"],
    "changes": [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        'CMD ["bash"]',
    ],
}
# Suites for images whose tag names none; PostgreSQL's stand-in needs trixie for release 17.
DEFAULT_SUITES = {"python": "bookworm", "redis": "bookworm", "postgres": "trixie"}


@dataclass(frozen=True)
class Standin:
    """How to build the stand-in for one referenced image."""

    image: str  # the name it is tagged with, e.g. "postgres:17.11-bookworm"
    kind: str  # python, postgres, redis, minio or mc
    context: str  # directory under standins/
    base: str  # "debian:<suite>", or the kind of another stand-in it is built on
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)


def split_image(image: str) -> tuple[str, str]:
    """(repository, tag) of an image reference; Docker Hub's library/ prefix is dropped."""
    name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name, tag or "latest"


def _suite(tag: str, kind: str) -> str:
    for suite in ("bookworm", "trixie", "bullseye"):
        if tag == suite or tag.endswith(f"-{suite}") or f"-{suite}-" in tag:
            return suite
    return DEFAULT_SUITES[kind]


def standin_for(image: str) -> Standin:
    """The stand-in that replaces `image`; ValueError for an image without one."""
    repository, tag = split_image(image)
    if repository == "python":
        return Standin(image, "python", "python", f"debian:{_suite(tag, 'python')}")
    if repository == "postgres":
        major = re.match(r"(\d+)", tag)
        if major is None:
            raise ValueError(
                f"{image}: the stand-in needs a tag that starts with the major version"
            )
        # Debian has PostgreSQL 17 in trixie, whatever suite the official tag names.
        return Standin(
            image, "postgres", "postgres", "debian:trixie", build_args={"PG_MAJOR": major.group(1)}
        )
    if repository == "redis":
        return Standin(image, "redis", "redis", "debian:bookworm")
    if repository == "quay.io/minio/minio":
        return Standin(image, "minio", "minio", "python", target="minio")
    if repository == "quay.io/minio/mc":
        return Standin(image, "mc", "minio", "python", target="mc")
    raise ValueError(f"no stand-in for {image}: add one under {STANDINS}")


def _digest_tree(digest, directory: Path) -> None:
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        digest.update(f"{relative}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(path.read_bytes())


def machine_certificates() -> list[Path]:
    return sorted(MACHINE_CERTIFICATES.glob("*.crt")) if MACHINE_CERTIFICATES.is_dir() else []


class Builder:
    """Builds bases and stand-ins with the docker CLI `cli`; `log` receives progress lines."""

    def __init__(self, cli: str, log=print):
        self.cli = cli
        self.log = log
        self.built: dict[object, str] = {}  # a base's name or a stand-in's recipe -> tag

    def _docker(self, *args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        # The classic builder: the stand-ins' Dockerfiles need nothing of BuildKit, and a
        # docker CLI without the buildx plugin cannot use BuildKit at all.
        environment = {**os.environ, "DOCKER_BUILDKIT": "0"}
        return run([self.cli, *args], timeout, env=environment, **kwargs)

    def image_exists(self, tag: str) -> bool:
        return self._docker("image", "inspect", "--format", "{{.Id}}", tag).returncode == 0

    def tag(self, source: str, name: str) -> None:
        result = self._docker("tag", source, name)
        if result.returncode:
            raise RuntimeError(f"docker tag {source} {name}: {result.stderr}")

    def debian_base(self, suite: str) -> str:
        name = f"debian:{suite}"
        if name in self.built:
            return self.built[name]
        recipe = json.dumps(
            {**BASE_RECIPE, "suite": suite, "mirror": DEBIAN_MIRROR}, sort_keys=True
        )
        tag = f"{TAG_PREFIX}/debian-{suite}:{hashlib.sha256(recipe.encode()).hexdigest()[:16]}"
        if not self.image_exists(tag):
            self._debootstrap(suite, tag)
        self.built[name] = tag
        return tag

    def _debootstrap(self, suite: str, tag: str) -> None:
        if shutil.which("debootstrap") is None:
            apt_install("debootstrap")
        self.log(f"debootstrap {suite} -> {tag}")
        with tempfile.TemporaryDirectory(prefix=f"standin-{suite}-", dir="/var/tmp") as root:
            tree = Path(root) / "tree"
            result = run(
                ["debootstrap", *BASE_RECIPE["debootstrap"], suite, str(tree), DEBIAN_MIRROR],
                DEBOOTSTRAP_TIMEOUT_SECONDS,
            )
            if result.returncode:
                raise RuntimeError(f"debootstrap {suite} failed:\n{result.stdout[-2000:]}")
            for pattern in BASE_RECIPE["remove"]:
                for path in tree.glob(pattern):
                    if path.is_file() or path.is_symlink():
                        path.unlink()
            archive = Path(root) / "tree.tar"
            packed = run(["tar", "-C", str(tree), "-cf", str(archive), "."], 300)
            if packed.returncode:
                raise RuntimeError(f"tar of the {suite} tree failed: {packed.stderr}")
            changes = [arg for change in BASE_RECIPE["changes"] for arg in ("--change", change)]
            imported = self._docker("import", *changes, str(archive), tag, timeout=600)
            if imported.returncode:
                raise RuntimeError(f"docker import {tag} failed: {imported.stderr}")

    def standin(self, standin: Standin) -> str:
        """The internal tag of the stand-in, built unless an image of that hash exists."""
        recipe = (
            standin.kind,
            standin.base,
            standin.target,
            tuple(sorted(standin.build_args.items())),
        )
        if recipe in self.built:
            return self.built[recipe]
        if standin.base.startswith("debian:"):
            base = self.debian_base(standin.base.split(":", 1)[1])
        else:
            base = self.standin(standin_for_kind(standin.base))
        context = STANDINS / standin.context
        certificates = machine_certificates() if standin.kind == "python" else []
        digest = hashlib.sha256()
        digest.update(
            json.dumps([base, standin.target, standin.build_args], sort_keys=True).encode()
        )
        _digest_tree(digest, context)
        for certificate in certificates:
            digest.update(certificate.name.encode() + b"\0" + certificate.read_bytes())
        tag = f"{TAG_PREFIX}/{standin.kind}:{digest.hexdigest()[:16]}"
        if not self.image_exists(tag):
            self._build(standin, context, base, certificates, tag)
        self.built[recipe] = tag
        return tag

    def _build(self, standin: Standin, context: Path, base: str, certificates, tag: str) -> None:
        self.log(f"building the {standin.kind} stand-in -> {tag}")
        with tempfile.TemporaryDirectory(prefix=f"standin-{standin.kind}-") as directory:
            build_context = Path(directory) / "context"
            shutil.copytree(context, build_context)
            if standin.kind == "python":
                (build_context / "certs").mkdir()
                for certificate in certificates:
                    shutil.copy2(certificate, build_context / "certs" / certificate.name)
            arguments = ["build", "--build-arg", f"BASE={base}", "-t", tag]
            for name, value in sorted(standin.build_args.items()):
                arguments += ["--build-arg", f"{name}={value}"]
            if standin.target:
                arguments += ["--target", standin.target]
            result = self._docker(*arguments, str(build_context), timeout=BUILD_TIMEOUT_SECONDS)
            if result.returncode:
                raise RuntimeError(
                    f"building the {standin.kind} stand-in failed:\n"
                    f"{(result.stdout + result.stderr)[-4000:]}"
                )


def standin_for_kind(kind: str) -> Standin:
    """The stand-in of a kind when another is built on it (the image name is not used)."""
    images = {"python": "python:bookworm", "redis": "redis", "postgres": "postgres:17"}
    return standin_for(images.get(kind, f"quay.io/minio/{kind}"))


def provide(images: list[str], cli: str, log=print) -> dict[str, str]:
    """Build (or find) a stand-in for every image and tag it with that name; {image: tag}."""
    builder = Builder(cli, log)
    provided = {}
    for image in images:
        internal = builder.standin(standin_for(image))
        builder.tag(internal, image)
        provided[image] = internal
    return provided
