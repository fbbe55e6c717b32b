"""Validation of real responses and webhook bodies against the repository's openapi.yaml
(OpenAPI 3.1 schemas are JSON Schema 2020-12)."""
from pathlib import Path

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
_ROOT = "urn:apicall:openapi"
_REGISTRY = Registry().with_resource(_ROOT, Resource(contents=SPEC, specification=DRAFT202012))


def _validate(schema, instance):
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{_ROOT}#{schema}"} if isinstance(schema, str) else schema,
        registry=_REGISTRY, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def schema(name, instance):
    """Validates `instance` against components/schemas/<name>."""
    _validate(f"/components/schemas/{name}", instance)


def webhook(name, body):
    _validate(f"/webhooks/{name}/post/requestBody/content/application~1json/schema", body)


def response(path, method, status, body):
    """Validates a JSON response body against what the spec declares for it. A method the path
    does not declare must be answered with the spec's MethodNotAllowed response."""
    ops = SPEC["paths"][path]
    if method.lower() not in ops:
        assert status == 405, f"{method} {path} answered {status}, not 405"
        _validate("/components/responses/MethodNotAllowed/content/application~1json/schema", body)
        return
    declared = ops[method.lower()]["responses"].get(str(status))
    assert declared is not None, f"{method} {path} answered {status}, which the spec does not declare"
    if "$ref" in declared:
        target = declared["$ref"].lstrip("#") + "/content/application~1json/schema"
    else:
        assert "application/json" in declared.get("content", {}), f"{method} {path} {status}: no JSON body declared"
        target = (f"/paths/{path.replace('/', '~1')}/{method.lower()}/responses/{status}"
                  "/content/application~1json/schema")
    _validate(target, body)


def http_response(path, method, r):
    """Validates a whole response (status, Content-Type, body): a JSON body against its schema,
    any other body only by its media type, which the spec must declare for that status (the
    audio of answer.php)."""
    media = r.headers.get("Content-Type", "").split(";")[0].strip()
    if media == "application/json":
        import json
        response(path, method, r.status, json.loads(r.body))
        return
    declared = SPEC["paths"][path].get(method.lower(), {}).get("responses", {}).get(str(r.status))
    assert declared is not None, f"{method} {path} answered {r.status}, which the spec does not declare"
    assert media in declared.get("content", {}), (
        f"{method} {path} {r.status} is {media!r}; the spec declares {list(declared.get('content', {}))}")
    assert r.body, f"{method} {path} {r.status}: empty {media} body"
