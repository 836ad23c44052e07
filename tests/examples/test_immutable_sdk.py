"""Immutable's own TypeScript client (examples/immutable-sdk) against a real mock server.

Needs `node` and `npm` on PATH; `npm ci` runs once and is cached in the example's `node_modules/` (keyed by
the lockfile's hash). Skipped, saying why, when node or npm is missing or npm cannot reach its registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.testing import MockServer

pytestmark = [pytest.mark.network, pytest.mark.timeout(600)]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "immutable-sdk"
NODE_MODULES = EXAMPLE / "node_modules"
STAMP = NODE_MODULES / ".installed-from-lock.sha256"
NPM_CI_TIMEOUT = 420
RUN_TIMEOUT = 120

CHAIN = "imtbl-zkevm-testnet"
COLLECTION = "0x8a90cab2b38dba80c64b7734e58ee1db38b8992e"
METADATA_ID = "4e28df8d-f65c-4c11-ba04-6a9dd47b179b"  # the fixtures' stacked metadata, carried by NFTs 4 and 5
RATE_FIELDS = ("imx_refreshes_limit", "imx_refresh_limit_reset", "imx_remaining_refreshes", "retry_after")

# npm's ways of saying it could not reach the registry (no network, proxy, DNS, offline cache miss).
NPM_OFFLINE = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED|"
    r"network|socket hang up|proxy|getaddrinfo|\b50[234]\b",
    re.IGNORECASE,
)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not on PATH: the Immutable SDK example needs Node.js 20.11+ and npm")
    return path


@pytest.fixture(scope="module")
def example() -> Path:
    """The example with its pinned dependencies installed (`npm ci`, skipped when the lockfile is unchanged)."""
    node = _tool("node")
    npm = _tool("npm")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < 20:
        pytest.skip(f"Node.js {version.stdout.strip()} is too old for @imtbl/generated-clients (needs 20.11+)")

    lock = hashlib.sha256((EXAMPLE / "package-lock.json").read_bytes()).hexdigest()
    if not (STAMP.is_file() and STAMP.read_text().strip() == lock):
        try:
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=EXAMPLE, capture_output=True, text=True,
                timeout=NPM_CI_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"`npm ci` did not finish in {NPM_CI_TIMEOUT} s (no or slow access to the npm registry?)")
        if installed.returncode != 0:
            output = (installed.stdout + installed.stderr).strip()
            lines = output.splitlines()
            # npm's summary lines (`npm error code ECONNREFUSED`, `npm error network request to ... failed`).
            summary = [line for line in lines if re.match(r"npm (error|ERR!) (code|errno|network|request)", line)]
            why = "\n".join(summary[:6] or lines[-15:])
            if NPM_OFFLINE.search(output):
                pytest.skip(f"`npm ci` could not reach the npm registry:\n{why}")
            pytest.fail(f"`npm ci` failed (exit {installed.returncode}):\n{why}")
        STAMP.write_text(lock)
    return EXAMPLE


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A mock server on the wall clock (responses checked against the specs) on a free port of 127.0.0.1."""
    with MockServer(http=True, settings={"validate_responses": True}) as server:
        yield server.base_url


def _run(example: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(example / "node_modules" / ".bin" / args[0]), *args[1:]], cwd=example, capture_output=True,
            text=True, timeout=RUN_TIMEOUT, env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`{' '.join(args)}` did not finish in {RUN_TIMEOUT} s; stdout so far: {exc.stdout!r}")


def test_the_script_compiles_against_the_sdk_types(example: Path) -> None:
    checked = _run(example, "tsc", "--noEmit", "--pretty", "false")

    assert checked.returncode == 0, f"tsc --noEmit:\n{checked.stdout}{checked.stderr}"


def test_the_sdk_refreshes_and_reads_back_what_its_types_promise(example: Path, base_url: str) -> None:
    name = "Sword renamed by the Immutable SDK test"
    stacked_name = "Helmet renamed by the Immutable SDK test"

    ran = _run(example, "tsx", "refresh-and-read.ts",
               env={"MOCK_URL": base_url, "NFT_NAME": name, "STACKED_NAME": stacked_name,
                    "REFRESH_TIMEOUT_MS": "5000", "HTTP_TIMEOUT_MS": "10000"})

    assert ran.returncode == 0, f"exit {ran.returncode}\nstdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    out: dict[str, Any] = json.loads(ran.stdout)
    assert out["ok"] is True
    assert out["problems"] == []
    # The published Metadata schema requires `external_link` without listing it, so the SDK's model lacks it.
    assert out["keys_the_sdk_does_not_declare"] == ["$.stacked_metadata.result.external_link"]
    assert out["sdk"]["package"] == "@imtbl/generated-clients"
    refresh = out["refresh"]
    assert refresh["status"] == 202
    assert all(isinstance(refresh["body"][field], str) for field in RATE_FIELDS), refresh["body"]
    assert refresh["headers"] == {field.replace("_", "-"): refresh["body"][field] for field in RATE_FIELDS}
    assert refresh["body"]["retry_after"] == "0"
    nft = out["nft"]["result"]
    assert (nft["token_id"], nft["contract_address"], nft["chain"]["name"]) == ("1", COLLECTION, CHAIN)
    assert nft["name"] == name
    assert nft["attributes"] == [{"trait_type": "Damage", "value": 11, "display_type": "number"},
                                 {"trait_type": "Material", "value": "steel"}]
    assert nft["metadata_synced_at"] is not None
    # The SDK's request type lets a refresh item leave out metadata keys; the spec (and so the mock) does not.
    partial = out["partial_item"]
    assert partial["status"] == 400
    assert partial["body"]["code"] == "VALIDATION_ERROR"
    assert partial["body"]["details"] == {"field": "nft_metadata.0.description"}
    # Stacked metadata, refreshed as `refreshStackedMetadata` does, read back with each NFT carrying it.
    assert out["stacked_refresh"]["status"] == 202
    assert int(out["stacked_refresh"]["body"]["imx_remaining_refreshes"]) == (
        int(refresh["body"]["imx_remaining_refreshes"]) - 1)
    stacked = out["stacked_metadata"]["result"]
    assert (stacked["id"], stacked["name"]) == (METADATA_ID, stacked_name)
    assert stacked["updated_at"] is not None
    assert out["carriers"] == [{"token_id": "4", "name": stacked_name}, {"token_id": "5", "name": stacked_name}]
    # The server's own state agrees with what the SDK read.
    read = httpx.get(f"{base_url}/v1/chains/{CHAIN}/collections/{COLLECTION}/nfts/1", timeout=10)
    assert read.json()["result"]["name"] == name
    carried = httpx.get(f"{base_url}/v1/chains/{CHAIN}/collections/{COLLECTION}/nfts/4", timeout=10)
    assert carried.json()["result"]["name"] == stacked_name


def test_the_script_refuses_to_run_without_mock_url(example: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MOCK_URL"}
    ran = subprocess.run([str(example / "node_modules" / ".bin" / "tsx"), "refresh-and-read.ts"], cwd=example,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)

    assert ran.returncode == 2
    assert "MOCK_URL" in ran.stderr
