"""Packages ready to publish: the installed distribution works outside the checkout (templates and
the default contract ship inside the wheel; nox installs polysdk non-editable, so this runs against
the built wheel), and every generated SDK carries its licence and registry metadata."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import polysdk
from polysdk import cli
from polysdk.decisions import package_words
from polysdk.decisions.package import GoModule, go_module, package
from polysdk.errors import UsageError
from polysdk.plan import Options

from .conftest import IN_CI, ROOT, SPEC, api_from_text, require_tool


def test_polysdk_runs_from_another_directory_with_the_embedded_contract(tmp_path: Path) -> None:
    if IN_CI:
        assert ROOT / "generators" not in Path(polysdk.__file__).parents, "CI must test the installed wheel"
    executable = shutil.which("polysdk")
    argv = [executable] if executable else [sys.executable, "-m", "polysdk"]
    result = subprocess.run(
        [*argv, "generate", "--out", "sdks", "--lang", "typescript"],
        cwd=tmp_path,
        # Where this test imported polysdk from (site-packages under nox), also for the child.
        env={**os.environ, "PYTHONPATH": str(Path(polysdk.__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    models = (tmp_path / "sdks" / "typescript" / "src" / "models.ts").read_text()
    assert "export type PlanStep =" in models


# Licences ----------------------------------------------------------------------------------------

TODO = """openapi: 3.1.0
info:
  title: Todo API
  version: "1"
  summary: Keep track of things to do
{license}paths:
  /todos:
    get:
      operationId: listTodos
      responses:
        "200":
          description: the todos
          content: {{application/json: {{schema: {{type: array, items: {{type: string}}}}}}}}
"""
LANGUAGES = ("go", "rust", "typescript")
URLS = {
    "repository": "https://github.com/acme/todo-sdks",
    "homepage": "https://todo.example",
    "documentation": "https://todo.example/docs/rust",
}


def _todo(license_yaml: str) -> str:
    return TODO.format(license=f"  license: {license_yaml}\n" if license_yaml else "")


@pytest.mark.parametrize(
    ("license_yaml", "spdx", "opening"),
    [
        ("{name: MIT License, identifier: MIT}", "MIT", "MIT License"),
        ("{name: Apache 2.0}", "Apache-2.0", "Apache License"),
        (
            "{name: 'Apache License, Version 2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0'}",
            "Apache-2.0",
            "Apache License",
        ),
        ("{name: BSD 3-Clause License}", "BSD-3-Clause", "BSD 3-Clause License"),
        ("{name: ISC}", "ISC", "ISC License"),
        ("{name: whatever, identifier: bsd-3-clause}", "BSD-3-Clause", "BSD 3-Clause License"),
    ],
)
def test_a_known_licence_of_the_contract_is_an_spdx_id_and_its_full_text(
    tmp_path: Path, license_yaml: str, spdx: str, opening: str
) -> None:
    decided = package(api_from_text(tmp_path, _todo(license_yaml)), Options(copyright="2026 Acme Inc."))
    assert decided.spdx == spdx and decided.warnings == ()
    assert decided.license_file is not None
    assert decided.license_file.template == f"common/licenses/{spdx}.txt.j2"
    text = (ROOT / "templates" / decided.license_file.template).read_text()
    assert text.lstrip().startswith(opening)
    if spdx != "Apache-2.0":  # the Apache licence names no holder in its text
        assert "{{ holder }}" in text and decided.license_file.context == {"holder": "2026 Acme Inc."}


def test_an_unknown_licence_is_named_with_its_url_and_warned_about(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, _todo("{name: Acme Source Licence 1.1, url: 'https://acme.example/l'}"))
    decided = package(api, Options())
    assert decided.spdx == ""  # not an SPDX id: Cargo.toml uses license-file, npm SEE LICENSE IN
    assert decided.license_file is not None
    assert decided.license_file.context == {
        "name": "Acme Source Licence 1.1",
        "url": "https://acme.example/l",
    }
    [warning] = decided.warnings
    assert warning.startswith("info.license: 'Acme Source Licence 1.1' is not a licence polysdk knows")
    # An SPDX id without a bundled text: the id in the manifests, a LICENSE naming it and linking SPDX.
    decided = package(api_from_text(tmp_path, _todo("{name: MPL, identifier: MPL-2.0}")), Options())
    assert decided.spdx == "MPL-2.0" and decided.license_file is not None
    assert decided.license_file.context["url"] == "https://spdx.org/licenses/MPL-2.0.html"
    assert "has no text for licence MPL-2.0" in decided.warnings[0]


def test_the_license_option_overrides_the_contract(tmp_path: Path) -> None:
    api = api_from_text(tmp_path, _todo("{name: Apache 2.0}"))
    decided = package(api, Options(license="mit"))
    assert decided.spdx == "MIT" and decided.warnings == ()
    with pytest.raises(UsageError, match="not an SPDX licence id"):
        package(api, Options(license="all rights; reserved"))
    with pytest.raises(UsageError, match=r"--repository 'git@github\.com:a/b' is not an http"):
        package(api, Options(repository="git@github.com:a/b"))


def _generate(tmp_path: Path, spec: str, *args: str) -> tuple[Path, list[str]]:
    contract = tmp_path / "todo.yaml"
    contract.write_text(spec)
    out = tmp_path / "sdks"
    result = subprocess.run(
        [sys.executable, "-m", "polysdk", "generate", str(contract), "--out", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out, result.stderr.splitlines()


def test_every_sdk_carries_the_licence_and_the_registry_metadata(tmp_path: Path) -> None:
    urls = [arg for key, value in URLS.items() for arg in (f"--{key}", value)]
    out, stderr = _generate(
        tmp_path, _todo("{name: MIT, identifier: MIT}"), "--copyright", "2026 Acme", *urls
    )
    assert not [line for line in stderr if line.startswith("warning:")]
    licences = {(out / language / "LICENSE").read_text() for language in LANGUAGES}
    assert len(licences) == 1  # the same file in every SDK
    [licence] = licences
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 Acme\n")
    cargo = tomllib.loads((out / "rust" / "Cargo.toml").read_text())["package"]
    assert cargo["license"] == "MIT" and "license-file" not in cargo
    assert cargo["description"] == "Rust SDK for the Todo API. Keep track of things to do."
    assert {key: cargo[key] for key in URLS} == URLS
    npm = json.loads((out / "typescript" / "package.json").read_text())
    assert npm["license"] == "MIT"
    assert npm["description"] == "TypeScript SDK for Todo API. Keep track of things to do."
    assert npm["repository"] == {"type": "git", "url": f"git+{URLS['repository']}.git"}
    assert npm["homepage"] == URLS["homepage"]


def test_without_any_licence_there_is_no_licence_and_one_warning(tmp_path: Path) -> None:
    out, stderr = _generate(tmp_path, _todo(""))
    warnings = [line for line in stderr if "info.license" in line]
    assert len(warnings) == 1 and "cannot be published" in warnings[0] and "--license" in warnings[0]
    assert not any((out / language / "LICENSE").exists() for language in LANGUAGES)
    cargo = tomllib.loads((out / "rust" / "Cargo.toml").read_text())["package"]
    assert "license" not in cargo and "license-file" not in cargo
    # No URL options: repository and homepage are left out, without a warning; the documentation
    # is docs.rs, which builds every crate published on crates.io.
    assert "repository" not in cargo and "homepage" not in cargo
    assert cargo["documentation"] == "https://docs.rs/todo-sdk"
    npm = json.loads((out / "typescript" / "package.json").read_text())
    assert not {"license", "repository", "homepage"} & set(npm)


def test_an_unknown_licence_points_the_manifests_at_the_licence_file(tmp_path: Path) -> None:
    out, stderr = _generate(tmp_path, _todo("{name: Acme Source Licence, url: 'https://acme.example/l'}"))
    assert sum("is not a licence polysdk knows" in line for line in stderr) == 1
    assert (out / "go" / "LICENSE").read_text() == (
        "This software is licensed under Acme Source Licence.\n\nThe licence's terms: https://acme.example/l\n"
    )
    cargo = tomllib.loads((out / "rust" / "Cargo.toml").read_text())["package"]
    assert cargo["license-file"] == "LICENSE" and "license" not in cargo
    npm = json.loads((out / "typescript" / "package.json").read_text())
    assert npm["license"] == "SEE LICENSE IN LICENSE"


@pytest.mark.parametrize("args", [["--license", "GPL 3"], ["--homepage", "todo.example"]])
def test_an_unusable_package_option_is_one_message_and_exit_2(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["generate", str(SPEC), "--out", str(tmp_path / "o"), "--lang", "go", *args]) == 2
    [line] = capsys.readouterr().err.splitlines()[:1]
    assert line.startswith(f"error: {args[0]} ")
    assert not (tmp_path / "o" / "go").exists()


@pytest.mark.toolchain
def test_cargo_publish_dry_run_has_no_metadata_warning(tmp_path: Path) -> None:
    """crates.io's checks on the generated crate: packaged and uploaded as a dry run (--no-verify:
    the crate's build is the compile tier's), with nothing to warn about its manifest."""
    cargo = require_tool("cargo")
    out, _ = _generate(
        tmp_path, _todo("{name: Apache 2.0}"), "--lang", "rust", "--repository", URLS["repository"]
    )
    result = subprocess.run(
        [cargo, "publish", "--dry-run", "--no-verify", "--allow-dirty"],
        cwd=out / "rust",
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: aborting upload due to dry run"], result.stderr


@pytest.mark.toolchain
def test_package_json_with_licence_and_urls_passes_publint(tmp_path: Path) -> None:
    tsc = str(Path(require_tool("tsc", env_var="POLYSDK_TSC")).resolve())
    publint = str(Path(require_tool("publint", env_var="POLYSDK_PUBLINT")).resolve())
    urls = [arg for key in ("repository", "homepage") for arg in (f"--{key}", URLS[key])]
    out, _ = _generate(tmp_path, _todo("{name: ISC}"), "--lang", "typescript", *urls)
    sdk = out / "typescript"
    for argv in ([tsc, "-p", "tsconfig.json"], [publint, "--strict"]):
        result = subprocess.run(argv, cwd=sdk, capture_output=True, text=True, check=False, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    said = (result.stdout + result.stderr).lower()
    assert "warning" not in said and "suggestion" not in said, result.stdout


# The Go module path ------------------------------------------------------------------------------


def _module(tmp_path: Path, spec: str, **options: str) -> tuple[GoModule, list[str]]:
    api = api_from_text(tmp_path, spec)
    return go_module(api, Options(**options), package_words(api))


def test_the_go_module_comes_from_the_option_the_contract_or_the_repository(tmp_path: Path) -> None:
    plain = _todo("{name: MIT}")
    declared = plain.replace('  version: "1"\n', '  version: "1"\n  x-go-module: example.com/todo/go\n')
    repository = "https://github.com/acme/todo-sdks.git"
    assert _module(tmp_path, declared, go_module="gitlab.com/a/b", repository=repository) == (
        GoModule("gitlab.com/a/b", "--go-module"),
        [],
    )
    assert _module(tmp_path, declared, repository=repository) == (
        GoModule("example.com/todo/go", "info.x-go-module"),
        [],
    )
    # The SDKs in the repository's root, as `--out` writes them: the Go SDK is its go/ folder.
    assert _module(tmp_path, plain, repository=repository) == (
        GoModule("github.com/acme/todo-sdks/go", "--repository"),
        [],
    )
    # Anything else: a local name, never a placeholder on someone else's host, and one warning.
    for repository in ("", "https://todo.example/sdks", "https://github.com/acme"):
        found, [warning] = _module(tmp_path, plain, repository=repository)
        assert found == GoModule("todo-sdk-go", "") and not found.published
        assert warning.startswith("go: no Go module path") and "replace" in warning
    found, [warning] = _module(tmp_path, plain.replace("  version", "  x-go-module: Not A Path\n  version"))
    assert found.path == "todo-sdk-go" and warning.startswith("info.x-go-module: 'Not A Path'")
    with pytest.raises(UsageError, match=r"--go-module 'todo' is not a Go module path"):
        _module(tmp_path, plain, go_module="todo")


@pytest.mark.toolchain
def test_go_list_names_the_module_and_the_readme_install_works_as_written(tmp_path: Path) -> None:
    """`go list -m` in the generated SDK prints the real module path; without one, the README's
    install command (a replace directive) is what a user's module runs, and it builds."""
    go = require_tool("go")
    out, _ = _generate(tmp_path, _todo("{name: MIT}"), "--lang", "go", "--repository", URLS["repository"])
    listed = subprocess.run([go, "list", "-m"], cwd=out / "go", capture_output=True, text=True, check=True)
    assert listed.stdout.strip() == "github.com/acme/todo-sdks/go"
    assert "go get github.com/acme/todo-sdks/go\n" in (out / "go" / "README.md").read_text()

    shutil.rmtree(out)
    out, stderr = _generate(tmp_path, _todo("{name: MIT}"), "--lang", "go")
    assert any(line.startswith("warning: go: no Go module path") for line in stderr)
    readme = (out / "go" / "README.md").read_text()
    assert "\ngo get " not in readme  # no command to fetch a module that is not published
    [install] = re.findall(r"```sh\n(go mod edit .*?)\n```", readme)
    app = tmp_path / "app"  # next to sdks/, as the README's ../sdks/go assumes
    app.mkdir()
    subprocess.run([go, "mod", "init", "example.com/app"], cwd=app, capture_output=True, check=True)
    subprocess.run(shlex.split(install), cwd=app, capture_output=True, check=True)
    # The README's first program, exactly as printed (its other blocks are the bodies of the
    # Example functions `go test` runs: test_sdk_go.py checks they are the same text).
    first = re.findall(r"```go\n(.*?)```", readme, flags=re.S)[0]
    (app / "main.go").write_text(first)
    ran = subprocess.run([go, "run", "."], cwd=app, capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    formatted = subprocess.run(
        [require_tool("gofmt"), "-l", "."], cwd=app, capture_output=True, text=True, check=True
    )
    assert formatted.stdout == ""


# npm: a fresh checkout packs and installs -----------------------------------------------------------


def _npm(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    npm = require_tool("npm")
    result = subprocess.run(
        [npm, "--no-audit", "--no-fund", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.toolchain
def test_npm_pack_and_a_folder_install_work_on_a_fresh_checkout(tmp_path: Path) -> None:
    """What a user does with the SDK's folder as generated, with no `npm install` in it first:
    `npm pack` builds the tarball with dist/, and `npm install <folder>` gives a consumer a built
    package that ESM `import` and CommonJS `require` both load (npm runs the `prepare` script for
    both, without installing the SDK's devDependencies: the script brings its own TypeScript)."""
    require_tool("node")
    out, _ = _generate(tmp_path, _todo("{name: MIT}"), "--lang", "typescript")
    sdk = out / "typescript"
    packed = json.loads(_npm(["pack", "--json", "--pack-destination", str(tmp_path)], sdk).stdout)
    files = {entry["path"] for entry in packed[0]["files"]}
    assert {"dist/index.js", "dist/index.d.ts", "package.json", "LICENSE", "README.md"} <= files
    assert not any(name.startswith(("node_modules/", "test/", "examples/")) for name in files)
    shutil.rmtree(sdk / "dist")  # the consumer's install must build it again

    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "app", "version": "1.0.0", "private": true}\n')
    _npm(["install", str(sdk)], app)
    assert (app / "node_modules" / "todo-sdk" / "dist" / "index.js").is_file()
    consumers = {
        "esm.mjs": 'import { TodoClient } from "todo-sdk";\nconsole.log(typeof TodoClient);\n',
        "cjs.cjs": 'const { TodoClient } = require("todo-sdk");\nconsole.log(typeof TodoClient);\n',
    }
    for name, code in consumers.items():
        (app / name).write_text(code)
        ran = subprocess.run(["node", name], cwd=app, capture_output=True, text=True, check=False, timeout=60)
        assert (ran.returncode, ran.stdout) == (0, "function\n"), f"{name}: {ran.stderr}"
