"""Checks on the three OpenAPI documents in specs/.

They validate, carry exactly the agreed operations, route every error through the API's own error
schema, and Immutable's operations match the vendor's published text field for field except for the
deliberate tightenings that the documents themselves describe.
"""

import copy
import json
import random
import re
from pathlib import Path

import jsonschema_rs
import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from tests.vendor_tables import tokenization_get_token_fields

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
VENDOR = ROOT / "tests" / "data" / "vendor"  # verbatim excerpts of the vendors' documents (see its README)
SEED_IMMUTABLE = VENDOR / "immutable-refresh-nft-metadata.md"
REFERENCE_IMMUTABLE = VENDOR / "immutable-nft-metadata.openapi.json"
REFERENCE_STACKED = VENDOR / "immutable-stacked-metadata.openapi.json"

API_NAMES = ("rair", "immutable", "tokenization")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

EXPECTED_OPERATION_IDS = {
    "rair": {"updateTokenMetadata", "getToken"},
    "immutable": {
        "RefreshNFTMetadataByTokenID", "GetNFT", "ListNFTs", "RefreshMetadataByID", "GetMetadata", "ListMetadata",
    },
    "tokenization": {"updateToken", "getToken"},
}

REFRESH_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/nfts/refresh-metadata"
GET_NFT_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/nfts/{token_id}"
LIST_NFTS_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/nfts"
GET_METADATA_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/metadata/{metadata_id}"
LIST_METADATA_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/metadata"
REFRESH_STACKED_PATH = "/v1/chains/{chain_name}/collections/{contract_address}/metadata/refresh-metadata"
UINT256_REF = "#/components/schemas/Uint256"
ADDRESS_PATTERN = "^0x[0-9a-fA-F]{40}$"
RATE_HEADERS_202 = {
    "imx-refreshes-limit",
    "imx-refresh-limit-reset",
    "imx-remaining-refreshes",
    "retry-after",
}
RATE_HEADERS_429 = {
    "imx-refreshes-limit",
    "imx-refresh-limit-reset",
    "imx-remaining-refreshes",
    "Retry-After",
}
ERROR_CODES = {
    "400": "VALIDATION_ERROR",
    "401": "UNAUTHORISED_REQUEST",
    "403": "AUTHENTICATION_ERROR",
    "404": "RESOURCE_NOT_FOUND",
    "429": "TOO_MANY_REQUESTS_ERROR",
    "500": "INTERNAL_SERVER_ERROR",
}
# Extensions copied from the vendor's own documents; nothing else may start with "x-".
ALLOWED_EXTENSIONS = {"x-displayName", "x-go-name"}


def uint256_pattern():
    """Return the regular expression for decimal integers 0 <= n < 2**256 without leading zeros."""
    limit = str(2**256)
    assert len(limit) == 78
    alternatives = ["0", "[1-9][0-9]{0,76}"]
    for i, digit in enumerate(limit):
        low = 1 if i == 0 else 0
        high = int(digit) - 1
        if high < low:
            continue
        choice = str(low) if high == low else f"[{low}-{high}]"
        rest = 77 - i
        tail = f"[0-9]{{{rest}}}" if rest > 1 else ("[0-9]" if rest == 1 else "")
        alternatives.append(limit[:i] + choice + tail)
    return "^(" + "|".join(alternatives) + ")$"


def load_spec(name):
    """Load one of the three documents as plain data."""
    return yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))


def load_seed_immutable():
    """Parse the OpenAPI YAML block between the ```` fences of the Immutable seed page."""
    text = SEED_IMMUTABLE.read_text(encoding="utf-8")
    match = re.search(r"^````yaml[^\n]*\n(.*?)\n````", text, re.S | re.M)
    assert match, "seed has no ````yaml block"
    return yaml.safe_load(match.group(1))


def load_reference_immutable():
    """Load the reference excerpt of Immutable's published OpenAPI document."""
    return json.loads(REFERENCE_IMMUTABLE.read_text(encoding="utf-8"))


def resolve(doc, node):
    """Return node with every local $ref replaced by its target, recursively."""
    if isinstance(node, dict):
        if "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target = doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(doc, target)
        return {key: resolve(doc, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(doc, item) for item in node]
    return node


def strip_descriptions(node, in_properties=False):
    """Drop `description` annotations (but not properties named `description`)."""
    if isinstance(node, dict):
        return {
            key: strip_descriptions(value, in_properties=(key == "properties" and not in_properties))
            for key, value in node.items()
            if not (key == "description" and not in_properties and isinstance(value, str))
        }
    if isinstance(node, list):
        return [strip_descriptions(item) for item in node]
    return node


def strip_tightenings(node):
    """Remove the deliberate tightenings and clarifications: Uint256 token ids, the contract_address pattern,
    and `null` listed in the nullable `display_type` enum."""
    node = copy.deepcopy(node)

    def walk(item):
        if isinstance(item, dict):
            if item.get("allOf") == [{"$ref": UINT256_REF}] and len(item) > 1:
                del item["allOf"]
            if item.get("nullable") is True and isinstance(item.get("enum"), list) and None in item["enum"]:
                item["enum"] = [value for value in item["enum"] if value is not None]
            if item.get("name") == "contract_address" and item.get("in") == "path":
                assert item["schema"].pop("pattern", ADDRESS_PATTERN) == ADDRESS_PATTERN
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    walk(node)
    return node


def normalised(doc, node):
    """Resolve, then drop tightenings and descriptions, so vendor and ours can be compared."""
    return strip_descriptions(resolve(strip_tightenings(doc), strip_tightenings(node)))


def assert_descriptions_extend(theirs, ours, where="", in_properties=False):
    """Assert every vendor description is kept, as the start of ours."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        for key, value in theirs.items():
            if key == "description" and not in_properties and isinstance(value, str):
                assert isinstance(ours.get(key), str), f"{where}: description dropped"
                assert ours[key].startswith(value.rstrip()), (
                    f"{where}: description does not start with {value!r}"
                )
            else:
                assert key in ours, f"{where}/{key} missing"
                assert_descriptions_extend(
                    value,
                    ours[key],
                    f"{where}/{key}",
                    in_properties=(key == "properties" and not in_properties),
                )
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        if where.endswith("/enum") and None in ours and None not in theirs:
            ours = [value for value in ours if value is not None]  # the nullable-enum clarification
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(theirs, ours, strict=True)):
            assert_descriptions_extend(a, b, f"{where}/{i}")


def operations(spec):
    """Yield (path, method, operation) for every operation of a document."""
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def walk_nodes(node, where=""):
    """Yield (where, key, value) for every mapping entry in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield where, key, value
            yield from walk_nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_nodes(value, f"{where}/{i}")


def property_names_and_required(doc, schema):
    """Collect property names and required names of a schema, through allOf."""
    schema = resolve(doc, schema)
    names, required = set(), set()
    stack = [schema]
    while stack:
        current = stack.pop()
        names |= set(current.get("properties", {}))
        required |= set(current.get("required", []))
        stack.extend(current.get("allOf", []))
    return names, required


def error_code_enum(doc, response):
    """Return the `code` enum of an Immutable error response."""
    schema = resolve(doc, response)["content"]["application/json"]["schema"]
    enums = [
        part["properties"]["code"]["enum"] for part in schema["allOf"] if "code" in part.get("properties", {})
    ]
    assert len(enums) == 1
    return enums[0]


@pytest.fixture(scope="module")
def specs():
    """Load the three documents once."""
    return {name: load_spec(name) for name in API_NAMES}


@pytest.fixture(scope="module")
def seed():
    """Load the Immutable seed's published spec once."""
    return load_seed_immutable()


@pytest.fixture(scope="module")
def reference():
    """Load the Immutable reference excerpt once."""
    return load_reference_immutable()


# --- all three documents -------------------------------------------------------------------------


@pytest.mark.parametrize("name", API_NAMES)
def test_spec_validates(name):
    """Each document is valid OpenAPI 3.0.3 according to openapi-spec-validator."""
    spec = load_spec(name)
    assert spec["openapi"] == "3.0.3"
    validate(spec)


@pytest.mark.parametrize("name", API_NAMES)
def test_operation_ids_are_exactly_the_agreed_ones(name, specs):
    """Each document has exactly the agreed operationIds, each once."""
    ids = [op["operationId"] for _, _, op in operations(specs[name])]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_OPERATION_IDS[name]


@pytest.mark.parametrize("name", API_NAMES)
def test_info_and_servers_are_honest(name, specs):
    """Each document has the agreed title and version, and one server at `/` naming the vendor's base URL."""
    expected = {
        "rair": ("RAIR token metadata", "3.0.0"),
        "immutable": ("Immutable zkEVM API", "1.0.0"),
        "tokenization": ("Tokenization TR admin API", "2.0.0"),
    }[name]
    spec = specs[name]
    assert (spec["info"]["title"], str(spec["info"]["version"])) == expected
    assert [server["url"] for server in spec["servers"]] == ["/"]
    assert "base URL" in spec["servers"][0]["description"]


@pytest.mark.parametrize("name", API_NAMES)
def test_no_foreign_extensions(name, specs):
    """No `x-` extension appears except the vendor's own x-displayName and x-go-name."""
    for where, key, _ in walk_nodes(specs[name]):
        if key.startswith("x-") and "/properties" not in where:
            assert key in ALLOWED_EXTENSIONS, f"{where}/{key}"


@pytest.mark.parametrize("name", API_NAMES)
def test_no_comma_separated_encoding_content_type(name, specs):
    """No `encoding.contentType` lists several media types (Connexion cannot handle that)."""
    for _, _, op in operations(specs[name]):
        for media in op.get("requestBody", {}).get("content", {}).values():
            for encoding in media.get("encoding", {}).values():
                assert "," not in encoding.get("contentType", "")


@pytest.mark.parametrize("name", API_NAMES)
def test_responses_with_bodies_are_json(name, specs):
    """Every response body is `application/json` and nothing else."""
    spec = specs[name]
    for _, _, op in operations(spec):
        for status, response in op["responses"].items():
            content = resolve(spec, response).get("content")
            if content is not None:
                assert list(content) == ["application/json"], status


@pytest.mark.parametrize(
    ("name", "error_schema"),
    [("rair", "RairError"), ("tokenization", "TokenizationError"), ("immutable", None)],
)
def test_error_responses_reference_the_api_error_schema(name, error_schema, specs):
    """Every 4xx/5xx response is a components.responses entry whose JSON body is the API's error schema."""
    spec = specs[name]
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            assert set(response) == {"$ref"}, f"{method} {path} {status} is not a $ref"
            assert response["$ref"].startswith("#/components/responses/")
            target = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            ref = target["content"]["application/json"]["schema"]["$ref"]
            expected = error_schema or f"APIError{status}"
            assert ref == f"#/components/schemas/{expected}", f"{method} {path} {status}"
            if name == "immutable":
                allof = spec["components"]["schemas"][expected]["allOf"]
                assert allof[0] == {"$ref": "#/components/schemas/BasicAPIError"}


@pytest.mark.parametrize("name", ["rair", "tokenization"])
def test_multipart_bodies_are_closed_objects(name, specs):
    """Every multipart body is an object with additionalProperties false and typed, inline file fields."""
    spec = specs[name]
    bodies = [
        op["requestBody"]["content"]["multipart/form-data"]
        for _, _, op in operations(spec)
        if "multipart/form-data" in op.get("requestBody", {}).get("content", {})
    ]
    assert bodies
    for media in bodies:
        schema = resolve(spec, media["schema"])
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False
        for prop in schema["properties"].values():
            assert "type" in prop  # Connexion reads the type of each form field directly
            if prop["type"] == "array" and prop["items"].get("format") == "binary":
                assert prop["items"] == {"type": "string", "format": "binary"}


@pytest.mark.parametrize(
    ("name", "scheme"),
    [
        ("rair", {"RairToken": {"type": "apiKey", "in": "header", "name": "x-rair-token"}}),
        ("tokenization", {"BearerAuth": {"type": "http", "scheme": "bearer"}}),
        ("immutable", {"ImmutableApiKey": {"type": "apiKey", "in": "header", "name": "x-immutable-api-key"}}),
    ],
)
def test_security_schemes_are_real_schemes(name, scheme, specs):
    """Credentials are security schemes, not header parameters."""
    spec = specs[name]
    for key, value in scheme.items():
        actual = spec["components"]["securitySchemes"][key]
        assert {k: actual[k] for k in value} == value
    for _, _, op in operations(spec):
        for param in op.get("parameters", []):
            assert param.get("in") != "header"


# --- RAIR ----------------------------------------------------------------------------------------


def test_rair_path_parameters(specs):
    """RAIR's path parameters are declared once, at path level, with the agreed schemas."""
    spec = specs["rair"]
    item = spec["paths"]["/api/nft/network/{networkId}/{contract}/{product}/token/{token}"]
    params = {p["name"]: p["schema"] for p in item["parameters"]}
    assert params == {
        "networkId": {"type": "string", "pattern": "^0x[0-9a-fA-F]+$"},
        "contract": {"type": "string", "pattern": ADDRESS_PATTERN},
        "product": {"type": "integer", "minimum": 0},
        "token": {"type": "integer", "minimum": 0},
    }
    for method in ("get", "post"):
        assert "parameters" not in item[method]
    # RAIR's server checks a session on the update only: the read is open (and 401 is not among its answers).
    assert item["post"]["security"] == [{"RairToken": []}]
    assert item["get"]["security"] == []
    assert "401" not in item["get"]["responses"]


def test_rair_update_body(specs):
    """RAIR's update body has the agreed fields, limits and the JSON encoding of attributes."""
    spec = specs["rair"]
    op = spec["paths"]["/api/nft/network/{networkId}/{contract}/{product}/token/{token}"]["post"]
    assert op["requestBody"]["required"] is True
    media = op["requestBody"]["content"]["multipart/form-data"]
    assert media["encoding"] == {"attributes": {"contentType": "application/json"}}
    schema = resolve(spec, media["schema"])
    assert schema["minProperties"] == 1
    assert "Nothing to update." in schema["description"]
    props = schema["properties"]
    assert set(props) == {
        "files",
        "name",
        "description",
        "artist",
        "external_url",
        "image",
        "animation_url",
        "attributes",
    }
    assert props["files"]["maxItems"] == 2
    for field in ("name", "description", "artist", "external_url", "image", "animation_url"):
        assert props[field]["type"] == "string"
        assert props[field]["minLength"] == 1
    assert "format" not in props["external_url"]
    assert props["attributes"]["items"] == {
        "type": "object",
        "additionalProperties": False,
        "properties": {"trait_type": {"type": "string"}, "value": {"type": "string"}},
        "required": ["trait_type", "value"],
    }


def test_rair_responses(specs):
    """RAIR's operations answer with the agreed status codes and success bodies."""
    spec = specs["rair"]
    item = spec["paths"]["/api/nft/network/{networkId}/{contract}/{product}/token/{token}"]
    assert set(item["post"]["responses"]) == {"200", "400", "401", "403", "404", "413", "415", "429", "500"}
    assert set(item["get"]["responses"]) == {"200", "400", "404", "429", "500"}
    # RAIR's server-wide limit: its draft-7 headers on the 429, in RAIR's error shape.
    too_many = resolve(spec, item["get"]["responses"]["429"])
    assert set(too_many["headers"]) == {"RateLimit", "RateLimit-Policy", "Retry-After"}
    assert too_many["content"]["application/json"]["schema"] == spec["components"]["schemas"]["RairError"]
    update = resolve(spec, item["post"]["responses"]["200"])["content"]["application/json"]["schema"]
    get = resolve(spec, item["get"]["responses"]["200"])["content"]["application/json"]["schema"]
    assert update["required"] == ["success", "token"]
    assert update["properties"]["success"]["enum"] == [True]
    assert get["required"] == ["success", "result"]
    assert get["properties"]["success"]["enum"] == [True]
    assert update["properties"]["token"] == get["properties"]["result"]
    forbidden = spec["components"]["responses"]["Forbidden"]["description"]
    assert "You have no permissions for updating token N." in forbidden
    error = spec["components"]["schemas"]["RairError"]
    assert error["properties"]["success"]["enum"] == [False]
    assert error["properties"]["error"]["enum"] == [True]
    assert set(error["required"]) == {"success", "error", "message"}


def test_rair_token_matches_the_seed_example(specs):
    """The Token schema accepts the seed's example token and requires its fields."""
    spec = specs["rair"]
    token = resolve(spec, spec["components"]["schemas"]["Token"])
    example = {
        "_id": "61489247656bf4001ef56e24",
        "metadataURI": "some  URL",
        "token": 1,
        "ownerAddress": "userAddress",
        "offerPool": 11,
        "offer": 0,
        "contract": "contractAddress",
        "uniqueIndexInContract": 1,
        "isMinted": True,
        "isURIStoredToBlockchain": True,
        "metadata": {
            "artist": "chrissweet",
            "external_url": "none",
            "name": "CoinAgenda Monaco 2021 #1",
            "description": "Stream the conference Link",
            "image": "coinagendamonaco1",
            "attributes": [{"trait_type": "Crystal Color", "value": "Pink"}],
        },
        "creationDate": "2021-09-20T13:53:11.567Z",
        "authenticityLink": "Link",
    }
    assert jsonschema_rs.is_valid(token, example)
    assert set(token["required"]) == set(example) - {"authenticityLink"}
    assert not jsonschema_rs.is_valid(token, {k: v for k, v in example.items() if k != "metadata"})


# --- Immutable: the refresh operation against the seed ------------------------------------------


def test_immutable_refresh_equals_seed_field_for_field(specs, seed):
    """The refresh operation equals the seed's, once tightenings and descriptions are set aside."""
    ours = specs["immutable"]
    ours_op = ours["paths"][REFRESH_PATH]["post"]
    seed_op = seed["paths"][REFRESH_PATH]["post"]
    assert set(ours["paths"][REFRESH_PATH]) == {"post"}
    assert normalised(ours, ours_op) == normalised(seed, seed_op)


def test_immutable_components_equal_seed(specs, seed):
    """Every seed component exists under the same name and equals it, tightenings and descriptions aside."""
    ours = specs["immutable"]
    for section, entries in seed["components"].items():
        for key, value in entries.items():
            assert key in ours["components"][section], f"{section}/{key} missing"
            assert normalised(ours, ours["components"][section][key]) == normalised(seed, value), (
                f"{section}/{key}"
            )


def test_immutable_keeps_seed_descriptions(specs, seed):
    """Every description of the seed's refresh operation and components is kept as the start of ours."""
    ours = specs["immutable"]
    assert_descriptions_extend(
        resolve(seed, seed["paths"][REFRESH_PATH]["post"]),
        resolve(ours, ours["paths"][REFRESH_PATH]["post"]),
        "refresh",
    )
    for section, entries in seed["components"].items():
        for key, value in entries.items():
            assert_descriptions_extend(
                resolve(seed, value), resolve(ours, ours["components"][section][key]), key
            )


def test_immutable_refresh_request_schema(specs, seed):
    """The refresh request has the seed's property names and required lists at every level."""
    ours = specs["immutable"]
    for schema in (
        "RefreshNFTMetadataByTokenIDRequest",
        "RefreshMetadataByTokenID",
        "RefreshableNFTAttributes",
        "NFTMetadataRequest",
        "NFTMetadataAttribute",
    ):
        assert property_names_and_required(ours, {"$ref": f"#/components/schemas/{schema}"}) == (
            property_names_and_required(seed, {"$ref": f"#/components/schemas/{schema}"})
        ), schema
    body = ours["paths"][REFRESH_PATH]["post"]["requestBody"]
    assert body["required"] is True
    assert list(body["content"]) == ["application/json"]
    items = ours["components"]["schemas"]["RefreshNFTMetadataByTokenIDRequest"]["properties"]["nft_metadata"]
    assert (items["minItems"], items["maxItems"]) == (1, 250)


def test_immutable_refresh_status_codes_headers_and_error_codes(specs, seed):
    """The refresh operation has the seed's status codes, rate headers and error code per status."""
    ours = specs["immutable"]
    ours_responses = ours["paths"][REFRESH_PATH]["post"]["responses"]
    seed_responses = seed["paths"][REFRESH_PATH]["post"]["responses"]
    assert set(ours_responses) == set(seed_responses) == {"202", "400", "401", "403", "404", "429", "500"}
    assert set(ours_responses["202"]["headers"]) == set(seed_responses["202"]["headers"]) == RATE_HEADERS_202
    ours_429 = resolve(ours, ours_responses["429"])
    assert (
        set(ours_429["headers"]) == set(resolve(seed, seed_responses["429"])["headers"]) == RATE_HEADERS_429
    )
    assert "a whole number of seconds, at least 1" in ours_429["description"]
    for status, code in ERROR_CODES.items():
        assert (
            error_code_enum(ours, ours_responses[status])
            == error_code_enum(seed, seed_responses[status])
            == [code]
        )
    assert ours["paths"][REFRESH_PATH]["post"]["security"] == [{"ImmutableApiKey": ["refresh:metadata"]}]
    body = resolve(ours, ours_responses["202"])["content"]["application/json"]["schema"]
    assert set(body["required"]) == {
        "imx_refreshes_limit",
        "imx_refresh_limit_reset",
        "imx_remaining_refreshes",
        "retry_after",
    }


def test_immutable_tightenings_are_in_place_and_described(specs):
    """contract_address has the address pattern and token ids use Uint256 everywhere, each described."""
    spec = specs["immutable"]
    for path in (REFRESH_PATH, GET_NFT_PATH, LIST_NFTS_PATH):
        op = next(iter(spec["paths"][path].values()))
        params = {p["name"]: p for p in op["parameters"]}
        address = params["contract_address"]
        assert address["schema"] == {"type": "string", "pattern": ADDRESS_PATTERN}
        assert ADDRESS_PATTERN in address["description"]
    get_token = {p["name"]: p for p in spec["paths"][GET_NFT_PATH]["get"]["parameters"]}["token_id"]
    assert get_token["schema"] == {"type": "string", "allOf": [{"$ref": UINT256_REF}]}
    list_token = {p["name"]: p for p in spec["paths"][LIST_NFTS_PATH]["get"]["parameters"]}["token_id"]
    assert list_token["schema"]["items"]["allOf"] == [{"$ref": UINT256_REF}]
    body_token = spec["components"]["schemas"]["RefreshMetadataByTokenID"]["allOf"][1]["properties"][
        "token_id"
    ]
    assert body_token == {
        "description": "An `uint256` token id as string",
        "type": "string",
        "example": "1",
        "allOf": [{"$ref": UINT256_REF}],
    }
    uint256 = spec["components"]["schemas"]["Uint256"]
    assert uint256["type"] == "string"
    assert "Tightening" in uint256["description"]


def test_immutable_rules_are_described(specs):
    """The refresh operation's description states the rules the schemas cannot express."""
    text = specs["immutable"]["paths"][REFRESH_PATH]["post"]["description"]
    for phrase in (
        "1 to 250 items",
        "228 KiB",
        "16 KiB",
        "same `token_id` twice",
        "VALIDATION_ERROR",
        "`details`",
        "UNAUTHORISED_REQUEST",
        "AUTHENTICATION_ERROR",
        "`refresh:metadata`",
        "RESOURCE_NOT_FOUND",
        "per project",
        "TOO_MANY_REQUESTS_ERROR",
        "2024-04-16 11:06:07.401553 +0000 UTC",
        "`0` while any refreshes remain",
        "asynchronous",
        "metadata_synced_at",
    ):
        assert phrase in text, phrase


# --- Immutable: the GET operations against the reference ----------------------------------------


@pytest.mark.parametrize("path", [GET_NFT_PATH, LIST_NFTS_PATH])
def test_immutable_gets_equal_reference_field_for_field(path, specs, reference):
    """GetNFT and ListNFTs equal the reference, tightenings and descriptions aside, and stay public."""
    ours = specs["immutable"]
    assert set(ours["paths"][path]) == {"get"}
    ours_op = ours["paths"][path]["get"]
    assert "security" not in ours_op
    assert ours["security"] == []
    ours_norm = normalised(ours, ours_op)
    ref_norm = normalised(reference, reference["paths"][path]["get"])
    # The one difference between seed and reference: BasicAPIError's `link` example; the seed wins.
    link = "https://docs.x.immutable.com/reference/#/"
    for response in ref_norm["responses"].values():
        for part in (
            response.get("content", {}).get("application/json", {}).get("schema", {}).get("allOf", [])
        ):
            if "link" in part.get("properties", {}):
                part["properties"]["link"]["example"] = link
    assert ours_norm == ref_norm
    assert_descriptions_extend(
        resolve(reference, reference["paths"][path]["get"]), resolve(ours, ours_op), path
    )


def _with_seed_link(node):
    """The one difference between seed and references: BasicAPIError's `link` example; the seed wins."""
    for response in node["responses"].values():
        for part in response.get("content", {}).get("application/json", {}).get("schema", {}).get("allOf", []):
            if "link" in part.get("properties", {}):
                part["properties"]["link"]["example"] = "https://docs.x.immutable.com/reference/#/"
    return node


@pytest.mark.parametrize(
    ("path", "method"),
    [(GET_METADATA_PATH, "get"), (LIST_METADATA_PATH, "get"), (REFRESH_STACKED_PATH, "post")],
)
def test_immutable_stacked_metadata_equals_reference_field_for_field(path, method, specs):
    """The three stacked metadata operations equal the vendor's published text, tightenings and descriptions
    aside, and keep every vendor description as the start of ours."""
    reference = json.loads(REFERENCE_STACKED.read_text(encoding="utf-8"))
    ours = specs["immutable"]
    assert set(ours["paths"][path]) == {method}
    ours_op = ours["paths"][path][method]
    ref_op = reference["paths"][path][method]
    # The vendor's Go code generator's annotations on `Address` are not kept (test_no_foreign_extensions).
    address = reference["components"]["schemas"]["Address"]
    assert address.pop("x-go-type") == "common.Address"
    assert address.pop("x-go-type-import")
    assert normalised(ours, ours_op) == _with_seed_link(normalised(reference, ref_op))
    assert_descriptions_extend(resolve(reference, ref_op), resolve(ours, ours_op), path)


def test_immutable_stacked_metadata_rules_are_described(specs):
    """The stacked refresh states its sizes, the 404 for an unknown id, the shared budget and the delay."""
    ours = specs["immutable"]
    text = ours["paths"][REFRESH_STACKED_PATH]["post"]["description"]
    for phrase in ("1 to 10 items", "228 KiB", "16 KiB", "twice", "does not have is 404", "same budget",
                   "immutable.rate_limit.shared", "asynchronous", "every NFT"):
        assert phrase in text, phrase
    assert "security" not in ours["paths"][GET_METADATA_PATH]["get"]
    assert "security" not in ours["paths"][LIST_METADATA_PATH]["get"]


# --- Immutable: the Uint256 pattern -------------------------------------------------------------


def test_uint256_pattern_is_the_generated_one(specs):
    """The Uint256 pattern in the document is exactly the one uint256_pattern() generates."""
    assert specs["immutable"]["components"]["schemas"]["Uint256"]["pattern"] == uint256_pattern()


def test_uint256_pattern_accepts_every_uint256():
    """The pattern accepts 0, 1, 2**256-1 and random values of every bit length."""
    pattern = re.compile(uint256_pattern())
    rng = random.Random(256)
    values = [0, 1, 9, 10, 2**256 - 1, 10**77, 10**77 - 1, 2**256 - 10]
    values += [rng.getrandbits(bits) for bits in range(1, 257) for _ in range(8)]
    values += [2**256 - 1 - rng.getrandbits(bits) for bits in range(1, 250) for _ in range(4)]
    for value in values:
        assert pattern.search(str(value)), value


def test_uint256_pattern_rejects_everything_else():
    """The pattern rejects 2**256 and above, leading zeros, signs, blanks and non-integers."""
    pattern = re.compile(uint256_pattern())
    rng = random.Random(257)
    bad = [
        str(2**256),
        str(10**78),
        str(2**256 + 1),
        str(2**257),
        "01",
        "00",
        "-1",
        "+1",
        "",
        "1.0",
        " 1",
        "1 ",
        "1e3",
        "0x1",
        "\uff11",
    ]
    bad += [str(2**256 + rng.getrandbits(bits)) for bits in range(1, 300) for _ in range(2)]
    bad += ["0" + str(rng.getrandbits(64)) for _ in range(50)]
    for value in bad:
        assert not pattern.search(value), value


def test_uint256_pattern_under_ecma_semantics(specs):
    """Under ECMA-262 semantics (jsonschema_rs) the schema also rejects a trailing newline."""
    schema = specs["immutable"]["components"]["schemas"]["Uint256"]
    assert jsonschema_rs.is_valid(schema, str(2**256 - 1))
    for value in ("1\n", str(2**256), "01", " 1"):
        assert not jsonschema_rs.is_valid(schema, value), value


# --- Tokenization --------------------------------------------------------------------------------


def test_tokenization_update(specs):
    """Tokenization's PUT has the agreed body, an empty 200 and the agreed error statuses."""
    spec = specs["tokenization"]
    item = spec["paths"]["/v2/admin/token/{token_id}"]
    assert [p["schema"] for p in item["parameters"]] == [{"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}]
    op = item["put"]
    assert op["security"] == [{"BearerAuth": []}]
    assert "--form oracle_code=IOG" in op["description"]
    assert set(op["responses"]) == {"200", "400", "401", "404", "413", "415", "500"}
    assert "content" not in op["responses"]["200"]
    assert op["responses"]["200"]["description"] == "Success: empty body"
    schema = resolve(spec, op["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert op["requestBody"]["required"] is True
    assert set(schema["required"]) == {"name", "description"}
    props = schema["properties"]
    assert set(props) == {
        "name",
        "description",
        "total_value",
        "currency_token_id",
        "salable_percentage",
        "images",
        "documents",
        "remove_image_ids",
        "remove_document_ids",
        "oracle_id",
        "oracle_code",
    }
    assert (props["salable_percentage"]["minimum"], props["salable_percentage"]["maximum"]) == (0, 100)
    assert props["total_value"]["minimum"] == 0
    ids = re.compile(props["remove_image_ids"]["pattern"])
    assert ids.search("")
    assert ids.search("a" * 24)
    assert ids.search("a" * 24 + "," + "0" * 24)
    assert not ids.search("a" * 24 + ",")
    assert not ids.search("a" * 23)


def _schema_at(spec, schema, path):
    """The schema of a dotted path in `schema` (`meta.images[]` is the items of meta.images)."""
    for part in path.split("."):
        schema = resolve(spec, schema)
        schema = resolve(spec, schema["properties"][part.removesuffix("[]")])
        if part.endswith("[]"):
            assert schema["type"] == "array", path
            schema = resolve(spec, schema["items"])
    return schema


def test_tokenization_details(specs):
    """Tokenization's GET returns TokenDetails with the agreed statuses and error body."""
    spec = specs["tokenization"]
    op = spec["paths"]["/v2/admin/token/{token_id}"]["get"]
    assert op["security"] == [{"BearerAuth": []}]
    assert set(op["responses"]) == {"200", "400", "401", "404", "500"}
    error = spec["components"]["schemas"]["TokenizationError"]
    assert set(error["required"]) == {"status", "message", "field"}
    assert error["properties"]["field"]["nullable"] is True


def test_tokenization_details_are_the_vendors_shape(specs):
    """Every field the vendor's "Get Token Details" page shows is in TokenDetails with the page's type (and required
    when that page shows it), and nothing is required that the page does not show."""
    spec = specs["tokenization"]
    details = resolve(spec, spec["components"]["schemas"]["TokenDetails"])
    vendor = tokenization_get_token_fields()
    assert len(vendor) >= 15, "the vendor's table was not read"
    documented = {field.path for field in vendor}
    for field in vendor:
        schema = _schema_at(spec, details, field.path)
        assert schema["type"] == field.kind, field.path
        if field.keys:
            assert set(schema["properties"]) == set(field.keys), field.path
            assert set(schema.get("required", [])) <= set(field.keys), field.path
        parent_path, _, name = field.path.rpartition(".")
        parent = _schema_at(spec, details, parent_path) if parent_path else details
        if not field.only_on_another_page:
            assert name.removesuffix("[]") in parent["required"], field.path
    roots = {path.split(".")[0].removesuffix("[]") for path in documented}
    assert set(details["required"]) <= roots
    assert set(details["properties"]) - roots == {"created_at", "updated_at"}  # the mock's own, optional
    assert set(_schema_at(spec, details, "value")["required"]) <= {p.split(".")[1] for p in documented
                                                                    if p.startswith("value.")}


def test_tokenization_examples_are_valid_details(specs):
    """The spec's own examples of a token's details pass its TokenDetails schema."""
    spec = specs["tokenization"]
    media = spec["paths"]["/v2/admin/token/{token_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    validator = OAS30Validator({**resolve(spec, media["schema"]), "components": spec["components"]},
                               format_checker=OAS30Validator.FORMAT_CHECKER)
    for name, example in media["examples"].items():
        validator.validate(example["value"])
        broken = copy.deepcopy(example["value"])
        broken["value"]["total_value"] = example["value"]["value"]["total_value"]["amount"]  # the old shape
        assert not validator.is_valid(broken), name


def test_immutable_nullable_enum_lists_null(specs):
    """display_type is nullable in the published spec; OpenAPI 3.0.3 needs null in the enum for that to hold."""
    attribute = specs["immutable"]["components"]["schemas"]["NFTMetadataAttribute"]["properties"]["display_type"]
    assert attribute["nullable"] is True
    assert None in attribute["enum"]
    assert "Deliberate clarification" in attribute["description"]
